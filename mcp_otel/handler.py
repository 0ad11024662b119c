"""``OTelLogHandler``: the async MCP logging callback that emits one OTel LogRecord per message.

The handler is awaited inline by the MCP client's receive loop, so it does no I/O and never
blocks: it converts the message (``mcp_otel.conversion``) and hands the record to the SDK,
whose ``BatchLogRecordProcessor`` exports from its own thread. Nothing it meets in a message
makes it raise into the session; an internal failure is counted and reported through Python
``logging`` (once with its traceback, then only in ``stats()``).
"""

from __future__ import annotations

import atexit
import itertools
import json
import logging
import threading
import time
from collections.abc import Coroutine, Generator, Mapping
from types import TracebackType
from typing import Any

from opentelemetry._logs import Logger, SeverityNumber, get_logger_provider
from opentelemetry.sdk._logs import LoggerProvider as SDKLoggerProvider
from opentelemetry.context import Context
from opentelemetry.trace import get_current_span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AnyValue

from mcp_otel._version import __version__
from mcp_otel.accounting import ExportAccounting
from mcp_otel.conversion import (
    DEFAULT_LIMITS,
    SEVERITY_NUMBER_BY_LEVEL,
    ConversionLimits,
    TRUNCATED_ATTRIBUTE,
    record_fields,
    severity_for_level,
    to_otel_value,
)
from mcp_otel.pipeline import build_logger_provider, sdk_disabled

__all__ = ["DEFAULT_SCOPE_NAME", "LOGGER_NAME_ATTRIBUTE", "MAX_SCOPE_NAMES", "OTelLogHandler"]

DEFAULT_SCOPE_NAME = "mcp_otel"
# A server chooses logger names freely; the SDK caches one Logger per name forever. Past this
# many distinct names, records use the default scope and carry the name in an attribute.
MAX_SCOPE_NAMES = 256
MAX_SCOPE_NAME_LENGTH = 256  # longer logger names are cut (and the record marked truncated)
DEFAULT_SHUTDOWN_TIMEOUT_MILLIS = 5_000
LOGGER_NAME_ATTRIBUTE = "mcp_otel.logger"

_internal_log = logging.getLogger("mcp_otel")


class _Pipeline:
    """What every handler bound from one root handler shares: the provider, loggers and counters."""

    def __init__(
        self, provider: SDKLoggerProvider | Any, owns_provider: bool, source: str, accounting: ExportAccounting | None = None
    ) -> None:
        self.provider = provider
        self.accounting = accounting
        self.owns_provider = owns_provider
        self.source = source
        self.default_logger: Logger = provider.get_logger(DEFAULT_SCOPE_NAME, __version__)
        self.loggers_by_name: dict[str, Logger] = {}
        self.lock = threading.Lock()
        # itertools.count: next() is one C call, atomic under the GIL, so the hot path needs no
        # lock even with two threads emitting (the proxy's message and standard error relays).
        self.received = itertools.count()
        self.filtered = itertools.count()
        self.failed = 0
        self.is_shut_down = False
        self.warned: set[str] = set()

    def logger_for(self, name: str) -> Logger | None:
        """The Logger whose scope is ``name``; None once the distinct-name budget is spent."""
        logger = self.loggers_by_name.get(name)
        if logger is None:
            with self.lock:
                if len(self.loggers_by_name) >= MAX_SCOPE_NAMES:
                    return None
                logger = self.provider.get_logger(name)
                self.loggers_by_name[name] = logger
        return logger

    def record_failure(self, error: BaseException) -> None:
        with self.lock:
            self.failed += 1
            first = self.failed == 1
        if first:
            _internal_log.error(
                "mcp_otel: converting or emitting an MCP log message failed; the message was dropped. "
                "Further failures are only counted (handler.stats()['dropped']['internal_error']).",
                exc_info=error,
            )

    def shutdown(self, timeout_millis: float) -> None:
        """Flush, then shut down the provider if this pipeline built it; bounded; idempotent."""
        with self.lock:
            if self.is_shut_down:
                return
            self.is_shut_down = True
        if self.owns_provider:
            atexit.unregister(self.shutdown_at_exit)
            _run_bounded(self.provider.shutdown, timeout_millis)  # the batch processor flushes first
        else:
            _run_bounded(self.provider.force_flush, timeout_millis)
        if self.accounting is not None:
            self.accounting.is_shut_down = True
            self.accounting.report_drops()

    def shutdown_at_exit(self) -> None:
        self.shutdown(DEFAULT_SHUTDOWN_TIMEOUT_MILLIS)


