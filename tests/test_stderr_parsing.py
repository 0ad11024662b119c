"""stderr_parsing: the contract in its module docstring, row by row.

* the corpus: real captures under tests/data/stderr, each against its hand-written expected records;
* single lines, one row per format, and the level-position near-misses;
* multi-line joining, the quiet period and close(), blank lines and invalid UTF-8;
* caps: huge lines, a 100,000-line traceback, huge and deep JSON, memory held while flooding;
* Hypothesis: arbitrary bytes split anywhere give the records of the unsplit stream, and never raise.
"""

from __future__ import annotations

import json
import tracemalloc
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_otel import stderr_parsing
from mcp_otel.stderr_parsing import StderrEntry, StderrParser

CORPUS = Path(__file__).parent / "data" / "stderr"
CORPUS_NAMES = sorted(path.name.removesuffix(".stderr") for path in CORPUS.glob("*.stderr"))


def parse(data: bytes, **options: Any) -> list[StderrEntry]:
    parser = StderrParser(**options)
    return parser.feed(data, 0.0) + parser.close()


def parse_one(data: bytes, **options: Any) -> StderrEntry:
    records = parse(data, **options)
    assert len(records) == 1, records
    return records[0]


def local_ns(text: str) -> int:
    moment = datetime.fromisoformat(text)
    return round(moment.replace(microsecond=0).timestamp()) * 10**9 + moment.microsecond * 1000


def utc_ns(text: str) -> int:
    """An RFC 3339 time with Z and up to 9 fraction digits, in nanoseconds (typed out, not the parser's)."""
    assert text.endswith("Z")
    whole, _, fraction = text[:-1].partition(".")
    moment = datetime.fromisoformat(whole).replace(tzinfo=timezone.utc)
    return int(moment.timestamp()) * 10**9 + int(fraction.ljust(9, "0") or 0)


