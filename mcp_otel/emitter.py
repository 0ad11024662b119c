"""What a root handler and every handler bound from it share: provider, loggers, counters, shutdown.

* **Loggers.** One SDK Logger per instrumentation scope (the MCP logger name). A server chooses
  logger names freely and the SDK keeps every Logger forever, so past ``MAX_SCOPE_NAMES`` distinct
  names (and for names longer than ``MAX_SCOPE_NAME_LENGTH``, cut) records use the default scope.
* **Counting.** Every record ends in one outcome of ``mcp_otel.accounting``. With the pipeline this
  package builds, the delivery queue counts admission and export; with a provider passed in (or the
  global one) a record handed to it counts as exported; with ``OTEL_LOGS_EXPORTER=none``, as filtered.
* **One cleaning.** The conversion walk already gave every attribute the form the SDK's
  ``BoundedAttributes`` would clean it into, so an exact SDK ``Logger`` gets a ``ReadWriteLogRecord``
  whose attributes are that dict, as the SDK's own ``BoundedAttributes.__deepcopy__`` does, instead
  of cleaning them a second time (3-10 us a record, bench/bench_handler.py). Only where the SDK
  would change nothing: no value-length limit, no more attributes than its count limit; anything
  else, or an SDK whose internals differ, takes ``Logger.emit``'s own path.
* **Bounded waits.** ``flush`` and ``shutdown`` return within their timeout even when a collector
  hangs: the SDK's own ``force_flush`` ignores its timeout (opentelemetry-python#4568), so a provider
  not built here is flushed from a helper thread that is waited for at most that long.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable
from typing import Any, cast

from opentelemetry._logs import Logger, LoggerProvider, SeverityNumber
from opentelemetry._logs import LogRecord as APILogRecord
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
from opentelemetry.sdk._logs import Logger as SDKLogger
from opentelemetry.sdk._logs import LogRecordLimits, ReadWriteLogRecord
from opentelemetry.util.types import AnyValue

from mcp_otel._version import __version__
from mcp_otel.accounting import Accounting
from mcp_otel.delivery import Delivery

__all__ = ["DEFAULT_SCOPE_NAME", "DEFAULT_SHUTDOWN_TIMEOUT_MILLIS", "MAX_SCOPE_NAMES", "MAX_SCOPE_NAME_LENGTH", "Emitter"]

DEFAULT_SCOPE_NAME = "mcp_otel"
MAX_SCOPE_NAMES = 256
MAX_SCOPE_NAME_LENGTH = 256
DEFAULT_SHUTDOWN_TIMEOUT_MILLIS = 5_000

_internal_log = logging.getLogger("mcp_otel")
_UNKNOWN: Any = object()


class Emitter:
    """The shared state of one pipeline; see the module docstring."""

    def __init__(
        self,
        provider: LoggerProvider,
        *,
        source: str,
        delivery: Delivery | None = None,
        accounting: Accounting | None = None,
        owns_provider: bool = False,
        exports_nothing: bool = False,
    ) -> None:
        self.provider = provider
        self.source = source
        self.delivery = delivery
        self.accounting = accounting or Accounting()
        self.owns_provider = owns_provider
        self.exports_nothing = exports_nothing
        self.is_shut_down = False
        self.default_logger: Logger = provider.get_logger(DEFAULT_SCOPE_NAME, __version__)
        self._loggers_by_name: dict[str, Logger] = {}
        # clean_attribute_limits of each logger emitted on: at most the scopes and the default one,
        # and a logger's limits are fixed when it is made.
        self._clean_limits: dict[Logger, LogRecordLimits | None] = {}
        self._warned: set[str] = set()
        if owns_provider:
            # Flush at interpreter exit too, within the same bound as an explicit shutdown(), which
            # unregisters this so that a shut-down pipeline is not kept alive by the hook.
            atexit.register(self.shutdown_at_exit)

    def logger_for(self, name: str) -> Logger | None:
        """The Logger whose scope is ``name``; None once ``MAX_SCOPE_NAMES`` names are taken."""
        logger = self._loggers_by_name.get(name)
        if logger is None:
            with self.accounting.lock:
                logger = self._loggers_by_name.get(name)
                if logger is None:
                    if len(self._loggers_by_name) >= MAX_SCOPE_NAMES:
                        return None
                    logger = self.provider.get_logger(name)
                    self._loggers_by_name[name] = logger
        return logger

    def emit(
        self,
        logger: Logger,
        size: int,
        timestamp: int,
        observed_timestamp: int,
        severity_number: SeverityNumber,
        severity_text: str | None,
        body: AnyValue,
        attributes: dict[str, AnyValue],
        context: Context | None = None,
    ) -> None:
        """Hand one record to the provider, and count its outcome (the queue counts its own).

        Positional on the hot path (keywords cost ~0.08 us a call here).

        ``attributes`` must be the conversion walk's output (``mcp_otel.conversion``): the record
        may keep that very dict, so the caller must not change it afterwards.
        """
        delivery = self.delivery
        if delivery is not None:
            delivery.next_record_size(size)
        limits = self._clean_limits.get(logger, _UNKNOWN)
        if limits is _UNKNOWN:
            limits = self._clean_limits[logger] = clean_attribute_limits(logger)
        if limits is not None and limits.max_log_record_attributes is not None:
            if len(attributes) > limits.max_log_record_attributes:
                limits = None  # the SDK drops and counts what is past its count limit: its own path
        record = APILogRecord(
            timestamp=timestamp,
            observed_timestamp=observed_timestamp,
            context=context,
            severity_number=severity_number,
            severity_text=severity_text,
            body=body,
            attributes=attributes if limits is None else None,
        )
        if limits is None:
            logger.emit(record)  # the SDK cleans the attributes, as for any record
        else:
            sdk_logger = cast(SDKLogger, logger)
            writable = ReadWriteLogRecord(
                log_record=record,
                resource=sdk_logger.resource,
                instrumentation_scope=sdk_logger.instrumentation_scope,
                limits=limits,
            )
            # Empty here (the record had no attributes): it takes ours as they are; see the module docstring.
            writable.log_record.attributes._dict = attributes  # type: ignore[union-attr]
            sdk_logger.emit(writable)  # type: ignore[arg-type]  # its isinstance check takes it as is
        if delivery is None:
            self.accounting.count_exported_directly()

    def warn_once(self, key: str, message: str) -> None:
        """Log ``message`` as a warning the first time ``key`` is seen on this pipeline."""
        with self.accounting.lock:
            if key in self._warned:
                return
            self._warned.add(key)
        _internal_log.warning(message)

    def flush(self, timeout_millis: float) -> bool:
        """Export what was emitted so far, waiting at most ``timeout_millis``; False when that ran out."""
        if self.is_shut_down:
            return True
        if self.delivery is not None:
            return self.delivery.force_flush(int(timeout_millis))
        flush: Callable[..., Any] = getattr(self.provider, "force_flush", lambda *arguments: True)
        return run_bounded(lambda: flush(int(timeout_millis)), timeout_millis)

    def shutdown(self, timeout_millis: float) -> None:
        """Flush, then shut down the provider if this pipeline built it; bounded; idempotent."""
        with self.accounting.lock:
            if self.is_shut_down:
                return
            self.is_shut_down = True
        if self.owns_provider:
            atexit.unregister(self.shutdown_at_exit)
            if self.delivery is not None:
                self.delivery.shutdown(int(timeout_millis))
            shutdown: Callable[[], Any] = getattr(self.provider, "shutdown", lambda: None)
            run_bounded(shutdown, 1_000)  # the delivery queue is down already: this only closes the rest
        else:
            flush: Callable[..., Any] = getattr(self.provider, "force_flush", lambda *arguments: True)
            run_bounded(lambda: flush(int(timeout_millis)), timeout_millis)
        self.accounting.report_drops()

    def shutdown_at_exit(self) -> None:
        self.shutdown(DEFAULT_SHUTDOWN_TIMEOUT_MILLIS)


def _sdk_keeps_attributes_as_given() -> bool:
    """Whether this SDK's ``ReadWriteLogRecord`` holds attributes in a ``BoundedAttributes`` dict.

    Checked once, at import: a later SDK that stores them otherwise makes every record take
    ``Logger.emit``'s own path.
    """
    try:
        probe = ReadWriteLogRecord(APILogRecord(), limits=LogRecordLimits())
        attributes = probe.log_record.attributes
        return type(attributes) is BoundedAttributes and type(attributes._dict) is dict and not attributes._dict
    except Exception:
        return False


_KEEPS_ATTRIBUTES = _sdk_keeps_attributes_as_given()


def clean_attribute_limits(logger: Logger) -> LogRecordLimits | None:
    """The SDK limits of ``logger`` when a converted record's attributes can go in uncleaned, else None.

    That is an exact SDK ``Logger`` with no attribute value-length limit: the conversion walk gives
    values exactly what ``BoundedAttributes`` would (its lists become the SDK's tuples, which encode
    the same), so cleaning them again changes nothing. The count limit is checked per record.
    """
    if not _KEEPS_ATTRIBUTES or type(logger) is not SDKLogger:
        return None
    limits = getattr(logger, "_log_record_limits", None)
    if type(limits) is not LogRecordLimits or limits.max_log_record_attribute_length is not None:
        return None
    return limits


def run_bounded(work: Callable[[], Any], timeout_millis: float) -> bool:
    """Run ``work`` in a daemon thread and wait for it at most ``timeout_millis``.

    True when it finished in time and did not return False or raise.
    """
    outcome: list[bool] = []

    def run() -> None:
        try:
            result = work()
        except Exception:
            _internal_log.exception("mcp_otel: flushing the export pipeline failed")
            result = False
        outcome.append(result is not False)

    worker = threading.Thread(target=run, name="mcp_otel-flush", daemon=True)
    worker.start()
    worker.join(max(timeout_millis, 0) / 1000)
    return bool(outcome and outcome[0])
