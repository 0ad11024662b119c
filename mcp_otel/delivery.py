"""The delivery queue: records batched by count and by bytes, exported in order, retried through outages.

It replaces the SDK's ``BatchLogRecordProcessor`` in the pipeline this package builds, because that
processor cannot do four things a log bridge needs (each was measured failing):

* **Byte-bounded requests.** The SDK batches by count only, so a few large records make one export
  request larger than any collector accepts (gRPC's default receive limit is 4 MiB), and the whole
  batch is lost. Here a batch closes at ``max_batch_records`` records or ``max_batch_bytes``
  estimated bytes, whichever comes first; a request a destination still refuses as too large is
  split in two and each half sent again, down to one record, so one record never takes another down.
* **Riding out an outage.** The SDK drops a batch once its exporter gives up (after
  ``OTEL_EXPORTER_OTLP_TIMEOUT``). Here a batch that failed for a transient reason (connection
  refused, timeout, HTTP 429/502/503/504, gRPC UNAVAILABLE, ...) stays at the head of the queue and is
  sent again after an exponential backoff (``INITIAL_BACKOFF_SECONDS`` doubling to
  ``MAX_BACKOFF_SECONDS``, with jitter) or after the delay the collector asked for (HTTP
  ``Retry-After``, gRPC ``RetryInfo``), for as long as it takes: records wait, in order, while the
  queue's budget can hold them. A permanent refusal (HTTP 400/401/403/404, gRPC
  INVALID_ARGUMENT/UNAUTHENTICATED/...) drops the batch, counted as ``export_failed`` with its cause.
* **A budget in bytes.** The queue holds at most ``max_queue_records`` records and
  ``max_queue_bytes`` estimated bytes (the conversion walk's estimate, which tracks memory). When
  either is spent, the *newest* record is refused and counted ``queue_full``: what is queued keeps
  its order, as the OpenTelemetry Collector's sending queue does.
* **Exact accounting.** Admission, export and drop are counted in ``mcp_otel.accounting`` under its
  one lock, which this queue's condition shares.

Several destinations (``OTEL_LOGS_EXPORTER=otlp,console``) each get every batch; a record is
exported once all of them took it, and a destination that already took a batch is not sent it again
while another one retries. A batch whose acknowledgement was lost (the collector stored it, then the
connection broke) is sent again: duplicates are possible, loss is not.

``shutdown(timeout)`` stops admission, keeps exporting until the queue is empty or the timeout
passes, then counts what is left as ``dropped["shutdown"]``; it never waits longer than its timeout.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY, Context, attach, detach, set_value
from opentelemetry.sdk._logs import LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.resources import Resource

from mcp_otel.accounting import Accounting
from mcp_otel.senders import SendOutcome

__all__ = [
    "DEFAULT_MAX_BATCH_BYTES",
    "DEFAULT_MAX_BATCH_RECORDS",
    "DEFAULT_MAX_QUEUE_BYTES",
    "DEFAULT_MAX_QUEUE_RECORDS",
    "Delivery",
    "Destination",
    "ExporterDestination",
]

DEFAULT_MAX_QUEUE_RECORDS = 32_768
DEFAULT_MAX_QUEUE_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_BATCH_RECORDS = 128  # the OTLP exporter specification's default batch
# gRPC's default receive limit is 4 MiB; the estimate is an upper bound of the encoded size, and the
# request adds a few bytes per record and the resource: 3 MiB leaves room for all of it.
DEFAULT_MAX_BATCH_BYTES = 3 * 1024 * 1024
DEFAULT_SIZE = 1_024  # a record emitted on the provider by someone else than the handler
INITIAL_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 10.0  # the Collector uses 30 s; a log bridge would rather notice a collector back soon
MAX_RETRY_AFTER_SECONDS = 300.0  # a collector asking for more is asked again after this

_internal_log = logging.getLogger("mcp_otel")
_NO_CONTEXT = Context()
_EMPTY_RESOURCE = Resource.get_empty()


class Destination(Protocol):
    """Where batches go: one attempt per call, no retry loop of its own (``mcp_otel.senders.Sender``)."""

    @property
    def destination(self) -> str: ...

    def send(self, batch: Sequence[ReadableLogRecord], timeout_seconds: float) -> SendOutcome: ...

    def shutdown(self) -> None: ...


class ExporterDestination:
    """Any SDK ``LogRecordExporter`` (console, an entry point) as a destination.

    Such an exporter says only success or failure; a failure is taken as transient, so it is retried.
    """

    def __init__(self, exporter: LogRecordExporter) -> None:
        self.exporter = exporter

    @property
    def destination(self) -> str:
        return type(self.exporter).__name__

    def send(self, batch: Sequence[ReadableLogRecord], timeout_seconds: float) -> SendOutcome:
        try:
            result = self.exporter.export(batch)
        except Exception as error:  # an exporter must not stop the queue
            return SendOutcome(False, True, None, False, f"{self.destination} raised {type(error).__name__}", 0)
        if result is LogRecordExportResult.SUCCESS:
            return SendOutcome(True, False, None, False, None, 0)
        return SendOutcome(False, True, None, False, f"{self.destination} reported a failure", 0)

    def shutdown(self) -> None:
        self.exporter.shutdown()  # type: ignore[no-untyped-call]


class _Entry(NamedTuple):
    record: ReadableLogRecord
    size: int


class Delivery(LogRecordProcessor):
    """A ``LogRecordProcessor`` that queues, batches and delivers as the module docstring says.

    The handler tells the size of the record it is about to emit with ``next_record_size`` (the
    emit runs on the same thread, so a thread-local carries it into ``on_emit``).
    """

    def __init__(
        self,
        destinations: Sequence[Destination],
        accounting: Accounting,
        *,
        max_queue_records: int = DEFAULT_MAX_QUEUE_RECORDS,
        max_queue_bytes: int = DEFAULT_MAX_QUEUE_BYTES,
        max_batch_records: int = DEFAULT_MAX_BATCH_RECORDS,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        schedule_delay_seconds: float = 1.0,
        export_timeout_seconds: float = 10.0,
        initial_backoff_seconds: float = INITIAL_BACKOFF_SECONDS,
        max_backoff_seconds: float = MAX_BACKOFF_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._destinations = tuple(destinations)
        self._accounting = accounting
        self._max_queue_records = max_queue_records
        self._max_queue_bytes = max_queue_bytes
        self._max_batch_records = max_batch_records
        self._max_batch_bytes = max_batch_bytes
        self._schedule_delay = schedule_delay_seconds
        self._export_timeout = export_timeout_seconds
        self._initial_backoff = initial_backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._clock = clock
        self._sizes = threading.local()
        self._start()
        if hasattr(os, "register_at_fork"):
            reference = weakref.WeakMethod(self._start)

            def restart_in_child() -> None:
                start = reference()
                if start is not None:
                    start()

            os.register_at_fork(after_in_child=restart_in_child)

    def _start(self) -> None:
        """(Re)start the queue and its worker: at construction, and in a child after ``fork``."""
        accounting = self._accounting
        if getattr(self, "_pid", None) is not None:
            # In a forked child: the parent's lock may have been held by a thread that is gone, and
            # its queued records are the parent's to deliver.
            accounting.lock = threading.RLock()
            accounting.queued = accounting.queued_bytes = 0
        self._pid = os.getpid()
        self._condition = threading.Condition(accounting.lock)
        self._queue: deque[_Entry] = deque()
        self._in_flight: list[_Entry] = []
        self._flush_requested = 0
        self._is_shut_down = False
        self._abandoned = False  # shutdown counted what was left: the worker must not count it again
        self._worker = threading.Thread(target=self._work, name="mcp_otel-delivery", daemon=True)
        self._worker.start()

    # ---------------------------------------------------------------- admission (the handler's thread)

    def next_record_size(self, size: int) -> None:
        """The estimated size of the record the calling thread emits next."""
        self._sizes.value = size

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        # On the handler's thread for every record: the plain lock rather than the condition's
        # Python-level context manager, and the tuples built directly.
        size = getattr(self._sizes, "value", None) or DEFAULT_SIZE
        self._sizes.value = None
        api_record = log_record.log_record
        # The record keeps only its ids; the context it was made in (task-local values, baggage)
        # would otherwise be held for as long as the record waits.
        api_record.context = _NO_CONTEXT
        readable = ReadableLogRecord(
            log_record=api_record,
            resource=log_record.resource or _EMPTY_RESOURCE,
            instrumentation_scope=log_record.instrumentation_scope,
            limits=log_record.limits,
        )
        accounting = self._accounting
        with accounting.lock:  # the condition's own lock
            if self._is_shut_down:
                refused = "shutdown"
            elif (
                accounting.queued >= self._max_queue_records
                or accounting.queued_bytes + size > self._max_queue_bytes
            ):
                refused = "queue_full"
            else:
                self._queue.append(tuple.__new__(_Entry, (readable, size)))
                accounting.enqueued_locked(size)
                if self._batch_is_full_locked():
                    self._condition.notify()
                return
        accounting.count_dropped(refused)  # type: ignore[arg-type]

    # ---------------------------------------------------------------- the worker

    def _batch_is_full_locked(self) -> bool:
        return len(self._queue) >= self._max_batch_records or self._accounting.queued_bytes >= self._max_batch_bytes

    def _take_batch_locked(self) -> list[_Entry]:
        batch: list[_Entry] = []
        size = 0
        queue = self._queue
        while queue and len(batch) < self._max_batch_records:
            if batch and size + queue[0].size > self._max_batch_bytes:
                break
            entry = queue.popleft()
            batch.append(entry)
            size += entry.size
        return batch

    def _work(self) -> None:
        token = attach(set_value(_SUPPRESS_INSTRUMENTATION_KEY, True))  # the export must not log itself
        try:
            while True:
                with self._condition:
                    if not (self._batch_is_full_locked() or self._flush_requested or self._is_shut_down):
                        self._condition.wait(self._schedule_delay)  # on_emit, flush and shutdown wake it
                    if not self._queue:
                        self._flush_requested = 0
                        self._condition.notify_all()  # flushes waiting for an empty queue
                        if self._is_shut_down:
                            return
                        continue
                    batch = self._take_batch_locked()
                    self._in_flight = batch
                self._deliver(batch)
        finally:
            detach(token)

    def _deliver(self, batch: list[_Entry]) -> None:
        """Send ``batch`` to every destination, retrying as the module docstring says, then count it."""
        failed = [False] * len(batch)
        for destination in self._destinations:
            failed_here = self._send_all(destination, batch)
            if failed_here is None:
                return  # shutdown() gave up on this batch and counted it
            for index in failed_here:
                failed[index] = True
        with self._condition:
            self._in_flight = []
            if self._abandoned:
                return
            failed_size = sum(entry.size for entry, bad in zip(batch, failed, strict=True) if bad)
            failed_count = sum(failed)
            if failed_count:
                self._accounting.settled_locked(failed_count, failed_size, "export_failed")
            if failed_count < len(batch):
                total_size = sum(entry.size for entry in batch)
                self._accounting.settled_locked(len(batch) - failed_count, total_size - failed_size, "exported")
            self._condition.notify_all()
        if failed_count:
            self._accounting.report_drops_now_and_then()

    def _send_all(self, destination: Destination, batch: list[_Entry]) -> list[int] | None:
        """Deliver ``batch`` to ``destination``, splitting what is too large.

        Returns the indexes that failed for good, or None when shutdown ended the retries.
        """
        failed: list[int] = []
        parts: deque[tuple[int, int]] = deque([(0, len(batch))])
        while parts:
            start, end = parts.popleft()
            outcome = self._send_with_retries(destination, [entry.record for entry in batch[start:end]])
            if outcome is None:
                return None
            if outcome.too_large and end - start > 1:
                middle = (start + end) // 2
                parts.appendleft((middle, end))
                parts.appendleft((start, middle))
                continue
            if not outcome.delivered:
                failed.extend(range(start, end))
            elif outcome.partial_rejected:
                # Partial success: the collector names how many it refused, not which ones.
                failed.extend(range(end - min(outcome.partial_rejected, end - start), end))
        return failed

    def _send_with_retries(self, destination: Destination, records: list[ReadableLogRecord]) -> SendOutcome | None:
        """One part to one destination, retried while the failure is transient; None when shut down."""
        backoff = self._initial_backoff
        while True:
            outcome = _attempt(destination, records, self._export_timeout)
            if outcome.delivered or not outcome.retryable or (outcome.too_large and len(records) > 1):
                if not outcome.delivered and outcome.cause:
                    self._note_cause(outcome.cause)
                return outcome
            self._note_cause(outcome.cause or "export failed")
            if outcome.retry_after_seconds is not None:
                delay = min(max(outcome.retry_after_seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
            else:
                delay = backoff * random.uniform(0.8, 1.2)
                backoff = min(backoff * 2, self._max_backoff)
            with self._condition:
                deadline = self._clock() + delay
                while not self._abandoned:
                    left = deadline - self._clock()
                    if left <= 0:
                        break
                    self._condition.wait(left)
                if self._abandoned:
                    return None

    def _note_cause(self, cause: str) -> None:
        with self._condition:
            self._accounting.last_failure_cause = cause

    # ---------------------------------------------------------------- flush and shutdown

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Wait until everything queued so far was exported or dropped; False when the timeout passed first."""
        deadline = self._clock() + max(timeout_millis, 0) / 1000
        with self._condition:
            self._flush_requested += 1
            self._condition.notify_all()
            while self._queue or self._in_flight:
                left = deadline - self._clock()
                if left <= 0 or self._abandoned:
                    return False
                self._condition.wait(left)
            return True

    def shutdown(self, timeout_millis: int = 5_000) -> None:
        """Refuse new records, export what is queued for at most ``timeout_millis``, count the rest."""
        with self._condition:
            if self._is_shut_down:
                return
            self._is_shut_down = True
            self._condition.notify_all()
        self.force_flush(timeout_millis)
        with self._condition:
            self._abandoned = True
            left = list(self._queue) + self._in_flight
            self._queue.clear()
            if left:
                self._accounting.settled_locked(len(left), sum(entry.size for entry in left), "shutdown")
            self._condition.notify_all()
        for destination in self._destinations:
            try:
                destination.shutdown()
            except Exception:  # pragma: no cover - nothing to do but go on
                _internal_log.debug("shutting down a destination failed", exc_info=True)


def _attempt(destination: Destination, records: list[ReadableLogRecord], timeout: float) -> SendOutcome:
    try:
        return destination.send(records, timeout)
    except Exception as error:  # a destination that raises is a transient failure, not a dead worker
        return SendOutcome(False, True, None, False, f"sending raised {type(error).__name__}", 0)