def expected_timestamp(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        return utc_ns(value)
    assert isinstance(value, dict)
    if "local" in value:
        return local_ns(value["local"])
    return int(value["ns"])


# ---------------------------------------------------------------------------------------------
# The corpus


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_corpus(name: str) -> None:
    data = (CORPUS / f"{name}.stderr").read_bytes()
    expected = json.loads((CORPUS / f"{name}.expected.json").read_text())["records"]
    records = parse(data)
    assert [record.body for record in records] == [item["body"] for item in expected]
    for record, item in zip(records, expected, strict=True):
        assert record.severity_number == item["severity_number"], record
        assert record.severity_text == item["severity_text"], record
        assert record.logger == item["logger"], record
        assert record.timestamp_ns == expected_timestamp(item["timestamp"]), record
        assert sorted(record.attributes) == item["attribute_keys"], record
        for key, value in item["attributes"].items():
            assert record.attributes[key] == value, (key, record)
        assert record.truncated is False
        if "exception_type" in item:
            assert record.attributes["exception.type"] == item["exception_type"]
            assert record.attributes["exception.message"] == item["exception_message"]
        stacktrace = str(record.attributes.get("exception.stacktrace", ""))
        if "stacktrace_first_line" in item:
            assert stacktrace.splitlines()[0] == item["stacktrace_first_line"]
        if "stacktrace_first_line_contains" in item:
            assert item["stacktrace_first_line_contains"] in stacktrace.splitlines()[0]
        if "stacktrace_last_line" in item:
            assert stacktrace.splitlines()[-1] == item["stacktrace_last_line"]


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_corpus_split_into_small_chunks_gives_the_same_records(name: str) -> None:
    data = (CORPUS / f"{name}.stderr").read_bytes()
    parser = StderrParser()
    records: list[StderrEntry] = []
    for start in range(0, len(data), 7):
        records += parser.feed(data[start : start + 7], 0.0)
    assert records + parser.close() == parse(data)


def test_every_capture_has_expected_records() -> None:
    assert CORPUS_NAMES and all((CORPUS / f"{name}.expected.json").exists() for name in CORPUS_NAMES)


# ---------------------------------------------------------------------------------------------
# One line, one format


@dataclass(frozen=True)
class LineCase:
    line: str
    severity_number: int
    severity_text: str | None
    body: str
    timestamp_ns: int | None = None
    logger: str | None = None
    attributes: tuple[tuple[str, object], ...] = ()


PINO_MS = 1764043212345
SINGLE_LINES: dict[str, LineCase] = {
    "json pino (numeric level, epoch ms, name)": LineCase(
        f'{{"level":30,"time":{PINO_MS},"pid":7,"name":"app","msg":"hello"}}',
        9,
        "30",
        "hello",
        PINO_MS * 10**6,
        "app",
        (("pid", 7),),
    ),
    "json bunyan (ISO time)": LineCase(
        '{"name":"app","level":50,"msg":"boom","time":"2026-11-25T04:00:12.345Z","v":0}',
        17,
        "50",
        "boom",
        utc_ns("2026-11-25T04:00:12.345Z"),
        "app",
        (("v", 0),),
    ),
    "json pino fatal": LineCase('{"level":60,"msg":"dead"}', 21, "60", "dead"),
    "json python levelno": LineCase('{"levelno":50,"message":"x"}', 21, "50", "x"),
    "json zap (epoch seconds, caller)": LineCase(
        '{"level":"warn","ts":1764043212.5,"caller":"srv/main.go:12","msg":"slow"}',
        13,
        "warn",
        "slow",
        1764043212_500000000,
        None,
        (("code.file.path", "srv/main.go"), ("code.line.number", 12)),
    ),
    "json slog (offset level, nanoseconds, zone)": LineCase(
        '{"time":"2026-11-25T04:00:12.123456789+01:00","level":"WARN+2","msg":"m"}',
        15,
        "WARN+2",
        "m",
        utc_ns("2026-11-25T03:00:12.123456789Z"),
    ),
    "json structlog (event)": LineCase(
        '{"event":"started","level":"info","timestamp":"2026-11-25T04:00:12Z","logger":"srv"}',
        9,
        "info",
        "started",
        utc_ns("2026-11-25T04:00:12Z"),
        "srv",
    ),
    "json tracing (fields.message, target)": LineCase(
        '{"timestamp":"2026-11-25T04:00:12.000001Z","level":"ERROR","fields":{"message":"failed","code":7},"target":"app::db"}',
        17,
        "ERROR",
        "failed",
        utc_ns("2026-11-25T04:00:12.000001Z"),
        "app::db",
        (("code", 7),),
    ),
    "json CLEF (@t @l @m)": LineCase(
        '{"@t":"2026-11-25T04:00:12Z","@l":"Warning","@m":"disk low"}',
        13,
        "Warning",
        "disk low",
        utc_ns("2026-11-25T04:00:12Z"),
    ),
    "json severity NOTICE": LineCase('{"severity":"NOTICE","message":"n"}', 10, "NOTICE", "n"),
    "json unknown level word": LineCase('{"level":"verbose2","msg":"x"}', 9, "verbose2", "x"),
    "json boolean level is not a level": LineCase(
        '{"level":true,"msg":"x"}', 9, None, "x", None, None, (("level", True),)
    ),
    "json without level or message is text": LineCase('{"a":1}', 9, None, '{"a":1}'),
    "json array is text": LineCase("[1, 2]", 9, None, "[1, 2]"),
    "logfmt slog text": LineCase(
        'time=2026-11-25T04:00:12.000Z level=ERROR msg="tool failed" tool=search',
        17,
        "ERROR",
        "tool failed",
        utc_ns("2026-11-25T04:00:12Z"),
        None,
        (("tool", "search"),),
    ),
    "logfmt logrus": LineCase(
        'time="2026-11-25T04:00:12Z" level=warning msg="disk low"',
        13,
        "warning",
        "disk low",
        utc_ns("2026-11-25T04:00:12Z"),
    ),
    "logfmt quoted escapes": LineCase(r'level=info msg="a \"b\"\tc"', 9, "info", 'a "b"\tc'),
    "loguru": LineCase(
        "2026-11-25 04:00:12.345 | WARNING  | app.server:run:42 - slow",
        13,
        "WARNING",
        "slow",
        local_ns("2026-11-25 04:00:12.345"),
        "app.server",
        (("code.function.name", "run"), ("code.line.number", 42)),
    ),
    "rich": LineCase(
        "[11/25/26 04:00:12] ERROR    failed to connect                      server.py:123",
        17,
        "ERROR",
        "failed to connect",
        local_ns("2026-11-25 04:00:12"),
        None,
        (("code.file.path", "server.py"), ("code.line.number", 123)),
    ),
    "rich day first when month cannot be": LineCase(
        "[25/11/26 04:00:12] INFO     x                                       a.py:1",
        9,
        "INFO",
        "x",
        local_ns("2026-11-25 04:00:12"),
        None,
        (("code.file.path", "a.py"), ("code.line.number", 1)),
    ),
    "rich with a time-only column": LineCase(
        "[04:00:12] WARNING  slow                                   tools.py:9",
        13,
        "WARNING",
        "slow",
        None,
        None,
        (("code.file.path", "tools.py"), ("code.line.number", 9)),
    ),
    "rich without level column": LineCase(
        "[11/25/26 04:00:12] Error calling tool 'x'", 9, None, "Error calling tool 'x'", local_ns("2026-11-25 04:00:12")
    ),
    "python basicConfig": LineCase("WARNING:root:disk low", 13, "WARNING", "disk low", None, "root"),
    "python basicConfig CRITICAL": LineCase("CRITICAL:mcp.server:down", 21, "CRITICAL", "down", None, "mcp.server"),
    "stdlib asctime - name - level": LineCase(
        "2026-11-25 04:00:12,345 - app.db - ERROR - failed",
        17,
        "ERROR",
        "failed",
        local_ns("2026-11-25 04:00:12.345"),
        "app.db",
    ),
    "stdlib asctime level name:": LineCase(
        "2026-11-25 04:00:12,345 INFO mcp.server: started",
        9,
        "INFO",
        "started",
        local_ns("2026-11-25 04:00:12.345"),
        "mcp.server",
    ),
    "stdlib asctime - level -": LineCase(
        "2026-11-25 04:00:12,345 - INFO - started", 9, "INFO", "started", local_ns("2026-11-25 04:00:12.345")
    ),
    "stdlib asctime [level]": LineCase(
        "2026-11-25 04:00:12,345 [DEBUG] cache hit", 5, "DEBUG", "cache hit", local_ns("2026-11-25 04:00:12.345")
    ),
    "structlog console": LineCase(
        "2026-11-25T04:00:12.345678Z [warning  ] slow tool",
        13,
        "warning",
        "slow tool",
        utc_ns("2026-11-25T04:00:12.345678Z"),
    ),
    "rust tracing": LineCase(
        "2026-11-25T04:00:12.123456Z  INFO my_app::server: listening",
        9,
        "INFO",
        "listening",
        utc_ns("2026-11-25T04:00:12.123456Z"),
        "my_app::server",
    ),
    "iso time with offset": LineCase(
        "2026-11-25T04:00:12+02:00 ERROR failed", 17, "ERROR", "failed", utc_ns("2026-11-25T02:00:12Z")
    ),
    "go log (no level)": LineCase(
        "2026/11/25 04:00:12 listening on stdio", 9, None, "listening on stdio", local_ns("2026-11-25 04:00:12")
    ),
    "zap console (tabs)": LineCase(
        '2026-11-25T04:00:12.000Z\tinfo\tsrv\tmain.go:12\tstarted\t{"k": 1}',
        9,
        "info",
        "started",
        utc_ns("2026-11-25T04:00:12Z"),
        "srv",
        (("code.file.path", "main.go"), ("code.line.number", 12), ("k", 1)),
    ),
    "Level: prefix": LineCase("Error: boom", 17, "Error", "boom"),
    "level: prefix lower case": LineCase("warning: deprecated flag", 13, "warning", "deprecated flag"),
    "LEVEL prefix in capitals": LineCase("ERROR something broke", 17, "ERROR", "something broke"),
    "[LEVEL] prefix": LineCase("[WARN] disk low", 13, "WARN", "disk low"),
    "[level ] padded": LineCase("[info ] x", 9, "info", "x"),
    "syslog crit": LineCase("[crit] x", 18, "crit", "x"),
    "notice": LineCase("NOTICE: x", 10, "NOTICE", "x"),
    "logrus tty": LineCase("WARN[0000] disk low", 13, "WARN", "disk low"),
    "uvicorn padded": LineCase("INFO:     Started server process [12]", 9, "INFO", "Started server process [12]"),
    "python warnings": LineCase(
        "/srv/app.py:12: DeprecationWarning: old api",
        13,
        "DeprecationWarning",
        "old api",
        None,
        None,
        (("code.file.path", "/srv/app.py"), ("code.line.number", 12)),
    ),
    "unrecognised text": LineCase("Listening on stdio", 9, None, "Listening on stdio"),
}

# A level word that the format does not put in level position is no level.
NEAR_MISSES: dict[str, str] = {
    "sentence starting with Error": "Error connecting to database",
    "sentence starting with error": "error connecting to database",
    "Debug mode": "Debug mode enabled",
    "error: inside a message": "Failed to connect, error: timeout",
    "errors: is not a level word": "errors: 3 found",
    "level word inside JSON message": '{"msg":"ERROR in upstream"}',
    "key=value without level or message key": "status=ERROR code=5",
    "exception line alone": "ValueError: bad value",
    "go log sentence starting with error": "2026/11/25 04:00:12 error connecting to upstream",
    "asctime then a name then error:": "2026-11-25 04:00:12,345 worker error: timeout",
}


@pytest.mark.parametrize("case", SINGLE_LINES.values(), ids=SINGLE_LINES.keys())
def test_single_line_formats(case: LineCase) -> None:
    record = parse_one(case.line.encode() + b"\n")
    assert (record.severity_number, record.severity_text, record.body) == (
        case.severity_number,
        case.severity_text,
        case.body,
    )
    assert record.timestamp_ns == case.timestamp_ns
    assert record.logger == case.logger
    assert record.attributes == dict(case.attributes)
    assert record.truncated is False


@pytest.mark.parametrize("line", NEAR_MISSES.values(), ids=NEAR_MISSES.keys())
def test_level_word_outside_level_position_is_no_level(line: str) -> None:
    record = parse_one(line.encode() + b"\n")
    assert (record.severity_number, record.severity_text) == (9, None)


def test_the_same_line_indented_is_a_continuation_not_a_level() -> None:
    (record,) = parse(b"INFO: fetching prices\n    error: Error in AWS Pricing\n")
    assert (record.severity_number, record.body) == (9, "fetching prices\n    error: Error in AWS Pricing")


# ---------------------------------------------------------------------------------------------
# Multi-line records


def rich_line(
    message: str, path: str = "", width: int = 60, time: str = "[11/25/26 04:00:12]", level: str = "INFO"
) -> str:
    """A line as Rich's LogRender lays it out: time (20), level (9), message padded, path right-aligned."""
    time_column = f"{time} " if time else " " * 20
    level_column = level.ljust(8) + " " if level else " " * 9
    path_column = (" " + path) if path else " " * 7
    message_width = width - 20 - 9 - len(path_column)
    return time_column + level_column + message.ljust(message_width) + path_column


TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "a.py", line 3, in <module>\n'
    "    read()\n"
    "ValueError: bad value\n"
    "\n"
    "During handling of the above exception, another exception occurred:\n"
    "\n"
    "Traceback (most recent call last):\n"
    '  File "a.py", line 5, in <module>\n'
    '    raise RuntimeError("no config")\n'
    "RuntimeError: no config\n"
)


