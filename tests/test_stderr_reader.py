"""``mcp_otel.stderr_reader``: the reader's contract, bullet by bullet, with a real SDK pipeline in memory.

What each bullet of the module docstring is tested by:

* one reader per server: records go through the handler (attributes, conversion, redaction,
  spoofed keys renamed, ``min_level``, accounting) with ``log.iostream = "stderr"``, in order;
* time: the quiet period emits a pending record without more input; close flushes a partial line;
  Timestamp is the line's own time, else the receipt time;
* identity: held until ``learn`` names the server; released with the fallback name when the time
  or byte bound runs out, or at close; no hold when the name was given;
* never raises: invalid UTF-8, NUL bytes, a 10 MB line without a newline, all within the caps;
* ``StderrCapture``: a real child's standard error through ``fileno()``, ``write()``, ``echo``.

The end-to-end routes (proxy, mcp and FastMCP clients, a real OTLP receiver) are in
``tests/test_stderr_source.py``.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from mcp_otel import ConnectionLog, OTelLogHandler
from mcp_otel.stderr_reader import StderrReader, fallback_server_name
from tests.conftest import PYTHON, REPOSITORY
from tests.support.accounting import NO_DROPS, assert_adds_up

TRACEBACK = (
    b"Traceback (most recent call last):\n"
    b'  File "server.py", line 3, in <module>\n'
    b"    main()\n"
    b"ValueError: bad input\n"
)


@pytest.fixture
def pipeline() -> Iterator[tuple[OTelLogHandler, InMemoryLogRecordExporter]]:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    yield OTelLogHandler(provider), exporter
    provider.shutdown()


def _records(exporter: InMemoryLogRecordExporter) -> list[Any]:
    return [item.log_record for item in exporter.get_finished_logs()]


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        time.sleep(0.01)


def _named(handler: OTelLogHandler, name: str = "srv") -> ConnectionLog:
    return ConnectionLog(handler.bind(**{"mcp.server.name": name}))


# --------------------------------------------------------------------------- records through the handler


def test_records_go_through_the_handler_in_order(pipeline: tuple[OTelLogHandler, InMemoryLogRecordExporter]) -> None:
    handler, exporter = pipeline
    reader = StderrReader(_named(handler))
    reader.feed(b"2026-07-28 12:00:00,250+00:00 WARNING app.db: slow\n")
    reader.feed(b'{"level":"error","msg":"json","password":"hunter2","log.iostream":"stdout","mcp.server.name":"x"}\n')
    reader.feed(b"plain\n" + TRACEBACK)
    reader.close()
    records = _records(exporter)
    assert [record.body for record in records] == ["slow", "json", "plain", "ValueError: bad input"]
    assert [record.severity_number.value for record in records] == [13, 17, 9, 17]
    assert [record.severity_text for record in records] == ["WARNING", "error", None, None]
    assert records[0].timestamp == 1_785_240_000_250_000_000  # the line's own time
    assert records[2].timestamp == records[2].observed_timestamp  # no time on the line: receipt time
    assert dict(records[1].attributes or {}) == {
        "password": "[REDACTED]",  # the same redaction as a message's extra
        "mcp_otel.extra.log.iostream": "stdout",  # a server cannot set what the handler sets
        "mcp_otel.extra.mcp.server.name": "x",
        "log.iostream": "stderr",
        "mcp.server.name": "srv",
    }
    traceback = dict(records[3].attributes or {})
    assert (traceback["exception.type"], traceback["exception.message"]) == ("ValueError", "bad input")
    assert traceback["exception.stacktrace"] == TRACEBACK.decode().rstrip("\n")
    assert_adds_up(handler.stats(), 4)


def test_min_level_filters_and_counts(pipeline: tuple[OTelLogHandler, InMemoryLogRecordExporter]) -> None:
    handler, exporter = pipeline
    reader = StderrReader(ConnectionLog(handler.bind(**{"mcp.server.name": "srv"}), min_level="warning"))
    reader.feed(b"INFO chatty\nERROR kept\nan unrecognised line\n")
    reader.close()
    assert [record.body for record in _records(exporter)] == ["kept"]
    stats = handler.stats()
    assert stats["filtered"] == 2
    assert_adds_up(stats, 3)


# --------------------------------------------------------------------------- time


def test_the_quiet_period_emits_a_pending_record(pipeline: tuple[OTelLogHandler, InMemoryLogRecordExporter]) -> None:
    handler, exporter = pipeline
    reader = StderrReader(_named(handler), quiet_seconds=0.05)
    reader.feed(TRACEBACK)  # a traceback may go on (chained ones do): pending until quiet
    _wait_for(lambda: len(_records(exporter)) == 1)
    assert _records(exporter)[0].body == "ValueError: bad input"
    reader.close()
    assert len(_records(exporter)) == 1


def test_close_flushes_the_last_record_and_a_partial_line(
    pipeline: tuple[OTelLogHandler, InMemoryLogRecordExporter],
) -> None:
    handler, exporter = pipeline
    reader = StderrReader(_named(handler), quiet_seconds=3600)
    reader.feed(b"ERROR first\nno newline at the end")
    reader.close()
    assert [record.body for record in _records(exporter)] == ["first", "no newline at the end"]
    reader.feed(b"after close\n")  # ignored
    reader.close()  # idempotent
    assert len(_records(exporter)) == 2


# --------------------------------------------------------------------------- identity


def test_records_are_held_until_the_server_is_named(pipeline: tuple[OTelLogHandler, InMemoryLogRecordExporter]) -> None:
    handler, exporter = pipeline
    reader = StderrReader(ConnectionLog(handler), fallback_name="python", quiet_seconds=0.01, hold_seconds=3600)
    reader.feed(b"INFO booting\n")
    reader.feed(b"INFO still booting\n")
    time.sleep(0.1)  # past the quiet period: the second record is complete, and held as well
    assert _records(exporter) == []
    reader.learn({"mcp.server.name": "weather", "network.transport": "pipe"})
    assert [record.body for record in _records(exporter)] == ["booting", "still booting"]
    reader.feed(b"INFO running\n")
    reader.close()
    for record in _records(exporter):
        assert dict(record.attributes or {}) == {
            "mcp.server.name": "weather", "network.transport": "pipe", "log.iostream": "stderr"
        }


HOLD_BOUNDS = [
    # (row id, reader options, what ends the hold)
    ("time runs out", {"hold_seconds": 0.05}, "wait"),
    ("bytes run out", {"hold_seconds": 3600, "hold_bytes": 10}, "feed"),
    ("closed unnamed", {"hold_seconds": 3600}, "close"),
]


@pytest.mark.parametrize(("options", "ending"), [row[1:] for row in HOLD_BOUNDS], ids=[row[0] for row in HOLD_BOUNDS])
def test_the_fallback_name_when_the_server_never_says(
    pipeline: tuple[OTelLogHandler, InMemoryLogRecordExporter], options: dict[str, Any], ending: str
) -> None:
    handler, exporter = pipeline
    reader = StderrReader(ConnectionLog(handler), fallback_name="my-server", **options)
    reader.feed(b"INFO first of many lines\nINFO second\n")
    if ending == "close":
        reader.close()
    _wait_for(lambda: len(_records(exporter)) >= 1)
    assert _records(exporter)[0].attributes == {"mcp.server.name": "my-server", "log.iostream": "stderr"}
    reader.learn({"mcp.server.name": "real-name"})  # a late name still wins, for what comes next
    reader.feed(b"INFO third\n")
    reader.close()
    names = [dict(record.attributes or {})["mcp.server.name"] for record in _records(exporter)]
    assert names[0] == "my-server" and names[-1] == ("my-server" if ending == "close" else "real-name")


def test_no_fallback_name_releases_records_unnamed(pipeline: tuple[OTelLogHandler, InMemoryLogRecordExporter]) -> None:
    handler, exporter = pipeline
    reader = StderrReader(ConnectionLog(handler), hold_seconds=3600)
    reader.feed(b"INFO x\n")
    reader.close()
    assert [dict(record.attributes or {}) for record in _records(exporter)] == [{"log.iostream": "stderr"}]


@pytest.mark.parametrize(
    ("command", "name"),
    [("python", "python"), (["/usr/local/bin/weather-server", "--stdio"], "weather-server"), ([], None), (None, None)],
)
def test_fallback_server_name(command: Any, name: str | None) -> None:
    assert fallback_server_name(command) == name


# --------------------------------------------------------------------------- hostile bytes


HOSTILE_INPUTS = [
    ("invalid UTF-8", b"INFO \xff\xfe broken \xc3\x28\n"),
    ("NUL bytes", b"ERROR a\x00b\x00\n"),
    ("ANSI and CR LF", b"\x1b[31mERROR\x1b[0m red\r\n"),
    ("10 MB line without newline", b"x" * 10_000_000),
    ("10 MB JSON line", b'{"level":"info","msg":"' + b"y" * 10_000_000 + b'"}\n'),
    ("deep JSON", b'{"level":"info","msg":"m","a":' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"),
    ("only blank lines", b"\n\n   \n\t\n"),
]


@pytest.mark.parametrize("data", [row[1] for row in HOSTILE_INPUTS], ids=[row[0] for row in HOSTILE_INPUTS])
def test_hostile_bytes_never_raise_and_stay_within_the_caps(
    pipeline: tuple[OTelLogHandler, InMemoryLogRecordExporter], data: bytes
) -> None:
    handler, exporter = pipeline
    reader = StderrReader(_named(handler))
    for start in range(0, len(data), 65_536):  # as a pipe delivers it
        reader.feed(data[start : start + 65_536])
    reader.close()
    stats = handler.stats()
    assert stats["dropped"] == NO_DROPS  # no internal error either
    assert_adds_up(stats, len(_records(exporter)))
    for record in _records(exporter):
        assert isinstance(record.body, str) and len(record.body) <= 32_768  # the message cap
        assert "\x1b" not in record.body
        if len(data) > 1_000_000:
            assert dict(record.attributes or {})["mcp_otel.truncated"] is True
    if data.strip():
        assert len(_records(exporter)) == 1


# --------------------------------------------------------------------------- StderrCapture


def test_capture_takes_a_child_standard_error(pipeline: tuple[OTelLogHandler, InMemoryLogRecordExporter]) -> None:
    handler, exporter = pipeline
    child = "import sys; sys.stderr.write('WARNING:app:from the child\\n'); sys.stderr.write('tail')"
    with handler.capture_stderr(**{"mcp.server.name": "child"}) as errlog:
        errlog.write("ERROR written by the parent\n")
        errlog.write(b"INFO as bytes\n")
        errlog.flush()
        assert subprocess.run([PYTHON, "-c", child], stderr=errlog, timeout=30).returncode == 0
    assert errlog.closed
    assert [record.body for record in _records(exporter)] == [
        "written by the parent", "as bytes", "from the child", "tail"  # the last line ended by close
    ]
    assert all(dict(record.attributes or {})["mcp.server.name"] == "child" for record in _records(exporter))
    with pytest.raises(ValueError):
        errlog.fileno()


ECHOING_PARENT = """
import subprocess, sys
from opentelemetry.sdk._logs import LoggerProvider
from mcp_otel import OTelLogHandler
with OTelLogHandler(LoggerProvider()) as handler, handler.capture_stderr(echo=True) as errlog:
    subprocess.run([sys.executable, "-c", "import sys; sys.stderr.buffer.write(b'raw \\\\xff bytes\\\\n')"], stderr=errlog)
