"""Exact counts of what the export pipeline did with each record, and one summary warning per interval.

The SDK's ``BatchLogRecordProcessor`` drops records when its queue is full and logs one
"Queue full, dropping Log." warning per record; its own counters exist only as
self-observability metrics when ``OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED=true``. For
``handler.stats()`` the pipeline the handler builds is one batch processor in front of one
``AccountingExporter`` (fanning out to every configured exporter), and the handler asks
``ExportAccounting.admit`` before each emit:

* ``admit`` refuses a record when the batch queue is full, by count or by the estimated size of
  what it holds (``DEFAULT_MAX_QUEUED_BYTES``): the *new* record is dropped and counted
  (``dropped["queue_full"]``). The SDK then never drops or warns itself, and the memory held
  while a collector is away stays bounded.
* ``AccountingExporter`` counts what every exporter acknowledged (``exported``) and what an
  export gave up on (``dropped["export_failed"]``); with several exporters a record counts as
  exported once all of them took it.
* Whatever was admitted and is neither exported nor failed is ``queued``; after shutdown it is
  ``dropped["shutdown"]``.

A drop logs at most one summary warning per ``SUMMARY_INTERVAL_SECONDS`` through the
``mcp_otel`` logger, plus one at shutdown when anything was dropped since the last summary.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter, LogRecordExportResult

__all__ = ["DEFAULT_MAX_QUEUED_BYTES", "SUMMARY_INTERVAL_SECONDS", "AccountingExporter", "ExportAccounting"]

SUMMARY_INTERVAL_SECONDS = 60.0
DEFAULT_MAX_QUEUED_BYTES = 32 * 1024 * 1024
_internal_log = logging.getLogger("mcp_otel")


class ExportAccounting:
    """Counters of one pipeline. ``lock`` guards them; the handler holds it across admit + emit."""

    def __init__(self, max_queued_bytes: int = DEFAULT_MAX_QUEUED_BYTES) -> None:
        self.lock = threading.Lock()
        self.max_queued_bytes = max_queued_bytes
        self.queued_bytes = 0
        # Estimated sizes of the queued records, oldest first: the batch processor exports
        # oldest first, so each exported or failed record releases the leftmost size.
        self._queued_sizes: deque[int] = deque()
        self._queue: deque[Any] | None = None
        self.admitted = 0
        self.exported = 0
        self.dropped_queue_full = 0
        self.dropped_export_failed = 0
        self.is_shut_down = False
        self._reported_drops = 0
        self._last_summary = float("-inf")

    def watch_queue(self, processor: BatchLogRecordProcessor) -> None:
        """Follow ``processor``'s queue length, so a full queue is refused before the SDK drops."""
        # The SDK exposes no way to ask whether its queue is full, so read the deque it keeps
        # (opentelemetry-sdk's BatchProcessor._queue, a collections.deque with maxlen).
        self._queue = getattr(getattr(processor, "_batch_processor", None), "_queue", None)

    def admit_locked(self, size: int) -> bool:
        """With ``lock`` held: reserve room for one record of ``size`` bytes, or count it dropped."""
        queue = self._queue
        if (queue is not None and queue.maxlen is not None and len(queue) >= queue.maxlen) or (
            self.queued_bytes + size > self.max_queued_bytes
        ):
            self.dropped_queue_full += 1
            return False
        self.admitted += 1
        self.queued_bytes += size
        self._queued_sizes.append(size)
        return True

    def unadmit_locked(self) -> None:
        """With ``lock`` held: undo the last admit (its emit raised before anything was queued)."""
        self.admitted -= 1
        self.queued_bytes -= self._queued_sizes.pop()

    def _release_locked(self, count: int) -> None:
        for _ in range(min(count, len(self._queued_sizes))):
            self.queued_bytes -= self._queued_sizes.popleft()

    def count_exported(self, count: int) -> None:
        with self.lock:
            self.exported += count
            self._release_locked(count)

    def count_export_failed(self, count: int) -> None:
        with self.lock:
            self.dropped_export_failed += count
            self._release_locked(count)
        self.report_drops_now_and_then()

    def report_drops_now_and_then(self) -> None:
        """The summary warning, unless one went out less than SUMMARY_INTERVAL_SECONDS ago."""
        now = time.monotonic()
        with self.lock:
            if now - self._last_summary < SUMMARY_INTERVAL_SECONDS:
                return
            self._last_summary = now
        self.report_drops()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            left = self.admitted - self.exported - self.dropped_export_failed
            return {
                "exported": self.exported,
                "queued": 0 if self.is_shut_down else left,
                "dropped": {
                    "queue_full": self.dropped_queue_full,
                    "export_failed": self.dropped_export_failed,
                    "shutdown": left if self.is_shut_down else 0,
                },
            }

    def report_drops(self) -> None:
        """One warning with the drop counts, if anything was dropped since the last one."""
        snapshot = self.snapshot()
        total = sum(snapshot["dropped"].values())
        if total > self._reported_drops:
            self._reported_drops = total
            _internal_log.warning(
                "mcp_otel: %d log record(s) dropped so far (queue full: %d, export failed: %d, shutdown: %d); "
                "see handler.stats()",
                total,
                snapshot["dropped"]["queue_full"],
                snapshot["dropped"]["export_failed"],
                snapshot["dropped"]["shutdown"],
            )


class AccountingExporter(LogRecordExporter):
    """Exports each batch to every one of ``exporters`` and counts it as exported or failed."""

    def __init__(self, exporters: Sequence[LogRecordExporter], accounting: ExportAccounting) -> None:
        self.exporters = tuple(exporters)
        self._accounting = accounting

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        succeeded = True
        for exporter in self.exporters:
            try:
                succeeded = exporter.export(batch) is LogRecordExportResult.SUCCESS and succeeded
            except Exception:  # the SDK would log and move on; count the batch as failed
                _internal_log.debug("exporter raised", exc_info=True)
                succeeded = False
        if succeeded:
            self._accounting.count_exported(len(batch))
            return LogRecordExportResult.SUCCESS
        self._accounting.count_export_failed(len(batch))
        return LogRecordExportResult.FAILURE

    def shutdown(self) -> None:
        for exporter in self.exporters:
            exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return all([exporter.force_flush(timeout_millis) for exporter in self.exporters])