@dataclass(frozen=True)
class MultiCase:
    stream: bytes
    records: list[tuple[int, str | None, str]]  # severity number, severity text, body
    attributes: dict[str, object] | None = None  # checked on the record at attributes_of
    attributes_of: int = -1


MULTI_LINES: dict[str, MultiCase] = {
    "ANSI colours and OSC 8 hyperlinks are removed": MultiCase(
        b"\x1b[31mERROR\x1b[0m \x1b]8;id=1;file:///x\x1b\\link\x1b]8;;\x1b\\ text \x1b(B\x1b[2Kdone\n",
        [(17, "ERROR", "link text done")],
    ),
    "Rich wrapped line starting with error: continues its record": MultiCase(
        (
            rich_line("Failed to get pricing for", "server.py:12", level="ERROR")
            + "\n"
            + rich_line("error: Error in AWS Pricing", time="", level="")
            + "\n"
        ).encode(),
        [(17, "ERROR", "Failed to get pricing for error: Error in AWS Pricing")],
        {"code.file.path": "server.py", "code.line.number": 12},
    ),
    "Rich repeated time starts a new record": MultiCase(
        (rich_line("first", "a.py:1") + "\n" + rich_line("second", "a.py:2", time="", level="WARNING") + "\n").encode(),
        [(9, "INFO", "first"), (13, "WARNING", "second")],
    ),
    "Rich folded URL is rejoined without a space": MultiCase(
        (
            rich_line("fetching", "a.py:1")
            + "\n"
            + rich_line("https://example.com/abcd", time="", level="")
            + "\n"  # fills the 24-wide column
            + rich_line("efgh/p.html failed", time="", level="")
            + "\n"
        ).encode(),
        [(9, "INFO", "fetching https://example.com/abcdefgh/p.html failed")],
    ),
    "logger.exception with a chained traceback is one record": MultiCase(
        ("2026-11-25 04:00:12,345 - app - ERROR - could not start\n" + TRACEBACK).encode(),
        [(17, "ERROR", "could not start")],
        {"exception.type": "RuntimeError", "exception.message": "no config"},
    ),
    "uncaught chained traceback is one ERROR record": MultiCase(
        TRACEBACK.encode(), [(17, None, "RuntimeError: no config")], {"exception.type": "RuntimeError"}
    ),
    "traceback after an INFO line is its own record": MultiCase(
        ("INFO: server started\n" + TRACEBACK).encode(),
        [(9, "INFO", "server started"), (17, None, "RuntimeError: no config")],
    ),
    "traceback after a level-less line ending with a colon joins it": MultiCase(
        ("Exception in thread worker:\n" + TRACEBACK).encode(),
        [(17, None, "Exception in thread worker:")],
        {"exception.type": "RuntimeError"},
    ),
    "a blank line keeps a traceback apart": MultiCase(
        ("ERROR:app:failed\n\n" + TRACEBACK).encode(), [(17, "ERROR", "failed"), (17, None, "RuntimeError: no config")]
    ),
    "pydantic field lines continue the exception message": MultiCase(
        b"Traceback (most recent call last):\n"
        b'  File "a.py", line 1, in <module>\n'
        b"pydantic_core._pydantic_core.ValidationError: 1 validation error for add\n"
        b"b\n"
        b"  Input should be a valid integer [type=int_parsing]\n"
        b"Server stopped\n",
        [
            (17, None, "pydantic_core._pydantic_core.ValidationError: 1 validation error for add"),
            (9, None, "Server stopped"),
        ],
        {"exception.message": "1 validation error for add\nb\n  Input should be a valid integer [type=int_parsing]"},
        attributes_of=0,
    ),
    "loguru traceback decorations belong to the record": MultiCase(
        b"2026-11-25 04:00:12.345 | ERROR    | app:run:9 - failed\n"
        b"Traceback (most recent call last):\n\n"
        b'> File "a.py", line 9, in run\n'
        b"    divide(1, 0)\n"
        b"    \xe2\x94\x94 <function divide at 0x1>\n\n"
        b"ZeroDivisionError: division by zero\n"
        b"2026-11-25 04:00:12.346 | INFO     | app:run:10 - next\n",
        [(17, "ERROR", "failed"), (9, "INFO", "next")],
    ),
    "Node stack is one record": MultiCase(
        b"TypeError: fetch failed\n    at f (/srv/a.js:1:1)\n    at g (/srv/b.js:2:2)\n",
        [(17, None, "TypeError: fetch failed")],
        {"exception.type": "TypeError", "exception.message": "fetch failed"},
    ),
    "Node error properties block closes with a column-0 brace": MultiCase(
        b"Error: connect refused\n    at f (/srv/a.js:1:1) {\n  code: 'ECONNREFUSED'\n}\nINFO: next\n",
        [(17, "Error", "connect refused"), (9, "INFO", "next")],
        None,
    ),
    "path:line without a caret under it is no Node crash": MultiCase(
        b"/tmp/a.txt:12\nLoading config\n    key = value\n",
        [(9, None, "/tmp/a.txt:12"), (9, None, "Loading config\n    key = value")],
    ),
    "indented lines continue a record": MultiCase(
        b"INFO x\n  detail one\n\tdetail two\n", [(9, "INFO", "x\n  detail one\n\tdetail two")]
    ),
    "blank lines are skipped": MultiCase(b"\n\n   \nINFO: a\n\n\n\nINFO: b\n\n", [(9, "INFO", "a"), (9, "INFO", "b")]),
    "CR LF ends lines": MultiCase(b"INFO: a\r\nINFO: b\r\n", [(9, "INFO", "a"), (9, "INFO", "b")]),
    "a lone CR does not end a line": MultiCase(b"50%\r100%\n", [(9, None, "50%\r100%")]),
    "invalid UTF-8 is replaced": MultiCase(b"INFO: caf\xe9 \xff\xfe\n", [(9, "INFO", "caf\ufffd \ufffd\ufffd")]),
    "last line without a newline is a record at close": MultiCase(
        b"INFO: a\nINFO: b", [(9, "INFO", "a"), (9, "INFO", "b")]
    ),
}


