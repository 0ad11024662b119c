"""Exact counts of what the export pipeline did with each record, and one summary warning per interval.

The SDK's ``BatchLogRecordProcessor`` drops records when its queue is full and logs one
"Queue full, dropping Log." warning per record; its own counters exist only as
self-observability metrics when ``OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED=true`` (those still
work: they go to the application's MeterProvider). For ``handler.stats()`` this module wraps
the processor and the exporter:

* ``AccountingProcessor`` sees every record offered to the queue. When the queue is full (by
  count, or by the estimated size of the records it holds, ``DEFAULT_MAX_QUEUED_BYTES``) it
  drops the *new* record itself and counts it (``dropped["queue_full"]``), so the SDK never
  logs its per-record warning and the memory held while a collector is away stays bounded.
* ``AccountingExporter`` counts what the collector acknowledged (``exported``) and what an
  export gave up on (``dropped["export_failed"]``).
* Whatever was accepted and is neither exported nor failed is ``queued``; after shutdown it
  is ``dropped["shutdown"]``.

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

from opentelemetry.sdk._logs import LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter, LogRecordExportResult

__all__ = ["SUMMARY_INTERVAL_SECONDS", "AccountingExporter", "AccountingProcessor", "ExportAccounting"]

SUMMARY_INTERVAL_SECONDS = 60.0
DEFAULT_MAX_QUEUED_BYTES = 32 * 1024 * 1024
_internal_log = logging.getLogger("mcp_otel")


class ExportAccounting:
    """Counters shared by the processors and exporters of one pipeline. Thread-safe."""

    def __init__(self, max_queued_bytes: int = DEFAULT_MAX_QUEUED_BYTES) -> None:
        self._lock = threading.Lock()
        self.max_queued_bytes = max_queued_bytes
        self.queued_bytes = 0
        # Estimated sizes of the queued records, oldest first: the batch processor exports
        # oldest first, so each exported or failed record releases the leftmost size.
        self._queued_sizes: deque[int] = deque()
        self.next_record_size = 0  # set by the handler just before it emits, on the same thread
        self.accepted = 0
        self.exported = 0
        self.dropped_queue_full = 0
        self.dropped_export_failed = 0
        self.is_shut_down = False
        self._reported_drops = 0
        self._last_summary = float("-inf")

    def admit(self) -> bool:
        """Whether the record about to be queued fits the byte budget; if so, reserve its size."""
        size = self.next_record_size
        self.next_record_size = 0
        with self._lock:
            if self.queued_bytes + size > self.max_queued_bytes:
                return False
            self.queued_bytes += size
            self._queued_sizes.append(size)
            return True

    def _release(self, count: int) -> None:
        for _ in range(min(count, len(self._queued_sizes))):
            self.queued_bytes -= self._queued_sizes.popleft()

    def count_exported(self, count: int) -> None:
        with self._lock:
            self.exported += count
            self._release(count)

    def count_drop(self, reason: str, count: int) -> None:
        with self._lock:
            if reason == "export_failed":
                self._release(count)
            if reason == "queue_full":
                self.dropped_queue_full += count
            else:
                self.dropped_export_failed += count
            now = time.monotonic()
            if now - self._last_summary < SUMMARY_INTERVAL_SECONDS:
                return
            self._last_summary = now
        self.report_drops()

    def queued(self) -> int:
        return self.accepted - self.exported - self.dropped_queue_full - self.dropped_export_failed

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            left = self.queued()
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
    """Delegates to ``exporter`` and counts each batch as exported or failed."""

    def __init__(self, exporter: LogRecordExporter, accounting: ExportAccounting) -> None:
        self.exporter = exporter
        self._accounting = accounting

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        try:
            result = self.exporter.export(batch)
        except Exception:  # the SDK would log and move on; count the batch as failed
            _internal_log.debug("exporter raised", exc_info=True)
            result = LogRecordExportResult.FAILURE
        if result is LogRecordExportResult.SUCCESS:
            self._accounting.count_exported(len(batch))
        else:
            self._accounting.count_drop("export_failed", len(batch))
        return result

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return bool(self.exporter.force_flush(timeout_millis))


class AccountingProcessor(LogRecordProcessor):
    """A ``BatchLogRecordProcessor`` whose queue-full drops are counted, without a warning per record."""

    def __init__(self, processor: BatchLogRecordProcessor, accounting: ExportAccounting) -> None:
        self._processor = processor
        self._accounting = accounting
        # The SDK exposes no way to ask whether its queue is full, so read the deque it keeps
        # (opentelemetry-sdk's BatchProcessor._queue, a collections.deque with maxlen).
        self._queue = getattr(getattr(processor, "_batch_processor", None), "_queue", None)

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        queue = self._queue
        self._accounting.accepted += 1
        if (queue is not None and queue.maxlen is not None and len(queue) >= queue.maxlen) or not self._accounting.admit():
            self._accounting.count_drop("queue_full", 1)
            return
        self._processor.on_emit(log_record)

    def shutdown(self) -> None:
        self._processor.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return bool(self._processor.force_flush(timeout_millis))
