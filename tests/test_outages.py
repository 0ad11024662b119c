"""Riding out collector outages: nothing lost while the queue's budget holds, an exact count when it does not.

A real receiver process (``tests/support/otlp_receiver.py``, which persists each record before it
acknowledges the request) is killed and restarted under the handler, over both protocols. The
"five minutes at 100 messages/s" target is run compressed (its 30,000 messages arrive during a
shorter outage than five minutes, with a per-attempt timeout shorter than the outage, so retries
go on past the point where the SDK gave up); one real 35-second outage runs too (``slow``).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from mcp_otel import OTelLogHandler
from tests.support.accounting import NO_DROPS, assert_adds_up
from tests.support.otlp_receiver import ReceiverProcess

PROTOCOLS = ["grpc", "http/protobuf"]


def _message(index: int) -> SimpleNamespace:
    return SimpleNamespace(level="info", logger="outage", data={"msg": f"record {index}", "extra": {"index": index}})


def _indexes(collector: ReceiverProcess, count: int, timeout: float = 60) -> Counter[int]:
    return Counter(record["attributes"]["index"] for record in collector.wait_for_count(count, timeout=timeout))


@pytest.fixture
def collector_environment(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def point_at(collector: ReceiverProcess) -> None:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", collector.protocol)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1000")  # shorter than every outage below
        monkeypatch.setenv("OTEL_BLRP_SCHEDULE_DELAY", "200")

    return point_at


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_five_minutes_of_messages_during_an_outage_arrive_whole(protocol: str, tmp_path: Path, collector_environment) -> None:  # type: ignore[no-untyped-def]
    collector = ReceiverProcess(protocol, tmp_path / "records.jsonl")  # type: ignore[arg-type]
    collector_environment(collector)
    handler = OTelLogHandler()
    for index in range(30_000):  # five minutes at 100 messages a second
        handler.handle(_message(index))
    time.sleep(4)  # several attempts failed, each ending long before the outage does
    assert handler.stats()["queued"] == 30_000
    with collector:
        assert handler.force_flush(timeout_millis=120_000)
        handler.shutdown()
        delivered = _indexes(collector, 30_000)
    assert set(delivered) == set(range(30_000))
    stats = handler.stats()
    assert (stats["exported"], stats["dropped"]) == (30_000, NO_DROPS)
    assert_adds_up(stats, 30_000)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_collector_restart_loses_nothing(protocol: str, tmp_path: Path, collector_environment) -> None:  # type: ignore[no-untyped-def]
    with ReceiverProcess(protocol, tmp_path / "records.jsonl") as collector:  # type: ignore[arg-type]
        collector_environment(collector)
        handler = OTelLogHandler()
        for index in range(6_000):  # about 500 messages a second for 12 seconds
            handler.handle(_message(index))
            if index == 1_500:
                collector.kill()
            if index == 3_500:
                collector.restart()
            time.sleep(0.002)
        assert handler.force_flush(timeout_millis=60_000)
        handler.shutdown()
        delivered = _indexes(collector, 6_000)
    assert set(delivered) == set(range(6_000))
    duplicates = sum(count - 1 for count in delivered.values())
    assert duplicates <= 128  # at most the one batch whose acknowledgement the kill cut off
    stats = handler.stats()
    assert (stats["exported"], stats["dropped"]) == (6_000, NO_DROPS)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_over_budget_the_newest_are_refused_and_counted_exactly(
    protocol: str, tmp_path: Path, collector_environment, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    collector = ReceiverProcess(protocol, tmp_path / "records.jsonl")  # type: ignore[arg-type]
    collector_environment(collector)
    monkeypatch.setenv("OTEL_BLRP_MAX_QUEUE_SIZE", "1000")
    handler = OTelLogHandler()
    for index in range(3_000):
        handler.handle(_message(index))
    stats = handler.stats()
    assert (stats["queued"], stats["dropped"]["queue_full"]) == (1_000, 2_000)
    with collector:
        assert handler.force_flush(timeout_millis=60_000)
        handler.shutdown()
        delivered = _indexes(collector, 1_000)
        time.sleep(0.5)
        assert len(collector.records()) == 1_000  # nothing more arrives
    assert sorted(delivered) == list(range(1_000))  # the oldest were kept, in full
    assert handler.stats()["exported"] == 1_000
    assert_adds_up(handler.stats(), 3_000)


@pytest.mark.slow
def test_a_real_outage_of_35_seconds_loses_nothing(tmp_path: Path, collector_environment) -> None:  # type: ignore[no-untyped-def]
    with ReceiverProcess("grpc", tmp_path / "records.jsonl") as collector:
        collector_environment(collector)
        handler = OTelLogHandler()
        started = time.monotonic()
        index = 0
        down = up = False
        while time.monotonic() - started < 42:  # 100 messages a second
            handler.handle(_message(index))
            index += 1
            elapsed = time.monotonic() - started
            if elapsed > 3 and not down:
                collector.kill()
                down = True
            if elapsed > 38 and not up:
                collector.restart()
                up = True
            time.sleep(max(0.0, started + index / 100 - time.monotonic()))
        assert handler.force_flush(timeout_millis=60_000)
        handler.shutdown()
        delivered = _indexes(collector, index)
    assert set(delivered) == set(range(index))
    assert handler.stats()["dropped"] == NO_DROPS