@pytest.mark.parametrize("case", MULTI_LINES.values(), ids=MULTI_LINES.keys())
def test_multi_line_records(case: MultiCase) -> None:
    records = parse(case.stream)
    assert [(record.severity_number, record.severity_text, record.body) for record in records] == case.records
    for key, value in (case.attributes or {}).items():
        assert records[case.attributes_of].attributes[key] == value


def test_a_traceback_is_exactly_one_record_with_its_full_text() -> None:
    (record,) = parse(TRACEBACK.encode())
    assert record.attributes["exception.stacktrace"] == TRACEBACK.rstrip("\n")


# ---------------------------------------------------------------------------------------------
# Quiet period, poll, close


def test_a_pending_record_is_emitted_after_the_quiet_period() -> None:
    parser = StderrParser(quiet_seconds=0.25)
    assert parser.pending_deadline is None
    assert parser.feed(b"INFO: a\n", now=10.0) == []
    assert parser.pending_deadline == 10.25
    assert parser.poll(10.2) == []
    assert [record.body for record in parser.poll(10.25)] == ["a"]
    assert parser.pending_deadline is None
    assert parser.poll(99.0) == [] and parser.close() == []


def test_new_bytes_push_the_deadline_and_complete_the_previous_record() -> None:
    parser = StderrParser(quiet_seconds=0.25)
    parser.feed(b"INFO: a\n", now=1.0)
    assert [record.body for record in parser.feed(b"INFO: b\n", now=1.2)] == ["a"]
    assert parser.pending_deadline == pytest.approx(1.45)
    assert parser.poll(1.3) == []
    assert [record.body for record in parser.close()] == ["b"]


