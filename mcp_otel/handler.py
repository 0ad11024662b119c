"""``OTelLogHandler``: the MCP logging callback that emits one OTel LogRecord per message.

The handler is awaited inline by the MCP client's receive loop, so it does no I/O and never
blocks: it converts the message (``mcp_otel.conversion``) and hands the record to the SDK; the
delivery queue (``mcp_otel.delivery``) exports from its own thread. Nothing it meets in a message
makes it raise into the session; an internal failure is counted and logged once.

A handler is immutable: ``bind()`` returns a new one on the same pipeline (provider, loggers,
counters). Attributes you give (``attributes=``, ``bind()``) always win over what a server says
about itself (``mcp_otel.connection``), which wins over a server's own ``extra`` keys.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, overload

import anyio.to_thread
from opentelemetry._logs import LoggerProvider, SeverityNumber, get_logger_provider
from opentelemetry.sdk._logs import LoggerProvider as SDKLoggerProvider
from opentelemetry.util.types import AnyValue

from mcp_otel.accounting import Accounting, DropReason, Stats
from mcp_otel.attributes import LOG_IOSTREAM, LOGGER_NAME, TRUNCATED
from mcp_otel.attribution import Attribution
from mcp_otel.conversion import (
    APPLICATION_LIMITS,
    ConversionLimits,
    convert_text_record,
    converted_message_fields,
    to_otel_value,
)
from mcp_otel.emitter import DEFAULT_SHUTDOWN_TIMEOUT_MILLIS, MAX_SCOPE_NAME_LENGTH, Emitter
from mcp_otel.levels import LoggingLevel, parse_level, severity_for_level
from mcp_otel.pipeline import build_emitter, sdk_disabled
from mcp_otel.redaction import rules_from_environment
from mcp_otel.span_events import SpanEvents, add_current_span_event, span_events_from_environment
from mcp_otel.trace_context import context_from_meta

if TYPE_CHECKING:
    from typing_extensions import Self

    from mcp_otel.stderr_parsing import StderrEntry
    from mcp_otel.stderr_reader import StderrCapture

__all__ = ["OTelLogHandler"]

_ABSENT = object()


class OTelLogHandler:
    """An MCP logging callback (``logging_callback=`` / FastMCP's ``log_handler=``) exporting to OTel.

    Where records go: ``logger_provider`` when given; else the application's global SDK
    LoggerProvider when one is set (never shut down by this handler); else one built from the
    ``OTEL_*`` environment (``mcp_otel.pipeline``), which :meth:`shutdown` shuts down.
    ``attributes`` are added to every record. ``min_level`` drops less severe messages
    client-side (levels outside the eight are never dropped by it). ``span_events=True`` (default:
    ``MCP_OTEL_SPAN_EVENTS``) also records each message as an ``mcp.log`` span event: on its
    request's span when the message comes with an attribution (``mcp_otel.span_events``), else on
    the span current where the handler runs, when that span is recording. ``limits`` caps what one untrusted message may cost. With
    ``OTEL_SDK_DISABLED=true`` the handler does nothing at all.
    """

    __slots__ = (
        "_attributes", "_emitter", "_explicit", "_limits", "_min_severity", "_nested", "_reported", "_span_events"
    )

    def __init__(
        self,
        logger_provider: LoggerProvider | None = None,
        *,
        attributes: Mapping[str, Any] | None = None,
        min_level: LoggingLevel | None = None,
        span_events: bool | None = None,
        limits: ConversionLimits | None = None,
    ) -> None:
        self._span_events: SpanEvents | None = None
        # The default limits with the redaction rules of MCP_OTEL_REDACT_* (ConfigurationError if bad).
        self._limits = limits if limits is not None else ConversionLimits(redaction=rules_from_environment(os.environ))
        self._explicit: dict[str, AnyValue] = _clean_attributes(attributes)
        self._reported: dict[str, AnyValue] = {}
        self._attributes = self._explicit
        self._nested = _holds_containers(self._attributes)
        self._min_severity = 0 if min_level is None else severity_for_level(parse_level(min_level, "min_level")).value
        self._emitter: Emitter | None = None
        if sdk_disabled():
            return
        if span_events if span_events is not None else span_events_from_environment():
            self._span_events = SpanEvents()
        if logger_provider is not None:
            self._emitter = Emitter(logger_provider, source="given")
            return
        global_provider = get_logger_provider()
        if isinstance(global_provider, SDKLoggerProvider):
            self._emitter = Emitter(global_provider, source="global")
        else:
            self._emitter = build_emitter()

    # ---------------------------------------------------------------- deriving handlers

    def bind(self, **attributes: Any) -> OTelLogHandler:
        """A new handler on the same pipeline (provider, loggers, counters) that also adds ``attributes``.

        Cheap: no provider, thread or exporter is created. Keys with dots go in as
        ``handler.bind(**{"mcp.server.name": "weather"})``. The new attributes win over this
        handler's, and any attribute given explicitly wins over what a server reports.
        """
        return self._derive(explicit={**self._explicit, **_clean_attributes(attributes)})

    def _derive(
        self,
        *,
        explicit: dict[str, AnyValue] | None = None,
        reported: Mapping[str, Any] | None = None,
        min_level: LoggingLevel | None = None,
    ) -> OTelLogHandler:
        """A copy with other attributes or a higher ``min_level`` (``mcp_otel.connection`` uses it)."""
        derived = object.__new__(OTelLogHandler)
        derived._emitter = self._emitter
        derived._limits = self._limits
        derived._span_events = self._span_events
        derived._explicit = self._explicit if explicit is None else explicit
        derived._reported = self._reported if reported is None else _clean_attributes(reported)
        derived._attributes = {**derived._reported, **derived._explicit}
        derived._nested = _holds_containers(derived._attributes)
        derived._min_severity = self._min_severity
        if min_level is not None:
            derived._min_severity = max(self._min_severity, severity_for_level(parse_level(min_level, "level")).value)
        return derived

    @property
    def attributes(self) -> Mapping[str, AnyValue]:
        """What this handler adds to every record (a read-only view)."""
        return dict(self._attributes)

    @property
    def logger_provider(self) -> LoggerProvider | None:
        """The provider records go to (None when ``OTEL_SDK_DISABLED=true``)."""
        return None if self._emitter is None else self._emitter.provider

    def __repr__(self) -> str:
        source = "disabled" if self._emitter is None else self._emitter.source
        return f"OTelLogHandler(provider={source}, attributes={self._attributes!r})"

    # ---------------------------------------------------------------- handling messages

    async def __call__(self, params: Any) -> None:
        """Emit one MCP log message: mcp's ``LoggingFnT`` and FastMCP's ``LogHandler``."""
        self.handle(params)

    def handle(self, params: Any, attribution: Attribution | None = None) -> None:
        """Synchronous form of ``await handler(params)``: convert and hand over; never raises.

        ``params`` is mcp's ``LoggingMessageNotificationParams`` (1.x or 2.x), FastMCP's
        ``LogMessage``, or the raw JSON-RPC ``params`` mapping. ``attribution`` is the request
        tracker's decision for it (``mcp_otel.attribution``): the record then gets the request's
        trace context and attributes, or the ``mcp_otel.unattributed`` mark (counted).
        """
        emitter = self._emitter
        if emitter is None:
            return
        try:
            if emitter.is_shut_down:
                emitter.accounting.count_dropped("shutdown")
                return
            # mcp's and FastMCP's message objects first: isinstance(..., Mapping) costs ~0.1 us of ~10.
            data = getattr(params, "data", _ABSENT) if type(params) is not dict else _ABSENT
            if data is _ABSENT and isinstance(params, Mapping):
                level, data, logger_name, meta = (
                    params.get("level"), params.get("data"), params.get("logger"), params.get("_meta")
                )
            else:
                level, logger_name, meta = (
                    getattr(params, "level", None), getattr(params, "logger", None), getattr(params, "meta", None)
                )
                if data is _ABSENT:
                    data = None
            if emitter.exports_nothing or (
                self._min_severity
                and (severity := severity_for_level(level)) is not SeverityNumber.UNSPECIFIED
                and severity.value < self._min_severity
            ):
                emitter.accounting.count_filtered()
                return
            self._emit(emitter, level, data, logger_name, meta, attribution)
        except Exception as error:
            emitter.accounting.count_internal_error(error)

    def _emit(
        self, emitter: Emitter, level: Any, data: Any, logger_name: Any, meta: Any, attribution: Attribution | None
    ) -> None:
        now = time.time_ns()
        severity_number, severity_text, body, attributes, truncated, estimated_size = converted_message_fields(
            level, data, self._limits
        )
        # ``attributes`` is the walk's own new dict (the record keeps it): completed in place.
        if self._attributes:
            attributes.update(self._own_attributes())
        if logger_name is None:
            logger = emitter.default_logger
        else:
            scope_name = logger_name if type(logger_name) is str else str(to_otel_value(logger_name))
            if len(scope_name) > MAX_SCOPE_NAME_LENGTH:
                scope_name = scope_name[:MAX_SCOPE_NAME_LENGTH]
                truncated = True
            logger = emitter.logger_for(scope_name) or emitter.default_logger
            if logger is emitter.default_logger:
                attributes[LOGGER_NAME] = scope_name
        if truncated:
            attributes[TRUNCATED] = True
        if attribution is None:
            resolved = None
            context = context_from_meta(meta) if meta else None
        else:
            resolved = attribution.resolve(meta)
            context = resolved.context
            attributes.update(resolved.attributes)
            if not resolved.certain:
                emitter.accounting.count_unattributed()
        if self._span_events is not None:  # first: the record may keep ``attributes`` as they are
            if resolved is None:
                add_current_span_event(body, severity_text, attributes)
            else:
                self._span_events.add(resolved, body, severity_text, attributes)
        # logger, size, timestamp, observed timestamp, severity number and text, body, attributes, context
        emitter.emit(logger, estimated_size, now, now, severity_number, severity_text, body, attributes, context)

    def _own_attributes(self) -> dict[str, AnyValue]:
        """This handler's attributes for one record to keep: the record may keep them as they are
        (``mcp_otel.emitter``), so maps and lists in them are the record's own copies, as the SDK's
        cleaning would make them, and a processor that changes one changes no other record."""
        return _copied(self._attributes) if self._nested else self._attributes

    # ---------------------------------------------------------------- standard error

    @overload
    def capture_stderr(self, *, echo: bool = False, fallback_name: str | None = None) -> StderrCapture: ...

    @overload
    def capture_stderr(self, **attributes: Any) -> StderrCapture: ...  # a typed ** of dotted names

    def capture_stderr(
        self, *, echo: bool = False, fallback_name: str | None = None, **attributes: Any
    ) -> StderrCapture:
        """A writable file for a stdio server's standard error, whose lines become records.

        Pass it as mcp's ``stdio_client(server, errlog=...)``, FastMCP's ``StdioTransport(log_file=...)``
        or ``subprocess``'s ``stderr=`` (it has a real ``fileno()``, the write end of a pipe). Each
        logical record (``mcp_otel.stderr_parsing``) is emitted through this handler, bound with
        ``attributes``, with ``log.iostream = "stderr"``. ``with handler.capture_stderr() as errlog``
        gives the same object; closing it reads to the end and emits the last record. ``echo=True``
        also copies every byte to this process's own standard error. Records are held (briefly)
        until the server's name is known: given here, or taught by ``errlog.learn(...)``, else
        ``fallback_name``. See ``mcp_otel.stderr_reader``.
        """
        from mcp_otel.stderr_reader import StderrCapture

        return StderrCapture(self.bind(**attributes) if attributes else self, echo=echo, fallback_name=fallback_name)

    def _handle_entry(self, entry: StderrEntry, observed_ns: int) -> None:
        """Emit one record read from standard error; counted like a message; never raises.

        Severity, body, timestamp and logger come from the entry (the line's own time is the
        Timestamp, else the receipt time; ``observed_ns`` is the receipt time); its fields become
        attributes by the same conversion, caps and redaction as a message's ``extra``.
        """
        emitter = self._emitter
        if emitter is None:
            return
        try:
            if emitter.is_shut_down:
                emitter.accounting.count_dropped("shutdown")
                return
            if emitter.exports_nothing or (
                self._min_severity and 0 < entry.severity_number < self._min_severity
            ):
                emitter.accounting.count_filtered()
                return
            severity_number, severity_text, body, attributes, truncated, estimated_size = convert_text_record(
                entry.severity_number, entry.severity_text, entry.body, entry.attributes, self._limits
            )
            attributes = {**attributes, **self._own_attributes(), LOG_IOSTREAM: "stderr"}
            logger = emitter.default_logger
            if entry.logger:
                scope_name = entry.logger[:MAX_SCOPE_NAME_LENGTH]
                truncated = truncated or len(scope_name) < len(entry.logger)
                logger = emitter.logger_for(scope_name) or emitter.default_logger
                if logger is emitter.default_logger:
                    attributes[LOGGER_NAME] = scope_name
            if truncated or entry.truncated:
                attributes[TRUNCATED] = True
            timestamp = entry.timestamp_ns if entry.timestamp_ns is not None else observed_ns
            emitter.emit(logger, estimated_size, timestamp, observed_ns, severity_number, severity_text, body, attributes)
        except Exception as error:
            emitter.accounting.count_internal_error(error)

    # ---------------------------------------------------------------- counts, flush, shutdown

    def _count_dropped(self, reason: DropReason, count: int = 1) -> None:
        """Count messages that never reached ``handle`` (the proxy's full queue, an unparseable line)."""
        if self._emitter is not None:
            self._emitter.accounting.count_dropped(reason, count)

    def _count_internal_error(self, error: BaseException) -> None:
        if self._emitter is not None:
            self._emitter.accounting.count_internal_error(error)

    def stats(self) -> Stats:
        """What became of the messages this handler's pipeline received (shared with bound handlers).

        See ``mcp_otel.accounting`` for each count; ``received == exported + queued + filtered +
        sum(dropped.values())`` always holds. A disabled handler reports zeros.
        """
        if self._emitter is None:
            return Accounting().snapshot()
        return self._emitter.accounting.snapshot()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export everything emitted so far; False when ``timeout_millis`` passed first. Blocks the thread."""
        if self._emitter is None:
            return True
        if self._span_events is not None:
            self._span_events.flush(timeout_millis)
        return self._emitter.flush(timeout_millis)

    async def aflush(self, timeout_millis: int = 30_000) -> bool:
        """``force_flush`` without blocking the event loop: the wait runs in a worker thread."""
        if self._emitter is None:
            return True
        return await anyio.to_thread.run_sync(self.force_flush, timeout_millis, abandon_on_cancel=True)

    def shutdown(self, timeout_millis: int = DEFAULT_SHUTDOWN_TIMEOUT_MILLIS) -> None:
        """Flush, then shut down the provider if this handler built it. Idempotent. Blocks the thread.

        Returns within ``timeout_millis`` (default 5 s) even when the collector hangs: what is not
        exported by then is counted in ``stats()["dropped"]["shutdown"]``.
        """
        if self._emitter is not None:
            if self._span_events is not None:
                self._span_events.flush(timeout_millis)
                self._span_events.shutdown()
            self._emitter.shutdown(timeout_millis)

    async def ashutdown(self, timeout_millis: int = DEFAULT_SHUTDOWN_TIMEOUT_MILLIS) -> None:
        """``shutdown`` without blocking the event loop."""
        if self._emitter is not None:
            await anyio.to_thread.run_sync(self.shutdown, timeout_millis, abandon_on_cancel=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.shutdown()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.ashutdown()


def _holds_containers(attributes: Mapping[str, AnyValue]) -> bool:
    return any(isinstance(value, (dict, list, tuple)) for value in attributes.values())


def _copied(value: Any) -> Any:
    """``value`` with every map and list in it a new one (values are already clean)."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copied(item) for item in value]
    return value


def _clean_attributes(attributes: Mapping[str, Any] | None) -> dict[str, AnyValue]:
    if not attributes:
        return {}
    # The application's own attributes: converted like a server's values, but never redacted.
    cleaned = to_otel_value(dict(attributes), APPLICATION_LIMITS)
    assert isinstance(cleaned, dict)
    return cleaned


