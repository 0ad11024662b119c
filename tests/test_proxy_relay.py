"""``mcp_otel.proxy.relay``'s export queue: the relays never wait for it, and every line it is handed is counted."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from mcp_otel import ConnectionLog, OTelLogHandler
from mcp_otel.proxy import relay
from mcp_otel.proxy.relay import ExportQueue
from tests.support.accounting import NO_DROPS, assert_adds_up


@pytest.fixture
def exported() -> Iterator[tuple[OTelLogHandler, InMemoryLogRecordExporter]]:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    yield OTelLogHandler(provider), exporter
    provider.shutdown()


LINE_ROWS: list[tuple[str, bytes, str | None]] = [
    # (row id, a line handed over as "mentions notifications/message", the outcome)
    ("a log notification", b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}\n', "exported"),
    ("not JSON", b'{"method":"notifications/message", oops\n', "unparseable"),
    ("invalid UTF-8", b'{"method":"notifications/message","params":{"level":"info","data":"\xff"}}\n', "unparseable"),
    ("raw NUL", b'{"method":"notifications/message","params":{"level":"info","data":"\x00"}}\n', "unparseable"),
    ("too deep", b'{"method":"notifications/message","params":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", "unparseable"),
    ("params not an object", b'{"jsonrpc":"2.0","method":"notifications/message","params":[1]}\n', "unparseable"),
    ("a result that only quotes the method", b'{"jsonrpc":"2.0","id":1,"result":{"text":"notifications/message"}}\n', None),
]


@pytest.mark.parametrize(("line", "outcome"), [row[1:] for row in LINE_ROWS], ids=[row[0] for row in LINE_ROWS])
def test_every_handed_over_line_is_counted(
    exported: tuple[OTelLogHandler, InMemoryLogRecordExporter], line: bytes, outcome: str | None
) -> None:
    handler, exporter = exported
    queue = ExportQueue(ConnectionLog(handler))
    queue.put("line", line, len(line))
    queue.close(5)
    stats = handler.stats()
    if outcome is None:
        assert stats["received"] == 0  # not a log message at all
        return
    assert_adds_up(stats, 1)
    if outcome == "exported":
        assert stats["exported"] == 1 and len(exporter.get_finished_logs()) == 1
    else:
        assert stats["dropped"] == {**NO_DROPS, outcome: 1}


def test_a_full_queue_drops_and_counts_without_waiting(
    exported: tuple[OTelLogHandler, InMemoryLogRecordExporter], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, exporter = exported
    release = threading.Event()

    class SlowConnection(ConnectionLog):
        def handle(self, params: Any, attribution: Any = None) -> None:
            release.wait(10)  # an export thread stuck behind a slow conversion
            super().handle(params, attribution)

    monkeypatch.setattr(relay, "MAX_PENDING_EXPORTS", 10)
    queue = ExportQueue(SlowConnection(handler))
    started = time.monotonic()
    for index in range(100):
        queue.put("params", {"level": "info", "data": f"m{index}"}, 10)
    assert time.monotonic() - started < 1  # the relay never waited
    release.set()
    queue.close(10)
    stats = handler.stats()
    assert stats["dropped"]["queue_full"] >= 89
    assert stats["exported"] == 100 - stats["dropped"]["queue_full"]
    bodies = [record.log_record.body for record in exporter.get_finished_logs()]
    assert bodies == sorted(bodies, key=lambda body: int(str(body)[1:]))  # in order
    assert_adds_up(stats, 100)