def test_a_partial_line_is_taken_as_complete_after_the_quiet_period() -> None:
    parser = StderrParser(quiet_seconds=0.25)
    parser.feed(b"INFO: par", now=0.0)
    assert [record.body for record in parser.poll(0.3)] == ["par"]
    parser.feed(b"tial\n", now=0.4)
    assert [record.body for record in parser.close()] == ["tial"]


def test_quiet_period_ends_a_record_before_a_later_traceback() -> None:
    parser = StderrParser(quiet_seconds=0.25)
    parser.feed(b"ERROR:app:failed\n", now=0.0)
    assert [record.body for record in parser.poll(1.0)] == ["failed"]
    parser.feed(TRACEBACK.encode(), now=2.0)
    assert [record.body for record in parser.close()] == ["RuntimeError: no config"]


def test_node_crash_is_emitted_as_soon_as_its_version_trailer_arrives() -> None:
    crash = (CORPUS / "node_uncaught_exception.stderr").read_bytes()
    parser = StderrParser()
    assert [record.severity_number for record in parser.feed(crash, 0.0)] == [9, 17]
    assert parser.close() == []


# ---------------------------------------------------------------------------------------------
# Caps


def utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def test_a_line_longer_than_the_cap_is_cut_and_the_rest_discarded() -> None:
    records = parse(b"INFO: " + b"a" * 5000 + b"\nINFO: next\n", max_record_bytes=1000)
    assert [(record.truncated, record.body[:6]) for record in records] == [(True, "aaaaaa"), (False, "next")]
    assert utf8_size(records[0].body) <= 1000