print(handler.stats()["received"])
"""


def test_echo_copies_every_byte_to_the_own_standard_error() -> None:
    completed = subprocess.run(
        [PYTHON, "-c", ECHOING_PARENT], capture_output=True, timeout=60, cwd=REPOSITORY,
        env={"PYTHONPATH": str(REPOSITORY), "OTEL_LOGS_EXPORTER": "none", "PATH": "/usr/bin:/bin"},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == b"raw \xff bytes\n"
    assert completed.stdout == b"1\n"


def test_a_record_carries_json_fields_as_attributes(pipeline: tuple[OTelLogHandler, InMemoryLogRecordExporter]) -> None:
    handler, exporter = pipeline
    line = json.dumps({"level": 30, "msg": "pino", "req": {"id": 7, "path": "/x"}, "pid": 1}).encode() + b"\n"
    with handler.capture_stderr(**{"mcp.server.name": "node"}) as errlog:
        errlog.write(line)
    (record,) = _records(exporter)
    assert (record.body, record.severity_number.value) == ("pino", 9)
    assert dict(record.attributes or {})["req"] == {"id": 7, "path": "/x"}




def test_the_hold_counts_structured_fields(pipeline: tuple[OTelLogHandler, InMemoryLogRecordExporter]) -> None:
    handler, exporter = pipeline
    reader = StderrReader(ConnectionLog(handler), fallback_name="cmd", hold_seconds=3600, hold_bytes=50_000)
    nested = json.dumps({"level": "info", "msg": "m", "payload": {"rows": [["x" * 1000] * 10] * 10}})
    reader.feed(nested.encode() + b"\n")
    reader.feed(b"INFO next\n")  # completes the JSON record: about 100 kB of nested text, over the bound
    assert [record.body for record in _records(exporter)] == ["m"]  # released at once, with the fallback
    assert dict(_records(exporter)[0].attributes or {})["mcp.server.name"] == "cmd"
    reader.close()
