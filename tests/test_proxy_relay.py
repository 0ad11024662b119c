"""``mcp_otel.proxy.relay``'s export queue: the relays never wait for it, and every line it is handed is counted."""

from __future__ import annotations

import os
import subprocess
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
from mcp_otel.stderr_reader import StderrReader
from tests.conftest import PYTHON
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


# --------------------------------------------------------------------------- standard error

FLOOD_LINES = 100_000
# A real child writes FLOOD_LINES lines to its standard error as fast as the pipe takes them.
STDERR_FLOOD = (
    "import sys\n"
    "out = sys.stderr.buffer\n"
    f"for start in range(0, {FLOOD_LINES}, 500):\n"
    "    out.write(b''.join(b'INFO flood line %d\\n' % index for index in range(start, start + 500)))\n"
    "out.flush()\n"
)


def _flood_bytes() -> bytes:
    return b"".join(b"INFO flood line %d\n" % index for index in range(FLOOD_LINES))


@pytest.mark.parametrize("max_pending", [relay.MAX_PENDING_EXPORTS, 2], ids=["default queue", "a queue of two items"])
def test_a_stderr_flood_reaches_the_host_whole_and_every_line_is_counted(
    exported: tuple[OTelLogHandler, InMemoryLogRecordExporter], monkeypatch: pytest.MonkeyPatch, max_pending: int
) -> None:
    handler, exporter = exported
    monkeypatch.setattr(relay, "MAX_PENDING_EXPORTS", max_pending)
    connection = ConnectionLog(handler.bind(**{"mcp.server.name": "flood"}))
    queue = ExportQueue(connection, StderrReader(connection))
    host_read, host_write = os.pipe()
    host_received = bytearray()

    def host() -> None:  # the host reading its log of the server
        while data := os.read(host_read, 1 << 16):
            host_received.extend(data)

    host_thread = threading.Thread(target=host)
    host_thread.start()
    child = subprocess.Popen([PYTHON, "-c", STDERR_FLOOD], stderr=subprocess.PIPE)
    assert child.stderr is not None
    relay._relay_stderr(child.stderr.fileno(), queue, host_write)
    assert child.wait(60) == 0
    os.close(host_write)
    host_thread.join(60)
    os.close(host_read)
    queue.close(120)

    assert bytes(host_received) == _flood_bytes()  # every byte, in order
    stats = handler.stats()
    assert_adds_up(stats, FLOOD_LINES)  # one record per line: exported or dropped and counted
    bodies = [str(record.log_record.body) for record in exporter.get_finished_logs()]
    assert len(bodies) == stats["exported"]
    numbers = [int(body.rsplit(" ", 1)[1]) for body in bodies]
    assert numbers == sorted(numbers)  # never reordered
    print(f"flood: {len(host_received)} bytes relayed; {stats}")  # the numbers, with pytest -s


def test_an_unfinished_stderr_line_is_exported_while_the_server_waits(
    exported: tuple[OTelLogHandler, InMemoryLogRecordExporter],
) -> None:
    handler, exporter = exported
    connection = ConnectionLog(handler.bind(**{"mcp.server.name": "prompt"}))
    queue = ExportQueue(connection, StderrReader(connection))
    host_read, host_write = os.pipe()
    waiting = "import sys; sys.stderr.write('ERROR waiting for input'); sys.stderr.flush(); sys.stdin.read()"
    child = subprocess.Popen([PYTHON, "-c", waiting], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdin is not None and child.stderr is not None
    relay_thread = threading.Thread(target=relay._relay_stderr, args=(child.stderr.fileno(), queue, host_write))
    relay_thread.start()
    try:
        assert os.read(host_read, 100) == b"ERROR waiting for input"  # relayed at once, without its newline
        deadline = time.monotonic() + 10
        while not exporter.get_finished_logs():  # the server is still waiting: no end of file yet
            assert time.monotonic() < deadline, "the unfinished line was not exported"
            time.sleep(0.01)
        (record,) = exporter.get_finished_logs()
        assert (record.log_record.body, record.log_record.severity_text) == ("waiting for input", "ERROR")
        assert child.poll() is None
    finally:
        child.stdin.close()
        child.wait(30)
        relay_thread.join(30)
        os.close(host_write)
        os.close(host_read)
        queue.close(30)
    assert_adds_up(handler.stats(), 1)