def test_multi_byte_characters_are_cut_on_a_character_boundary() -> None:
    (record,) = parse(("é" * 1000 + "\n").encode(), max_record_bytes=101)
    assert record.truncated and utf8_size(record.body) <= 101 and set(record.body) == {"é"}


def test_a_100000_line_traceback_is_one_bounded_record() -> None:
    frames = '  File "a.py", line 1, in f\n    f()\n' * 50_000
    stream = f"ERROR:app:recursing\nTraceback (most recent call last):\n{frames}RecursionError: maximum recursion depth exceeded\n"
    (record,) = parse(stream.encode(), max_record_bytes=65_536)
    assert (record.severity_text, record.body, record.truncated) == ("ERROR", "recursing", True)
    assert record.attributes["exception.type"] == "RecursionError"  # read from the real last line
    assert utf8_size(str(record.attributes["exception.stacktrace"])) <= 65_536


def test_an_exception_message_of_100000_lines_is_capped() -> None:
    stream = "Traceback (most recent call last):\nValueError: start\n" + "  more detail\n" * 100_000
    (record,) = parse(stream.encode(), max_record_bytes=4096)
    message = str(record.attributes["exception.message"])
    assert message.startswith("start\n  more detail") and utf8_size(message) <= 4096 and record.truncated


