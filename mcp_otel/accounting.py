"""What became of every message a handler received: exact counts, one lock, one summary warning.

Every message a handler is called with ends in exactly one outcome, counted under ``lock``:

======================  ===========================================================================
outcome                 when
======================  ===========================================================================
``filtered``            below the handler's ``min_level``, or ``OTEL_LOGS_EXPORTER=none``
``exported``            the collector acknowledged it (for a provider passed in, or the global one:
                        handed to that provider, which keeps its own export counts)
``queued``              waiting in the delivery queue, or in an export or its retries
``dropped[reason]``     ``queue_full`` (the queue's record or byte budget was spent),
                        ``export_failed`` (the collector refused it for good, or retries ran out),
                        ``shutdown`` (arrived after shutdown, or still queued when it ended),
                        ``internal_error`` (a bug: counted, logged once), ``unparseable`` (a line the
                        proxy could not read as JSON-RPC)
======================  ===========================================================================

A record read from a server's standard error (``mcp_otel.stderr_reader``) is one message; a
standard-error item the proxy's full export queue drops counts once per line it holds.
``unattributed`` is not an outcome but a mark: how many records handed to the pipeline carried
``mcp_otel.unattributed`` (their request could not be known for certain, ``mcp_otel.attribution``).

``received`` is the sum of all outcomes, so ``received == exported + queued + filtered +
sum(dropped)`` holds in every snapshot. A drop logs at most one summary warning per
``SUMMARY_INTERVAL_SECONDS`` through the ``mcp_otel`` logger, naming the last export failure's
cause, plus one at shutdown when anything was dropped since the last summary.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Literal, TypedDict

__all__ = ["DROP_REASONS", "SUMMARY_INTERVAL_SECONDS", "Accounting", "DropReason", "Stats"]

SUMMARY_INTERVAL_SECONDS = 60.0
DropReason = Literal["queue_full", "export_failed", "shutdown", "internal_error", "unparseable"]
DROP_REASONS: tuple[DropReason, ...] = ("queue_full", "export_failed", "shutdown", "internal_error", "unparseable")

_internal_log = logging.getLogger("mcp_otel")


class Stats(TypedDict):
    """``handler.stats()``: see the module docstring."""

    received: int
    filtered: int
    exported: int
    queued: int
    dropped: dict[DropReason, int]
    unattributed: int


class Accounting:
    """The counters of one pipeline (shared by a root handler and every handler bound from it).

    ``lock`` is the pipeline's one lock: the delivery queue waits on it too, so that admitting a
    record and counting it are one step.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.filtered = 0
        self.exported = 0
        self.queued = 0
        self.queued_bytes = 0
        self.dropped: dict[DropReason, int] = dict.fromkeys(DROP_REASONS, 0)
        self.unattributed = 0
        self.last_failure_cause: str | None = None
        self._reported_drops = 0
        self._last_summary = float("-inf")
        self._first_internal_error = True

    # ---------------------------------------------------------------- outcomes (each takes the lock)

    def count_filtered(self) -> None:
        with self.lock:
            self.filtered += 1

    def count_unattributed(self) -> None:
        """A record marked ``mcp_otel.unattributed`` (besides its outcome, counted on its own)."""
        with self.lock:
            self.unattributed += 1

    def count_exported_directly(self) -> None:
        """One record handed to a provider that keeps its own export counts."""
        with self.lock:
            self.exported += 1

    def count_dropped(self, reason: DropReason, count: int = 1) -> None:
        with self.lock:
            self.dropped[reason] += count
        self.report_drops_now_and_then()

    def count_internal_error(self, error: BaseException) -> None:
        with self.lock:
            self.dropped["internal_error"] += 1
            first, self._first_internal_error = self._first_internal_error, False
        if first:
            _internal_log.error(
                "mcp_otel: converting or emitting an MCP log message failed; the message was dropped. "
                "Further failures are only counted (handler.stats()['dropped']['internal_error']).",
                exc_info=error,
            )

    # ---------------------------------------------------------------- the queue's side (lock held by the caller)

    def enqueued_locked(self, size: int) -> None:
        self.queued += 1
        self.queued_bytes += size

    def settled_locked(self, count: int, size: int, outcome: Literal["exported", "export_failed", "shutdown"]) -> None:
        """``count`` queued records of ``size`` bytes in all left the queue with ``outcome``."""
        self.queued -= count
        self.queued_bytes -= size
        if outcome == "exported":
            self.exported += count
        else:
            self.dropped[outcome] += count

    # ---------------------------------------------------------------- reading

    def snapshot(self) -> Stats:
        with self.lock:
            dropped = dict(self.dropped)
            received = self.filtered + self.exported + self.queued + sum(dropped.values())
            return Stats(
                received=received,
                filtered=self.filtered,
                exported=self.exported,
                queued=self.queued,
                dropped=dropped,
                unattributed=self.unattributed,
            )

    def report_drops_now_and_then(self) -> None:
        """The summary warning, unless one went out less than ``SUMMARY_INTERVAL_SECONDS`` ago."""
        now = time.monotonic()
        with self.lock:
            if now - self._last_summary < SUMMARY_INTERVAL_SECONDS:
                return
            self._last_summary = now
        self.report_drops()

    def report_drops(self) -> None:
        """One warning with the drop counts and the last cause, if anything was dropped since the last one."""
        with self.lock:
            dropped = dict(self.dropped)
            total = sum(dropped.values())
            if total <= self._reported_drops:
                return
            self._reported_drops = total
            cause = self.last_failure_cause
        details = ", ".join(f"{reason.replace('_', ' ')}: {count}" for reason, count in dropped.items() if count)
        because = f"; last export failure: {cause}" if cause else ""
        _internal_log.warning(
            "mcp_otel: %d log record(s) dropped so far (%s)%s; see handler.stats()", total, details, because
        )
