"""What a root handler and every handler bound from it share: provider, loggers, counters, shutdown.

* **Loggers.** One SDK Logger per instrumentation scope (the MCP logger name). A server chooses
  logger names freely and the SDK keeps every Logger forever, so past ``MAX_SCOPE_NAMES`` distinct
  names (and for names longer than ``MAX_SCOPE_NAME_LENGTH``, cut) records use the default scope.
* **Counting.** Every record ends in one outcome of ``mcp_otel.accounting``. With the pipeline this
  package builds, the delivery queue counts admission and export; with a provider passed in (or the
  global one) a record handed to it counts as exported; with ``OTEL_LOGS_EXPORTER=none``, as filtered.
* **Bounded waits.** ``flush`` and ``shutdown`` return within their timeout even when a collector
  hangs: the SDK's own ``force_flush`` ignores its timeout (opentelemetry-python#4568), so a provider
  not built here is flushed from a helper thread that is waited for at most that long.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable
from typing import Any

from opentelemetry._logs import Logger, LoggerProvider

from mcp_otel._version import __version__
from mcp_otel.accounting import Accounting
from mcp_otel.delivery import Delivery

__all__ = ["DEFAULT_SCOPE_NAME", "DEFAULT_SHUTDOWN_TIMEOUT_MILLIS", "MAX_SCOPE_NAMES", "MAX_SCOPE_NAME_LENGTH", "Emitter"]

DEFAULT_SCOPE_NAME = "mcp_otel"
MAX_SCOPE_NAMES = 256
MAX_SCOPE_NAME_LENGTH = 256
DEFAULT_SHUTDOWN_TIMEOUT_MILLIS = 5_000

_internal_log = logging.getLogger("mcp_otel")


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

    def emit(self, logger: Logger, size: int, **fields: Any) -> None:
        """Hand one record to the provider, and count its outcome (the queue counts its own)."""
        delivery = self.delivery
        if delivery is not None:
            delivery.next_record_size(size)
            logger.emit(**fields)
        else:
            logger.emit(**fields)
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