def test_a_json_line_longer_than_the_cap_is_not_parsed_as_json() -> None:
    line = '{"level":"error","msg":"' + "x" * 2000 + '"}'
    (record,) = parse(line.encode() + b"\n", max_record_bytes=1000)
    assert (record.severity_number, record.severity_text, record.truncated) == (9, None, True)
    assert record.body.startswith('{"level":"error"') and utf8_size(record.body) <= 1000


def test_deeply_nested_json_is_text() -> None:
    line = '{"msg":' * 100_000 + "1" + "}" * 100_000
    (record,) = parse(line.encode() + b"\n")
    assert (record.severity_number, record.severity_text, record.body) == (9, None, line)


def test_memory_held_stays_bounded_by_the_cap_whatever_the_input() -> None:
    cap = 65_536
    parser = StderrParser(max_record_bytes=cap)
    chunk = b"x" * 65_536
    records: list[StderrEntry] = []
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        records += parser.feed(b"INFO: ", 0.0)
        for _ in range(300):  # one 19 MiB line
            records += parser.feed(chunk, 0.0)
        records += parser.feed(b"\nERROR:app:boom\nTraceback (most recent call last):\n", 0.0)
        for _ in range(300):  # then a 30,000-line traceback
            records += parser.feed(b'  File "a.py", line 1, in f\n' * 100 + b"\n", 0.0)
        records += parser.feed(b"ValueError: x\n", 0.0)
        for _ in range(300):  # whose exception message goes on for 30,000 indented lines
            records += parser.feed(b"  detail of the message\n" * 100, 0.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    records += parser.close()
    assert [record.truncated for record in records] == [True, True]
    assert peak < 12 * cap  # against 19 MiB + 1 MiB of input


# ---------------------------------------------------------------------------------------------
# Nothing raises; splitting never changes the records


def parse_in_pieces(data: bytes, cuts: list[int], **options: Any) -> list[StderrEntry]:
    parser = StderrParser(**options)
    records: list[StderrEntry] = []
    start = 0
    for cut in sorted({cut % (len(data) + 1) for cut in cuts}):
        records += parser.feed(data[start:cut], 0.0)
        start = cut
    records += parser.feed(data[start:], 0.0)
    return records + parser.close()


FRAGMENTS = [
    "INFO: a",
    "ERROR b",
    "error: c",
    "Error connecting",
    "WARNING:root:d",
    "[WARN] e",
    "\x1b[31mERROR\x1b[0m f",
    "2026-11-25 04:00:12,345 - app - ERROR - g",
    "2026-11-25 04:00:12.345 | ERROR    | m:f:1 - h",
    "2026-11-25T04:00:12.123456Z  INFO t::u: i",
    rich_line("j", "a.py:1"),
    rich_line("k", time="", level=""),
    rich_line("l", "a.py:2", time="", level="ERROR"),
    '{"level":50,"msg":"m"}',
    '{"msg":',
    "level=info msg=n",
    "Traceback (most recent call last):",
    '  File "a.py", line 1, in f',
    "ValueError: o",
    "b",
    "  detail",
    "During handling of the above exception, another exception occurred:",
    "  + Exception Group Traceback (most recent call last):",
    "  | ExceptionGroup: p (1 sub-exception)",
    "/srv/a.js:1",
    "  throw e;",
    "  ^",
    "Error: q",
    "    at f (a.js:1:1) {",
    "}",
    "Node.js v20.0.0",
    "panic: r",
    "goroutine 1 [running]:",
    "main.main()",
    "\tmain.go:1 +0x1",
    "\u256d\u2500 Traceback (most recent call last) \u2500\u256e",
    "\u2502 frame \u2502",
    "\u2570\u2500\u256f",
    "",
    "   ",
    "\xff\xfe",
    "a=1 b=2",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000), st.lists(st.integers(min_value=0, max_value=3000), max_size=12))
