"""``mcp_otel.delivery``: the queue's contract, row by row, against destinations that answer as told.

(These destinations are test doubles of the one-attempt ``Destination`` interface; the real OTLP
senders are tested against real receivers in the pipeline and reliability tests.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord

from mcp_otel.accounting import Accounting
from mcp_otel.delivery import Delivery
from mcp_otel.senders import SendOutcome
from tests.support.accounting import NO_DROPS, assert_adds_up


def outcome(
    delivered: bool, *, retryable: bool = False, retry_after_seconds: float | None = None, too_large: bool = False,
    cause: str | None = None, rejected: int = 0,
) -> SendOutcome:
    return SendOutcome(delivered, retryable, retry_after_seconds, too_large, cause, rejected)


class ScriptedDestination:
    """Answers each send with the next scripted outcome (then delivers); records what it was sent."""

    def __init__(self, *outcomes: SendOutcome, too_large_above: int | None = None) -> None:
        self.outcomes = list(outcomes)
        self.too_large_above = too_large_above
        self.sent: list[list[str]] = []
        self.delivered: list[str] = []
        self.attempt_times: list[float] = []
        self.lock = threading.Lock()

    def send(self, batch: Sequence[ReadableLogRecord], timeout_seconds: float) -> SendOutcome:
        bodies = [str(record.log_record.body) for record in batch]
        with self.lock:
            self.sent.append(bodies)
            self.attempt_times.append(time.monotonic())
            if self.too_large_above is not None and sum(len(body) for body in bodies) > self.too_large_above:
                return outcome(False, too_large=True, cause="HTTP 413 Payload Too Large")
            result = self.outcomes.pop(0) if self.outcomes else outcome(True)
            if result.delivered:
                self.delivered.extend(bodies[: len(bodies) - result.partial_rejected])
            return result

    @property
    def destination(self) -> str:
        return "scripted"

    def shutdown(self) -> None:
        pass


class Pipeline:
    def __init__(self, *destinations: ScriptedDestination, **options: Any) -> None:
        self.accounting = Accounting()
        options.setdefault("schedule_delay_seconds", 0.02)
        options.setdefault("initial_backoff_seconds", 0.02)
        options.setdefault("max_backoff_seconds", 0.05)
        self.delivery = Delivery(destinations, self.accounting, **options)
        self.provider = LoggerProvider(shutdown_on_exit=False)
        self.provider.add_log_record_processor(self.delivery)
        self.logger = self.provider.get_logger("test")

    def emit(self, body: str, size: int | None = None) -> None:
        self.delivery.next_record_size(len(body) if size is None else size)
        self.logger.emit(body=body)

    def flush(self, seconds: float = 5.0) -> bool:
        return self.delivery.force_flush(int(seconds * 1000))


@pytest.fixture
def pipelines() -> Iterator[list[Pipeline]]:
    made: list[Pipeline] = []
    yield made
    for pipeline in made:
        pipeline.delivery.shutdown(1_000)


def _pipeline(pipelines: list[Pipeline], *destinations: ScriptedDestination, **options: Any) -> Pipeline:
    pipeline = Pipeline(*destinations, **options)
    pipelines.append(pipeline)
    return pipeline


def test_a_batch_closes_at_max_batch_records(pipelines: list[Pipeline]) -> None:
    destination = ScriptedDestination()
    pipeline = _pipeline(pipelines, destination, max_batch_records=3)
    for index in range(7):
        pipeline.emit(f"r{index}")
    assert pipeline.flush()
    assert [len(batch) for batch in destination.sent] == [3, 3, 1]
    assert destination.delivered == [f"r{index}" for index in range(7)]


def test_a_batch_closes_at_max_batch_bytes(pipelines: list[Pipeline]) -> None:
    destination = ScriptedDestination()
    pipeline = _pipeline(pipelines, destination, max_batch_records=100, max_batch_bytes=1_000)
    for index in range(5):
        pipeline.emit(f"r{index}", size=400)
    assert pipeline.flush()
    assert [len(batch) for batch in destination.sent] == [2, 2, 1]  # 800 bytes each, 1,200 would be over


def test_a_record_larger_than_a_batch_goes_alone(pipelines: list[Pipeline]) -> None:
    destination = ScriptedDestination()
    pipeline = _pipeline(pipelines, destination, max_batch_bytes=1_000)
    pipeline.emit("small", size=10)
    pipeline.emit("huge", size=5_000)
    pipeline.emit("small again", size=10)
    assert pipeline.flush()
    assert destination.sent == [["small"], ["huge"], ["small again"]]


TRANSIENT = [
    outcome(False, retryable=True, cause="connection refused (http://127.0.0.1:4317)"),
    outcome(False, retryable=True, cause="gRPC UNAVAILABLE"),
]


def test_a_transient_failure_is_retried_in_order_and_nothing_is_lost(pipelines: list[Pipeline]) -> None:
    destination = ScriptedDestination(*TRANSIENT)
    pipeline = _pipeline(pipelines, destination, max_batch_records=2)
    for index in range(4):
        pipeline.emit(f"r{index}")
    assert pipeline.flush()
    assert destination.sent[:3] == [["r0", "r1"]] * 3  # the same head batch until it went through
    assert destination.delivered == ["r0", "r1", "r2", "r3"]
    stats = pipeline.accounting.snapshot()
    assert (stats["exported"], stats["dropped"]) == (4, NO_DROPS)
    assert pipeline.accounting.last_failure_cause == "gRPC UNAVAILABLE"


def test_retry_after_is_honoured(pipelines: list[Pipeline]) -> None:
    destination = ScriptedDestination(outcome(False, retryable=True, retry_after_seconds=0.5, cause="HTTP 429"))
    pipeline = _pipeline(pipelines, destination)
    pipeline.emit("r0")
    assert pipeline.flush()
    first, second = destination.attempt_times
    assert second - first >= 0.5  # the backoff alone would have been about 0.02 s


def test_backoff_grows_between_attempts(pipelines: list[Pipeline]) -> None:
    destination = ScriptedDestination(*[outcome(False, retryable=True)] * 4)
    pipeline = _pipeline(pipelines, destination, initial_backoff_seconds=0.05, max_backoff_seconds=0.4)
    pipeline.emit("r0")
    assert pipeline.flush()
    gaps = [later - earlier for earlier, later in zip(destination.attempt_times, destination.attempt_times[1:], strict=False)]
    assert gaps[-1] > gaps[0] * 2  # 0.05, 0.1, 0.2, 0.4 with 20% jitter


def test_a_permanent_failure_drops_the_batch_with_its_cause(pipelines: list[Pipeline]) -> None:
    destination = ScriptedDestination(outcome(False, cause="HTTP 401 Unauthorized (http://collector:4318/v1/logs)"))
    pipeline = _pipeline(pipelines, destination, max_batch_records=2)
    for index in range(3):
        pipeline.emit(f"r{index}")
    assert pipeline.flush()
    stats = pipeline.accounting.snapshot()
    assert stats["exported"] == 1
    assert stats["dropped"] == {**NO_DROPS, "export_failed": 2}
    assert pipeline.accounting.last_failure_cause == "HTTP 401 Unauthorized (http://collector:4318/v1/logs)"
    assert_adds_up(stats, 3)


def test_a_request_refused_as_too_large_is_split_and_only_the_oversized_record_is_lost(pipelines: list[Pipeline]) -> None:
    destination = ScriptedDestination(too_large_above=50)
    pipeline = _pipeline(pipelines, destination, max_batch_records=8)
    bodies = ["a" * 10, "b" * 10, "c" * 60, "d" * 10, "e" * 10]
    for body in bodies:
        pipeline.emit(body)
    assert pipeline.flush()
    assert destination.delivered == ["a" * 10, "b" * 10, "d" * 10, "e" * 10]  # order kept around the cut
    stats = pipeline.accounting.snapshot()
    assert (stats["exported"], stats["dropped"]["export_failed"]) == (4, 1)


def test_partial_success_counts_the_rejected_records(pipelines: list[Pipeline]) -> None:
    destination = ScriptedDestination(outcome(True, rejected=1, cause="partial success: 1 rejected"))
    pipeline = _pipeline(pipelines, destination, max_batch_records=3)
    for index in range(3):
        pipeline.emit(f"r{index}")
    assert pipeline.flush()
    stats = pipeline.accounting.snapshot()
    assert (stats["exported"], stats["dropped"]["export_failed"]) == (2, 1)


@pytest.mark.parametrize(
    ("options", "sizes", "refused"),
    [
        ({"max_queue_records": 3}, [10] * 5, 2),
        ({"max_queue_bytes": 100}, [40, 40, 40, 10], 1),
    ],
    ids=["record budget spent: the newest are refused", "byte budget spent: the newest that does not fit is refused"],
)
def test_a_full_queue_refuses_the_newest(pipelines: list[Pipeline], options: dict[str, Any], sizes: list[int], refused: int) -> None:
    blocked = threading.Event()

    class Stuck(ScriptedDestination):
        def send(self, batch: Sequence[ReadableLogRecord], timeout_seconds: float) -> SendOutcome:
            blocked.wait(5)
            return super().send(batch, timeout_seconds)

    destination = Stuck()
    pipeline = _pipeline(pipelines, destination, schedule_delay_seconds=10, **options)
    for index, size in enumerate(sizes):
        pipeline.emit(f"r{index}", size=size)
    stats = pipeline.accounting.snapshot()
    assert stats["dropped"]["queue_full"] == refused
    blocked.set()
    assert pipeline.flush()
    kept = [f"r{index}" for index in range(len(sizes))]
    for body in destination.delivered:
        kept.remove(body)
    assert len(kept) == refused
    assert_adds_up(pipeline.accounting.snapshot(), len(sizes))


def test_shutdown_is_bounded_during_an_outage_and_counts_what_is_left(pipelines: list[Pipeline]) -> None:
    destination = ScriptedDestination(*[outcome(False, retryable=True, retry_after_seconds=60)] * 10)
    pipeline = _pipeline(pipelines, destination)
    for index in range(3):
        pipeline.emit(f"r{index}")
    time.sleep(0.1)
    started = time.monotonic()
    pipeline.delivery.shutdown(300)
    assert time.monotonic() - started < 0.6
    pipeline.emit("after")
    stats = pipeline.accounting.snapshot()
    assert stats["dropped"] == {**NO_DROPS, "shutdown": 4}
    assert_adds_up(stats, 4)


def test_with_two_destinations_the_one_that_took_a_batch_is_not_sent_it_again(pipelines: list[Pipeline]) -> None:
    steady = ScriptedDestination()
    flaky = ScriptedDestination(*TRANSIENT)
    pipeline = _pipeline(pipelines, steady, flaky)
    pipeline.emit("r0")
    assert pipeline.flush()
    assert steady.sent == [["r0"]]
    assert flaky.sent == [["r0"]] * 3
    assert pipeline.accounting.snapshot()["exported"] == 1  # once, when both had it


def test_flush_returns_false_when_its_timeout_passes_first(pipelines: list[Pipeline]) -> None:
    destination = ScriptedDestination(*[outcome(False, retryable=True)] * 1_000)
    pipeline = _pipeline(pipelines, destination)
    pipeline.emit("r0")
    started = time.monotonic()
    assert pipeline.flush(0.2) is False
    assert time.monotonic() - started < 0.5
    assert pipeline.accounting.snapshot()["queued"] == 1  # still waiting, not dropped