class OTelLogHandler:
    """An MCP logging callback (``logging_callback=`` / FastMCP's ``log_handler=``) exporting to OTel.

    Where records go: ``logger_provider`` when given; else the application's global SDK
    LoggerProvider when one is set (never shut down by this handler); else one built from the
    ``OTEL_*`` environment (see ``mcp_otel.pipeline``), which :meth:`shutdown` shuts down.
    ``attributes`` are added to every record and win over a server's ``extra`` keys of the
    same name. ``min_level`` (an MCP level) drops less severe messages client-side; levels
    outside the eight are never dropped by it. ``span_events=True`` also records each message
    as an ``mcp.log`` event on the span current where the handler runs, when that span is
    recording. With ``OTEL_SDK_DISABLED=true`` the handler does nothing at all.
    """

    def __init__(
        self,
        logger_provider: Any | None = None,
        *,
        attributes: Mapping[str, Any] | None = None,
        min_level: str | None = None,
        span_events: bool = False,
        limits: ConversionLimits = DEFAULT_LIMITS,
    ) -> None:
        self._span_events = span_events
        self._limits = limits
        self._attributes: dict[str, AnyValue] = _clean_attributes(attributes)
        self._min_severity = _min_severity(min_level)
        self._disabled = sdk_disabled()
        self._pipeline: _Pipeline | None = None
        if self._disabled:
            return
        if logger_provider is not None:
            self._pipeline = _Pipeline(logger_provider, owns_provider=False, source="given")
            return
        global_provider = get_logger_provider()
        if isinstance(global_provider, SDKLoggerProvider):
            self._pipeline = _Pipeline(global_provider, owns_provider=False, source="global")
        else:
            accounting = ExportAccounting()
            provider = build_logger_provider(accounting=accounting)
            self._pipeline = _Pipeline(provider, owns_provider=True, source="environment", accounting=accounting)
            # Flush at interpreter exit too, within the same bound as an explicit shutdown()
            # (which unregisters this, so a shut-down pipeline is not kept alive).
            atexit.register(self._pipeline.shutdown_at_exit)

    def bind(self, **attributes: Any) -> OTelLogHandler:
        """A handler on the same pipeline (provider, loggers, counters) adding ``attributes``.

        Cheap: no provider, thread or exporter is created. Keys with dots go in as
        ``handler.bind(**{"mcp.server.name": "weather"})``. The bound handler's attributes win
        over this handler's, which win over a server's ``extra``.
        """
        bound = object.__new__(OTelLogHandler)
        bound.__dict__.update(self.__dict__)
        bound._attributes = {**self._attributes, **_clean_attributes(attributes)}
        return bound

    def update_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Add ``attributes`` to this handler's own set (not to handlers bound from it earlier).

        For attributes known only after the handler is installed, such as what the server
        said in the handshake: install ``handler.bind()``, connect, then update it.
        """
        self._attributes = {**self._attributes, **_clean_attributes(attributes)}

    def narrow_to(self, min_level: str | None) -> None:
        """Raise this handler's ``min_level`` to ``min_level`` (never lowers it)."""
        self._min_severity = max(self._min_severity, _min_severity(min_level))

    def warn_once(self, key: str, message: str) -> None:
        """Log ``message`` as a warning the first time ``key`` is seen on this pipeline."""
        pipeline = self._pipeline
        if pipeline is not None and key not in pipeline.warned:
            pipeline.warned.add(key)
            _internal_log.warning(message)

    def __repr__(self) -> str:
        source = "disabled" if self._pipeline is None else self._pipeline.source
        return f"OTelLogHandler(provider={source}, attributes={self._attributes!r})"

    @property
    def logger_provider(self) -> Any | None:
        """The provider records go to (None when ``OTEL_SDK_DISABLED=true``)."""
        return None if self._pipeline is None else self._pipeline.provider

    def __call__(self, params: Any) -> Coroutine[Any, Any, None]:
        """Emit one MCP log message: mcp's ``LoggingFnT`` and FastMCP's ``LogHandler``.

        The work is done here, synchronously (it never blocks); what is returned is an already
        finished awaitable, which costs a fraction of a coroutine (the handler runs once per
        message, inside the client's receive loop).
        """
        self.handle(params)
        return _FINISHED

    def handle(self, params: Any) -> None:
        """Synchronous form of ``await handler(params)``: convert and hand over; never raises."""
        pipeline = self._pipeline
        if pipeline is None or pipeline.is_shut_down:
            return
        next(pipeline.received)
        try:
            if isinstance(params, Mapping):  # the proxy's raw JSON-RPC params
                level, data, logger_name, meta = (
                    params.get("level"), params.get("data"), params.get("logger"), params.get("_meta")
                )
            else:
                level, data = getattr(params, "level", None), getattr(params, "data", None)
                logger_name, meta = getattr(params, "logger", None), getattr(params, "meta", None)
            if self._min_severity:
                severity = severity_for_level(level)
                if severity is not SeverityNumber.UNSPECIFIED and severity.value < self._min_severity:
                    next(pipeline.filtered)
                    return
            self._emit(pipeline, level, data, logger_name, meta)
        except Exception as error:
            pipeline.record_failure(error)

    def _emit(self, pipeline: _Pipeline, level: Any, data: Any, logger_name: Any, meta: Any) -> None:
        now = time.time_ns()
        severity_number, severity_text, body, attributes, truncated, estimated_size = record_fields(
            level, data, self._limits
        )
        # May be the message's own extra dict: never changed in place, only merged into new ones
        # (the SDK copies attributes into its own record anyway).
        if self._attributes:
            attributes = {**attributes, **self._attributes}
        if logger_name is None:
            logger = pipeline.default_logger
        else:
            scope_name = logger_name if type(logger_name) is str else str(to_otel_value(logger_name))
            if len(scope_name) > MAX_SCOPE_NAME_LENGTH:
                scope_name = scope_name[:MAX_SCOPE_NAME_LENGTH]
                truncated = True
            logger = pipeline.logger_for(scope_name) or pipeline.default_logger
            if logger is pipeline.default_logger:
                attributes = {**attributes, LOGGER_NAME_ATTRIBUTE: scope_name}
        if truncated:
            attributes = {**attributes, TRUNCATED_ATTRIBUTE: True}
        context = _trace_context_from_meta(meta) if meta else None
        accounting = pipeline.accounting
        if accounting is None:
            logger.emit(
                timestamp=now, observed_timestamp=now, context=context, severity_number=severity_number,
                severity_text=severity_text, body=body, attributes=attributes,
            )
        else:
            # Admission and the emit under one lock: another thread (the proxy's standard error
            # relay) cannot fill the queue in between, so the SDK never drops on its own.
            with accounting.lock:
                admitted = accounting.admit_locked(estimated_size)
                if admitted:
                    try:
                        logger.emit(
                            timestamp=now, observed_timestamp=now, context=context,
                            severity_number=severity_number, severity_text=severity_text,
                            body=body, attributes=attributes,
                        )
                    except BaseException:
                        accounting.unadmit_locked()
                        raise
            if not admitted:
                accounting.report_drops_now_and_then()
                return
        if self._span_events:
            _add_span_event(body, severity_text, attributes)

    def stats(self) -> dict[str, Any]:
        """What happened to the messages this handler's pipeline received (shared with bound handlers).

        ``received``: messages the handler was called with; ``filtered``: below ``min_level``;
        ``exported``: acknowledged by the collector; ``queued``: waiting in the batch queue or
        in an export; ``dropped``: by reason (``queue_full``, ``export_failed``, ``shutdown``,
        ``internal_error``). ``exported``/``queued`` and the first three reasons are known only
        for a pipeline the handler built itself; for a given or global provider they are None.
        """
        pipeline = self._pipeline
        if pipeline is None:
            dropped = {"queue_full": 0, "export_failed": 0, "shutdown": 0, "internal_error": 0}
            return {"received": 0, "filtered": 0, "exported": 0, "queued": 0, "dropped": dropped}
        if pipeline.accounting is None:
            export: dict[str, Any] = {
                "exported": None,
                "queued": None,
                "dropped": {"queue_full": None, "export_failed": None, "shutdown": None},
            }
        else:
            export = pipeline.accounting.snapshot()
        with pipeline.lock:
            export["dropped"]["internal_error"] = pipeline.failed
        return {"received": _count_of(pipeline.received), "filtered": _count_of(pipeline.filtered), **export}

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export everything emitted so far; False when ``timeout_millis`` passed first.

        The SDK's own force_flush ignores its timeout (opentelemetry-python#4568), so it runs in
        a helper thread that this call waits for at most ``timeout_millis``.
        """
        pipeline = self._pipeline
        if pipeline is None or pipeline.is_shut_down:
            return True
        return _run_bounded(lambda: bool(pipeline.provider.force_flush(timeout_millis)), timeout_millis)

    def shutdown(self, timeout_millis: int = DEFAULT_SHUTDOWN_TIMEOUT_MILLIS) -> None:
        """Flush, then shut down the provider if this handler built it. Idempotent.

        Returns within ``timeout_millis`` (default 5 s) even when the collector hangs: what is
        not exported by then is counted in ``stats()["dropped"]["shutdown"]``.
        """
        if self._pipeline is not None:
            self._pipeline.shutdown(timeout_millis)

    def __enter__(self) -> OTelLogHandler:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.shutdown()

    async def __aenter__(self) -> OTelLogHandler:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.shutdown()


class _Finished(Coroutine[Any, None, None]):
    """A coroutine that has already returned None: ``await`` on it finishes at once."""

    __slots__ = ()

    def send(self, value: Any) -> None:
        raise StopIteration

    def throw(self, *args: Any) -> None:
        raise StopIteration

    def close(self) -> None:
        pass

    def __await__(self) -> Generator[None, None, None]:
        return iter(())  # type: ignore[return-value]


_FINISHED = _Finished()
_TRACE_CONTEXT = TraceContextTextMapPropagator()


def _trace_context_from_meta(meta: Any) -> Context | None:
    """The W3C trace context a server stamped into ``params._meta``, when it is valid.

    ``meta`` is a dict in mcp 2.x and the proxy, a pydantic model with the extra keys as
    attributes in mcp 1.x.
    """
    if isinstance(meta, Mapping):
        traceparent, tracestate = meta.get("traceparent"), meta.get("tracestate")
    else:
        traceparent, tracestate = getattr(meta, "traceparent", None), getattr(meta, "tracestate", None)
    if type(traceparent) is not str:
        return None
    carrier = {"traceparent": traceparent}
    if type(tracestate) is str:
        carrier["tracestate"] = tracestate
    context = _TRACE_CONTEXT.extract(carrier=carrier)
    return context if get_current_span(context).get_span_context().is_valid else None


def _add_span_event(body: AnyValue, severity_text: str | None, attributes: Mapping[str, AnyValue]) -> None:
    span = get_current_span()
    if not span.is_recording():
        return
    event_attributes: dict[str, Any] = {
        key: value for key, value in attributes.items() if isinstance(value, (str, bool, int, float))
    }
    event_attributes["log.severity"] = severity_text or ""
    event_attributes["log.message"] = body if isinstance(body, str) else json.dumps(body, default=str)
    span.add_event("mcp.log", event_attributes)


def _count_of(counter: itertools.count[int]) -> int:
    """How many times ``next`` was called on a fresh ``itertools.count()``: its repr is ``count(N)``."""
    return int(repr(counter)[len("count(") : -1])


def _run_bounded(work: Any, timeout_millis: float) -> Any:
    """Run ``work`` in a daemon thread and wait at most ``timeout_millis``.

    Returns ``work``'s result (True for None), or False when it failed or was still running.
    """
    outcome: list[Any] = []

    def run() -> None:
        try:
            result = work()
        except Exception:
            _internal_log.exception("mcp_otel: flushing the export pipeline failed")
            result = False
        outcome.append(True if result is None else result)

    worker = threading.Thread(target=run, name="mcp_otel-flush", daemon=True)
    worker.start()
    worker.join(max(timeout_millis, 0) / 1000)
    return outcome[0] if outcome else False


def _min_severity(min_level: str | None) -> int:
    if min_level is None:
        return 0
    if min_level not in SEVERITY_NUMBER_BY_LEVEL:
        raise ValueError(f"min_level={min_level!r}: expected one of {', '.join(SEVERITY_NUMBER_BY_LEVEL)}")
    return SEVERITY_NUMBER_BY_LEVEL[min_level].value


def _clean_attributes(attributes: Mapping[str, Any] | None) -> dict[str, AnyValue]:
    if not attributes:
        return {}
    # The application's own attributes: converted like a server's values, but never redacted.
    cleaned = to_otel_value(dict(attributes), _APPLICATION_ATTRIBUTE_LIMITS)
    assert isinstance(cleaned, dict)
    return cleaned


_APPLICATION_ATTRIBUTE_LIMITS = ConversionLimits(redacted_keys=frozenset())