def test_arbitrary_bytes_split_anywhere_give_the_same_records(data: bytes, cuts: list[int]) -> None:
    assert parse_in_pieces(data, cuts, max_record_bytes=256) == parse(data, max_record_bytes=256)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(FRAGMENTS), max_size=40),
    st.sampled_from(["\n", "\r\n"]),
    st.lists(st.integers(min_value=0, max_value=5000), max_size=12),
    st.sampled_from([64, 256, 1_048_576]),
)
def test_log_shaped_lines_split_anywhere_give_the_same_records(
    lines: list[str], newline: str, cuts: list[int], cap: int
) -> None:
    data = newline.join(lines).encode("utf-8", "surrogateescape")
    whole = parse(data, max_record_bytes=cap)
    assert parse_in_pieces(data, cuts, max_record_bytes=cap) == whole
    for record in whole:
        assert utf8_size(record.body) <= cap and 0 <= record.severity_number <= 24
        assert "\x1b" not in record.body


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(FRAGMENTS), st.floats(min_value=0, max_value=1)), max_size=30))
def test_feeding_and_polling_at_any_times_never_raises(steps: list[tuple[str, float]]) -> None:
    parser = StderrParser(quiet_seconds=0.25, max_record_bytes=128)
    now = 0.0
    for fragment, pause in steps:
        now += pause
        parser.poll(now)
        parser.feed((fragment + "\n").encode(), now)
        deadline = parser.pending_deadline
        assert deadline is None or deadline == now + 0.25
    parser.close()
    assert parser.pending_deadline is None


# ---------------------------------------------------------------------------------------------
# Spec facts and the public surface


def test_public_surface() -> None:
    assert stderr_parsing.__all__ == ["StderrEntry", "StderrParser"]


def test_attribute_keys_are_the_installed_semantic_conventions() -> None:
    from opentelemetry.semconv.attributes import code_attributes, exception_attributes

    assert stderr_parsing.EXCEPTION_TYPE == exception_attributes.EXCEPTION_TYPE
    assert stderr_parsing.EXCEPTION_MESSAGE == exception_attributes.EXCEPTION_MESSAGE
    assert stderr_parsing.EXCEPTION_STACKTRACE == exception_attributes.EXCEPTION_STACKTRACE
    assert stderr_parsing.CODE_FILE_PATH == code_attributes.CODE_FILE_PATH
    assert stderr_parsing.CODE_LINE_NUMBER == code_attributes.CODE_LINE_NUMBER
    assert stderr_parsing.CODE_FUNCTION_NAME == code_attributes.CODE_FUNCTION_NAME


@pytest.mark.parametrize("levelno", range(61))
def test_python_levelno_maps_as_the_otel_python_sdk_does(levelno: int) -> None:
    from opentelemetry.sdk._logs._internal import std_to_otel

    (record,) = parse(json.dumps({"levelno": levelno, "message": "m"}).encode())
    assert record.severity_number == std_to_otel(levelno).value


# OTel logs data model, Appendix B (and the Python SDK for CRITICAL), typed out here.
APPENDIX_B = {
    "TRACE": 1, "DEBUG": 5, "INFO": 9, "NOTICE": 10, "WARN": 13, "WARNING": 13, "ERROR": 17, "CRIT": 18,
    "ALERT": 19, "EMERGENCY": 21, "FATAL": 21, "CRITICAL": 21, "DPANIC": 18, "PANIC": 19,
}  # fmt: skip


@pytest.mark.parametrize(("word", "severity"), APPENDIX_B.items(), ids=APPENDIX_B.keys())
def test_level_words_map_by_appendix_b(word: str, severity: int) -> None:
    record = parse_one(f"[{word}] x\n".encode())
    assert (record.severity_number, record.severity_text) == (severity, word)


PINO_LEVELS = {10: 1, 20: 5, 30: 9, 40: 13, 50: 17, 60: 21, 35: 9, 5: 1, 70: 21}


@pytest.mark.parametrize(("level", "severity"), PINO_LEVELS.items(), ids=[str(level) for level in PINO_LEVELS])
def test_pino_numeric_levels(level: int, severity: int) -> None:
    record = parse_one(json.dumps({"level": level, "msg": "m"}).encode())
    assert (record.severity_number, record.severity_text) == (severity, str(level))


def test_entries_are_frozen() -> None:
    record = parse_one(b"INFO: a\n")
    with pytest.raises(AttributeError):
        record.body = "b"  # type: ignore[misc]
