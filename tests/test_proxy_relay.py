"""``mcp_otel.proxy.relay``'s export queue: the relays never wait for it, and every line it is handed is counted."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from mcp_otel import ConnectionLog, OTelLogHandler
from mcp_otel.proxy import framing, relay
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
    queue.put("lines", line, len(line))
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
        def handle(self, params: Any) -> None:
            release.wait(10)  # an export thread stuck behind a slow conversion
            super().handle(params)

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


def test_a_dropped_block_counts_each_log_line_in_it(
    exported: tuple[OTelLogHandler, InMemoryLogRecordExporter], monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, _ = exported
    monkeypatch.setattr(relay, "MAX_PENDING_EXPORT_BYTES", 10)  # nothing fits: every block is dropped
    queue = ExportQueue(ConnectionLog(handler))
    log = b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}\n'
    block = log * 3 + b'{"jsonrpc":"2.0","id":1,"result":{}}\n' + log.rstrip(b"\n")
    queue.put("lines", block, len(block))
    queue.close(5)
    assert handler.stats()["dropped"] == {**NO_DROPS, "queue_full": 4}
    assert_adds_up(handler.stats(), 4)


# --------------------------------------------------------------------------- framing: blocks and lines

_PIECES = [b"a\n", b"bb\r\n", b"x" * 70_000 + b"\n", b"\r", b"c", b"\n", b"\x0b\x0c\x1c\n", b'{"k":"\xff"}\n']


def _read_all(reader: Any, data: bytes) -> list[bytes]:
    read_fd, write_fd = os.pipe()

    def write() -> None:
        framing.write_all(write_fd, data)
        os.close(write_fd)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        return list(reader(read_fd))
    finally:
        writer.join()
        os.close(read_fd)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30))
def test_blocks_carry_the_same_bytes_and_lines_as_read_lines(pieces: list[bytes]) -> None:
    # The relay forwards blocks and the export thread splits them: every byte must reach the host
    # in order, and the lines the export thread sees must be exactly the lines, LF-framed (a lone
    # CR, form feed or other separator bytes.splitlines knows does not end an MCP line).
    data = b"".join(pieces)
    blocks = _read_all(framing.read_blocks, data)
    assert b"".join(blocks) == data
    assert all(block.endswith(b"\n") for block in blocks[:-1])
    assert [line for block in blocks for line in framing.lines_of(block)] == _read_all(framing.read_lines, data)
