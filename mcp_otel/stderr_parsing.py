"""From the bytes an MCP server writes to standard error to logical log records: pure, no I/O.

MCP's 2026-07-28 revision deprecates log notifications; a stdio server's logs go to standard error,
in whatever style its logging library writes. ``StderrParser`` turns that byte stream into
``StderrEntry`` records. It has no threads, no I/O and no clock: the caller passes a monotonic
``now`` (seconds) to ``feed`` and ``poll``.

Lines
-----
* Bytes are decoded as UTF-8 with replacement (U+FFFD). LF and CR LF end a line; a lone CR does not.
* ANSI escape sequences (CSI ``ESC [ ... final``, OSC ``ESC ] ... BEL|ESC \\`` such as hyperlinks,
  DCS/SOS/PM/APC strings, and two-byte ``ESC x`` sequences) are removed before anything else, so
  coloured output parses exactly like plain output and no body carries escapes.
* Trailing whitespace is dropped (Rich pads every line to the console width). A line that is then
  empty is a blank line: it never makes a record; inside a multi-line record it is kept only when
  a continuation line follows it.

Formats, one line at a time (first match wins; "ts" is a timestamp as defined below)
---------------------------------------------------------------------------------------
==========================  ======================================================================
format                      how level / message / timestamp / logger / attributes are found
==========================  ======================================================================
JSON object line            One JSON object (``{...}``, no longer than ``max_record_bytes``) with a
(pino, bunyan, zap, slog,   level or a message key. Level: the first of ``level``, ``severity``,
python-json-logger,         ``lvl``, ``levelname``, ``@l``, ``loglevel``, ``log.level``, ``levelno``
structlog JSON, tracing     (see Severity). Message: ``msg``, ``message``, ``@m``, ``event``
JSON, CLEF)                 (structlog), ``@mt``, else tracing's ``fields.message`` (the other
                            ``fields`` become attributes). Time: ``time``, ``timestamp``, ``ts``,
                            ``@t``, ``asctime``. Logger: ``logger``, ``name``, ``logger_name``,
                            ``target``, ``log.logger``. Errors: see Exceptions. Code location:
                            ``caller`` or ``source`` as ``file:line``, ``source`` as {file, line,
                            function}, ``pathname`` or ``filename``, ``lineno`` or ``line_number``,
                            ``funcName``. Every other key is an attribute, its value as decoded.
logfmt (Go slog text,       A line made only of ``key=value`` pairs (bare, or double-quoted with
logrus, go-kit)             Go escapes) with a level or a message key: the JSON keys, except that
                            ``name`` is an ordinary field here; values stay strings.
loguru default              ``ts | LEVEL    | name:function:line - message``: logger ``name``,
                            ``code.function.name``, ``code.line.number``.
Rich (RichHandler:          ``[MM/DD/YY HH:MM:SS] LEVEL    message     file.py:123``: the time column,
FastMCP, the mcp SDK)       a level column 9 wide (absent with ``show_level=False``), the message,
                            the path column (``code.file.path``, ``code.line.number``). Rich
                            leaves a repeated time blank: a line indented exactly as wide as the
                            time column and followed by a padded level word starts a new Rich
                            record with the previous Rich time; so does other text there under a
                            Rich record whose message column is further right (FastMCP's
                            level-less traceback handler). The date is ``%x`` in the C locale,
                            month first (day first when the first number is over 12), year 20YY.
                            A time-only ``[HH:MM:SS]`` column (``log_time_format="[%X]"``) is read
                            the same way, without a timestamp.
Python ``basicConfig``      ``LEVEL:logger:message`` (no space after the first colon).
Python ``warnings``         ``path:line: SomeWarning: message`` -> 13 (WARN), severity text the
                            category, ``code.file.path``, ``code.line.number``.
ts, then a level            ``ts`` then a level in level position (below), then the message:
(stdlib asctime formats,    ``%(asctime)s %(levelname)s ...``, ``ts - LEVEL - msg``, ``ts [level]
structlog console, tracing, msg`` (structlog console: its ``key=value`` pairs stay in the body as
Go ``log``, zap console)    written), ``ts  LEVEL target: msg`` (Rust ``tracing``; a span prefix
                            ``span{...}:`` stays in the body). ``ts - name - LEVEL - msg`` puts
                            ``name`` in logger. Right after the level, a ``root``, dotted,
                            ``::``-separated or snake_case name followed by ``: `` is the logger.
                            After a tab (zap console): ``[logger<TAB>]file:line<TAB>message
                            [<TAB>{json}]`` -> logger, code location, message, attributes. A ts
                            with no level in level position: the rest is the body, severity 9.
plain prefixes              ``LEVEL message`` (capitals), ``Level: message`` (any case),
                            ``[LEVEL] message``, ``LEVEL[0000] message`` (logrus), at column 0.
Python traceback            ``Traceback (most recent call last):``, ``+ Exception Group Traceback
                            (most recent call last):``, or Rich's boxed traceback at column 0
                            (structlog): one record, see Multi-line.
Node.js uncaught exception  ``/path/file.js:10`` (or ``node:internal/...:N``), the source line and a
                            ``^`` caret line, then the thrown value with its frames and properties,
                            up to ``Node.js vNN``: one record at 17, body the error line.
Go panic                    ``panic: message`` (a level prefix: 19, as zap's Panic) and its
                            goroutine dump: one record, ``exception.message``/``stacktrace``.
anything else               one record: severity 9 (INFO), severity text None, the line as body.
==========================  ======================================================================

Level position: a level word counts only where the format puts the level: the first token of
the line, the first token after a leading timestamp, the field after ``ts - name -``, the Rich
level column; and only when it is delimited as a field there: in brackets (``[error]``, padded or
not), or followed by ``:``, a tab, `` - `` or `` | ``, or written in capitals and followed by a
space (``ERROR x``). So ``Error: x`` and ``ERROR x`` are levels, while ``Error connecting``,
``error connecting`` (Go's ``log.Printf``), ``... failed, error: x`` and any indented line (a
Rich-wrapped ``error: Error in AWS Pricing`` fragment) are not. Level words (any case): trace,
trc, debug, dbg, verbose, vrb, info, inf, information, informational, notice, success, warn,
warning, wrn, error, err, crit, critical, alert, emerg, emergency, fatal, ftl, panic, dpanic, and
logrus' TRAC, DEBU, ERRO, FATA, PANI.

Severity (SeverityNumber by the OTel logs data model, Appendix B, and the SDK conventions)
------------------------------------------------------------------------------------------
* trace/trc/trac 1; debug/dbg/debu/verbose/vrb 5 (Appendix B: Verbose -> DEBUG); info/inf/
  information/informational 9; notice 10; success 12 (loguru's SUCCESS is levelno 25, which the
  OTel Python SDK maps to INFO4); warn/warning/wrn 13; error/err/erro 17; crit 18 (syslog's
  Critical, ERROR2); dpanic 18, panic/pani 19 (zap); alert 19; emerg/emergency/fatal/ftl/fata 21.
* critical 21: ``critical`` is Python's level name (stdlib, loguru, structlog), and the OTel Python
  SDK maps levelno 50 to FATAL (``std_to_otel`` in ``opentelemetry/sdk/_logs/_internal/__init__.py``,
  1.45.2; its LoggingHandler also writes the text "FATAL" for it, opentelemetry-python#4984).
  Appendix B agrees for .NET's ``LogLevel.Critical``; syslog's spelling ``crit`` stays 18.
* Numbers: a JSON/logfmt ``level`` that is an integer (or digits) is pino/bunyan's scale: 10 trace 1,
  20 debug 5, 30 info 9, 40 warn 13, 50 error 17, 60 fatal 21 (values in between take the band
  below; under 10 -> 1; over 60 -> 21). ``levelno`` is Python's scale, mapped as the SDK's
  ``std_to_otel`` does (10 -> 5 ... 50 -> 21, 11-19 -> 6-8, under 10 -> 0, over 53 -> 24).
* slog words with an offset (``ERROR+2``, ``DEBUG-4``): 9 + slog level, as the otelslog bridge
  does, clamped to 1..24.
* A level value that is not one of these keeps its severity text and gets 9.
* A record whose level the line does not state: 9, severity text None; a Python traceback, a Node
  uncaught exception or a JS stack headed by an error line with no stated level: 17.

Timestamps (``timestamp_ns``: nanoseconds since the Unix epoch, else None)
------------------------------------------------------------------------
* Text: ``YYYY-MM-DD`` or ``YYYY/MM/DD``, then ``T`` or a space, ``HH:MM:SS``, optional ``.`` or
  ``,`` fraction (up to 9 digits), optional ``Z`` or ``+HH:MM`` / ``+HHMM``; optionally in
  brackets. With an offset it is exact; without one it is local time (the zone the parser's process
  runs in, which is the server's too when the caller started it). Rich's ``[MM/DD/YY HH:MM:SS]`` is
  local time, years 20YY. A time of day without a date is not read (None).
* JSON/logfmt: an ISO/RFC 3339 string as above, or an epoch number read by its size: under 1e11
  seconds, under 1e14 milliseconds, under 1e17 microseconds, else nanoseconds.
* An impossible date (month 13, hour 25, out of datetime's range) is None, never an error.

Exceptions (OTel semantic conventions: ``exception.type``, ``exception.message``,
``exception.stacktrace``; code location ``code.file.path``, ``code.line.number``,
``code.function.name``)
---------------------------------------------------------------------------------------------
* A Python traceback: type and message from its last exception line (``module.Type: message``
  at column 0, or ``  | Type: message`` at the top of an exception group); the message takes the
  indented lines directly under it (pydantic's details); the stacktrace is the whole traceback
  text, chained parts included.
* Rich's boxed traceback: the same from the lines after the last box (``╰...╯``).
* A JS stack (``    at ...`` frames under ``SomeError: message``, the record's first line or the
  line above the first frame): type, message, and the stacktrace from the error line down; the body
  stays the record's message (``Error: boom`` read as level ``Error``, body ``boom``).
* JSON/logfmt ``err``/``error``/``exception``/``exc_info``: a mapping gives ``type``/``name``,
  ``message``, ``stack`` (other keys stay under the same attribute); a string holding a Python
  traceback or a JS stack is read as above; any other string is ``exception.message``.
  ``stack``/``stack_trace``/``stacktrace`` strings are ``exception.stacktrace``.

Multi-line records
------------------
* A record starts with a line that is not a continuation. Continuations: an indented line; after
  a Rich record, a line indented to at least its message column; ``    at`` frames and the ``}``
  closing an error's properties after them; a Python traceback's lines (indented frames, loguru's
  ``>`` frame and ``│``/``└`` annotations, Rich box sides, the exception line, the chaining
  sentences and the chained tracebacks); a Node crash's lines up to ``Node.js vNN``; a Go panic's
  goroutine dump.
* A Python traceback joins the record just before it when that record states a level of WARN or
  above (``logger.exception``, loguru's ERROR line, a JSON line whose logger also printed the
  traceback), or states no level and its last line ends with ``:``, and no blank line separates
  them: the record keeps its level, body and logger and gains the exception fields. Otherwise the
  traceback is its own record at 17 whose body is its exception line.
* After a traceback's exception line, a column-0 line that no format claims joins the traceback
  when the line after it is indented (pydantic's field-name lines); otherwise it is a new record.
* Rich's wrapped message lines are joined with one space, or with nothing when the previous piece
  fills the message column and has no space (Rich folded a long word, such as a URL). Other
  continuation lines join the body with newlines, as written (indentation kept).
* A pending record is emitted when the next record starts (``feed``), after ``quiet_seconds``
  without new bytes (``poll``; a partial last line is then taken as complete), or at ``close``.
  ``pending_deadline`` is when ``poll`` would next emit.

Caps (``truncated=True`` when a cap cut anything)
------------------------------------------------
* ``max_line_bytes`` (default, and at most, ``max_record_bytes``): a longer line keeps its first
  bytes (cut on a character boundary); the rest of it is discarded as it arrives, never held.
* ``max_record_bytes`` (default 1 MiB, at least 64): the lines held for one record, and the body,
  ``exception.message`` and ``exception.stacktrace`` each, stay within it (UTF-8 bytes); a record
  keeps consuming its continuation lines without holding them (a 100,000-line traceback is still
  one record, its exception type from its real last line). A JSON line longer than the cap is not
  parsed as JSON; a JSON line nested too deep to decode is text. Memory held is
  O(``max_record_bytes``) whatever the input.
* Every pattern is anchored and linear in the line's length, so a hostile line costs one pass.
* Nothing raises on any input.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from opentelemetry._logs import SeverityNumber

__all__ = ["StderrEntry", "StderrParser"]

# OTel semantic-convention keys (opentelemetry-semantic-conventions 0.66b2: attributes/exception_attributes.py
# and attributes/code_attributes.py), typed out to keep this module's dependencies to the stdlib and the API.
EXCEPTION_TYPE = "exception.type"
EXCEPTION_MESSAGE = "exception.message"
EXCEPTION_STACKTRACE = "exception.stacktrace"
CODE_FILE_PATH = "code.file.path"
CODE_LINE_NUMBER = "code.line.number"
CODE_FUNCTION_NAME = "code.function.name"

TRACE = SeverityNumber.TRACE.value  # 1
DEBUG = SeverityNumber.DEBUG.value  # 5
INFO = SeverityNumber.INFO.value  # 9
INFO2 = SeverityNumber.INFO2.value  # 10
INFO4 = SeverityNumber.INFO4.value  # 12
WARN = SeverityNumber.WARN.value  # 13
ERROR = SeverityNumber.ERROR.value  # 17
ERROR2 = SeverityNumber.ERROR2.value  # 18
ERROR3 = SeverityNumber.ERROR3.value  # 19
FATAL = SeverityNumber.FATAL.value  # 21

SEVERITY_BY_LEVEL_WORD: dict[str, int] = {
    "trace": TRACE, "trc": TRACE, "trac": TRACE,
    "debug": DEBUG, "dbg": DEBUG, "debu": DEBUG, "verbose": DEBUG, "vrb": DEBUG,
    "info": INFO, "inf": INFO, "information": INFO, "informational": INFO,
    "notice": INFO2,
    "success": INFO4,
    "warn": WARN, "warning": WARN, "wrn": WARN,
    "error": ERROR, "err": ERROR, "erro": ERROR,
    "crit": ERROR2, "dpanic": ERROR2,
    "alert": ERROR3, "panic": ERROR3, "pani": ERROR3,
    "critical": FATAL, "emerg": FATAL, "emergency": FATAL, "fatal": FATAL, "ftl": FATAL, "fata": FATAL,
}  # fmt: skip

# pino / bunyan numeric levels.
_PINO_BANDS = ((60, FATAL), (50, ERROR), (40, WARN), (30, INFO), (20, DEBUG))


def _severity_for_pino_number(number: int) -> int:
    for threshold, severity in _PINO_BANDS:
        if number >= threshold:
            return severity
    return TRACE


def _severity_for_python_levelno(levelno: int) -> int:
    # As opentelemetry-sdk's std_to_otel (sdk/_logs/_internal/__init__.py): 10-19 DEBUG..DEBUG4,
    # 20-29 INFO..INFO4, 30-39 WARN..WARN4, 40-49 ERROR..ERROR4, 50-53 FATAL..FATAL4.
    if levelno < 10:
        return 0
    if levelno > 53:
        return 24
    band, offset = divmod(levelno, 10)
    return band * 4 + 1 + min(offset, 3)


_SLOG_LEVEL = re.compile(r"(DEBUG|INFO|WARN|ERROR)([+-]\d{1,3})?", re.IGNORECASE)
_SLOG_BASE = {"debug": -4, "info": 0, "warn": 4, "error": 8}


def _severity_for_level_value(value: object, python_scale: bool = False) -> tuple[int, str] | None:
    """(severity number, severity text) for a structured level value; None if it is not a level."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer() and abs(value) < 1e6:
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 32:
            return None
        if text.isdigit():
            number = int(text)
        else:
            known = SEVERITY_BY_LEVEL_WORD.get(text.lower())
            if known is not None:
                return known, text
            slog = _SLOG_LEVEL.fullmatch(text)
            if slog is not None:
                # The otelslog bridge: SeverityNumber = slog.Level + 9.
                level = _SLOG_BASE[slog.group(1).lower()] + int(slog.group(2) or 0)
                return min(24, max(1, level + 9)), text
            return INFO, text
    else:
        return None
    if python_scale:
        return _severity_for_python_levelno(number), str(value)
    return _severity_for_pino_number(number), str(value)


# ----------------------------------------------------------------------------------------------
# Timestamps

_TIMESTAMP = re.compile(
    r"\[?(\d{4})[-/](\d\d)[-/](\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?\d*"
    r"(?:\s?(Z|UTC|[+-]\d\d:?\d\d)(?![\w:]))?\]?"
)
_RICH_TIME = re.compile(r"\[(\d\d)/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)\] ")
_RICH_TIME_ONLY = re.compile(r"\[\d\d:\d\d:\d\d\] ")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _timestamp_ns(
    year: int, month: int, day: int, hour: int, minute: int, second: int, fraction: str | None, zone: str | None
) -> int | None:
    whole = _epoch_seconds(year, month, day, hour, minute, second, zone)
    if whole is None:
        return None
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    return whole * 1_000_000_000 + nanos


@lru_cache(maxsize=64)  # log lines come many to a second
def _epoch_seconds(
    year: int, month: int, day: int, hour: int, minute: int, second: int, zone: str | None
) -> int | None:
    try:
        if zone is None:
            # No zone written: local time (datetime.timestamp() reads a naive value as local).
            return round(datetime(year, month, day, hour, minute, second).timestamp())
        offset = 0
        if zone not in ("Z", "UTC"):
            digits = zone.replace(":", "")
            offset = (int(digits[1:3]) * 60 + int(digits[3:5])) * (1 if digits[0] == "+" else -1)
            if abs(offset) >= 24 * 60:
                return None
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone(timedelta(minutes=offset)))
        return (moment - _EPOCH) // timedelta(seconds=1)
    except (ValueError, OverflowError, OSError):
        return None


def _match_timestamp(match: re.Match[str]) -> int | None:
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    return _timestamp_ns(int(year), int(month), int(day), int(hour), int(minute), int(second), fraction, zone)


def _timestamp_from_value(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if not 0 < value < 1e20:  # also false for NaN
            return None
        # By size: seconds, milliseconds, microseconds, nanoseconds (integers stay exact).
        scale = 10**9 if value < 1e11 else 10**6 if value < 1e14 else 10**3 if value < 1e17 else 1
        if isinstance(value, int):
            return value * scale
        whole = int(value)
        return whole * scale + round((value - whole) * scale)
    if isinstance(value, str) and 10 <= len(value) <= 64:
        match = _TIMESTAMP.match(value.strip())
        if match is not None:
            return _match_timestamp(match)
        if value.replace(".", "", 1).isdigit():
            return _timestamp_from_value(float(value) if "." in value else int(value))
    return None


# ----------------------------------------------------------------------------------------------
# Line-level patterns. Each is anchored and linear in the line's length (no nested quantifiers over
# overlapping classes), so a hostile line of max_line_bytes costs one pass.

_ANSI = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]?|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[PX^_][^\x1b]*(?:\x1b\\)?|[ -/]*[0-~]?)"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
)
_LEVEL_WORD = r"[A-Za-z]{3,13}"
# The level after a timestamp (matched at the end of the timestamp).
_AFTER_TIMESTAMP = re.compile(
    r"(?:[ \t]*[-|][ \t]+|[ \t]*:|[ \t]+)?"
    r"(?:\[(?P<bracketed>" + _LEVEL_WORD + r")[ \t]*\]:?[ \t]*"
    r"|(?P<word>" + _LEVEL_WORD + r")(?P<after>:[ \t]+|:$| +[-|] +|\t+| +|$))"
)
_NAME_THEN_LEVEL = re.compile(r" +- +(?P<name>\S+) +- +(?P<level>" + _LEVEL_WORD + r") +- ")
_LOGURU = re.compile(r" \| (?P<level>[A-Z][A-Z0-9_]*) * \| (?P<name>[^\s:]+):(?P<function>[^\s:]+):(?P<line>\d+) - ")
_LEADING_LEVEL = re.compile(
    r"(?:\[(?P<bracketed>" + _LEVEL_WORD + r") *\]:? +"
    r"|(?P<word>" + _LEVEL_WORD + r")"
    r"(?:(?P<logrus>\[\d+\] +)|(?P<colon>:(?: +|$))|(?P<basic>:(?=[^\s:]+:))|(?P<space> +)))"
)
_BASIC_CONFIG_NAME = re.compile(r"([^\s:]+):")
_LOGGER_AFTER_LEVEL = re.compile(r"(root|[A-Za-z_][\w\-]*(?:(?:\.|::)[\w\-]+)+|[a-z][a-z0-9\-]*_[\w\-]*): ")
_TRACING_SPANS = re.compile(r"(?:[A-Za-z_][\w:]*\{[^{}]*\}:)+ ")
_RICH_PATH = re.compile(r"(?P<path>\S+?\.pyw?|<[^>\s]+>):(?P<line>\d+)")
_WARNING_CATEGORY = re.compile(r"[A-Z]\w*Warning")
_NODE_CRASH_HEADER = re.compile(r"(?:file://)?(?:/|[A-Za-z]:\\|node:)\S*:\d+")
_LOGFMT_PAIR = re.compile(r' *([^\s="]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)(?=\s|$)')
_GO_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)")
_GO_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}

_TRACEBACK_START = "Traceback (most recent call last):"
_GROUP_TRACEBACK = re.compile(r" *\+ Exception Group Traceback \(most recent call last\):")
_CHAIN_SENTENCES = frozenset(
    (
        "During handling of the above exception, another exception occurred:",
        "The above exception was the direct cause of the following exception:",
    )
)
_EXCEPTION_LINE = re.compile(r"(?P<type>[A-Za-z_][\w.]*)(?:: (?P<message>.*))?", re.DOTALL)
_GROUP_EXCEPTION_LINE = re.compile(r"  \| (?P<type>[A-Za-z_][\w.]*)(?:: (?P<message>.*))?")
_JS_FRAME = re.compile(r"\s+at \S")
_JS_ERROR_LINE = re.compile(
    r"(?:Uncaught )?(?P<type>[A-Za-z_$][\w$.]*(?:Error|Exception|Rejection)|Error)(?: \[[\w\-]+\])?: (?P<message>.*)"
)
_NODE_BRACKET_ERROR = re.compile(r"\[(?P<type>[A-Za-z_$][\w$.]*): (?P<message>.*)\](?: \{)?")
_NODE_VERSION_TRAILER = re.compile(r"Node\.js v\d")
_CARET_LINE = re.compile(r" *\^+")
_GO_DUMP_PREFIXES = ("goroutine ", "created by ", "[signal ", "panic: ", "exit status ")

_BOX_TOP = "\u256d"  # Rich's traceback box: top-left corner ...
_BOX_SIDE = "\u2502"  # ... side ...
_BOX_BOTTOM = "\u2570"  # ... bottom-left corner.

# Record styles.
_PLAIN = 0
_STRUCTURED = 1
_RICH = 2
_TRACEBACK = 3
_NODE_CRASH = 4
_GO_PANIC = 5

# Traceback scan states.
_FRAMES = 0
_AFTER_EXCEPTION = 1
_CHAIN = 2


def _strip_ansi(text: str) -> str:
    if "\x1b" in text or "\x9b" in text:
        return _ANSI.sub("", text)
    return text


def _utf8_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _cut_to_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, at a character boundary."""
    if len(text) * 4 <= limit or _utf8_length(text) <= limit:
        return text
    return text.encode("utf-8", "surrogatepass")[:limit].decode("utf-8", "ignore")


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


def _level_severity(word: str, require_capitals: bool) -> int | None:
    severity = SEVERITY_BY_LEVEL_WORD.get(word.lower())
    if severity is None or (require_capitals and not word.isupper()):
        return None
    return severity


def _go_unquote(value: str) -> str:
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    inner = value[1:-1]
    if "\\" not in inner:
        return inner

    def replace(match: re.Match[str]) -> str:
        escape = match.group(1)
        if len(escape) > 1:
            return chr(int(escape[1:], 16))
        return _GO_ESCAPES.get(escape, escape)

    return _GO_ESCAPE.sub(replace, inner)


def _is_go_dump_line(text: str) -> bool:
    """A column-0 line of a Go panic's goroutine dump (``main.main()``, ``goroutine 1 [running]:``)."""
    if text.startswith(_GO_DUMP_PREFIXES):
        return True
    paren = text.find("(")
    return paren > 0 and text.endswith((")", ") {")) and " " not in text[:paren]


@dataclass(slots=True)
class _Header:
    """What the first line of a record says."""

    body: str
    severity_number: int = INFO
    severity_text: str | None = None
    timestamp_ns: int | None = None
    logger: str | None = None
    attributes: dict[str, object] = field(default_factory=dict)
    style: int = _PLAIN
    message_column: int = 0
    fold_width: int = 0
    rich_time_width: int = 0
    exception_type: str | None = None
    exception_message: str | None = None
    stacktrace: str | None = None


# ----------------------------------------------------------------------------------------------
# Structured lines (JSON and logfmt)

_LEVEL_KEYS = ("level", "severity", "lvl", "levelname", "@l", "loglevel", "log.level", "levelno")
_MESSAGE_KEYS = ("msg", "message", "@m", "event", "@mt")
_TIME_KEYS = ("time", "timestamp", "ts", "@t", "asctime")
_JSON_LOGGER_KEYS = ("logger", "name", "logger_name", "target", "log.logger")
# In logfmt, "name" is an ordinary field (slog, logrus and go-kit name their logger otherwise).
_LOGFMT_LOGGER_KEYS = ("logger", "logger_name", "target", "log.logger")
_ERROR_KEYS = ("err", "error", "exception", "exc_info")
_STACK_KEYS = ("stack", "stack_trace", "stacktrace")
_CODE_KEYS = (
    ("pathname", CODE_FILE_PATH),
    ("filename", CODE_FILE_PATH),
    ("lineno", CODE_LINE_NUMBER),
    ("line_number", CODE_LINE_NUMBER),
    ("funcName", CODE_FUNCTION_NAME),
)


def _header_from_fields(fields: dict[str, object], logger_keys: tuple[str, ...]) -> _Header | None:
    """A record from decoded key/value fields, or None when they have no level and no message."""
    level_key = next((key for key in _LEVEL_KEYS if key in fields), None)
    message_key = next((key for key in _MESSAGE_KEYS if key in fields), None)
    tracing_fields = fields.get("fields")
    if message_key is None and not (isinstance(tracing_fields, dict) and "message" in tracing_fields):
        tracing_fields = None
        if level_key is None:
            return None
    attributes = dict(fields)
    header = _Header(body="", attributes=attributes, style=_STRUCTURED)
    if level_key is not None:
        severity = _severity_for_level_value(fields[level_key], python_scale=level_key == "levelno")
        if severity is not None:
            header.severity_number, header.severity_text = severity
            del attributes[level_key]
    if message_key is not None:
        message = attributes.pop(message_key)
        header.body = message if isinstance(message, str) else json.dumps(message, default=str)
    elif isinstance(tracing_fields, dict):
        # tracing-subscriber's JSON: {"fields": {"message": ..., other fields}}.
        del attributes["fields"]
        header.body = str(tracing_fields.get("message"))
        attributes.update((key, value) for key, value in tracing_fields.items() if key != "message")
    for key in _TIME_KEYS:
        if key in attributes:
            timestamp = _timestamp_from_value(attributes[key])
            if timestamp is not None:
                header.timestamp_ns = timestamp
                del attributes[key]
                break
    for key in logger_keys:
        value = attributes.get(key)
        if isinstance(value, str):
            header.logger = value
            del attributes[key]
            break
    _take_code_location(attributes)
    _take_exception(header, attributes)
    return header


def _take_code_location(attributes: dict[str, object]) -> None:
    for key in ("caller", "source"):
        location = attributes.get(key)
        if isinstance(location, str):
            path, _, line = location.rpartition(":")
            if path and line.isdigit() and len(line) < 10:
                del attributes[key]
                attributes[CODE_FILE_PATH] = path
                attributes[CODE_LINE_NUMBER] = int(line)
                break
    source = attributes.get("source")
    if isinstance(source, dict) and "file" in source:
        del attributes["source"]
        attributes[CODE_FILE_PATH] = source["file"]
        if "line" in source:
            attributes[CODE_LINE_NUMBER] = source["line"]
        if "function" in source:
            attributes[CODE_FUNCTION_NAME] = source["function"]
    for key, target in _CODE_KEYS:
        if key in attributes and target not in attributes:
            attributes[target] = attributes.pop(key)
    line_number = attributes.get(CODE_LINE_NUMBER)
    if isinstance(line_number, str) and line_number.isdigit() and len(line_number) < 10:
        attributes[CODE_LINE_NUMBER] = int(line_number)


def _take_exception(header: _Header, attributes: dict[str, object]) -> None:
    for key in _ERROR_KEYS:
        value = attributes.get(key)
        if isinstance(value, dict):
            kind = value.get("type", value.get("name"))
            message = value.get("message")
            stack = value.get("stack")
            if kind is None and message is None and stack is None:
                continue
            rest = {name: item for name, item in value.items() if name not in ("type", "name", "message", "stack")}
            if rest:
                attributes[key] = rest
            else:
                del attributes[key]
            if kind is not None:
                header.exception_type = str(kind)
            if message is not None:
                header.exception_message = str(message)
            if isinstance(stack, str):
                header.stacktrace = stack
            break
        if isinstance(value, str) and value:
            del attributes[key]
            _read_exception_text(header, value)
            break
    if header.stacktrace is None:
        for key in _STACK_KEYS:
            value = attributes.get(key)
            if isinstance(value, str) and value:
                del attributes[key]
                if header.exception_type is None and header.exception_message is None:
                    _read_exception_text(header, value, bare_text_is_message=False)
                header.stacktrace = value
                break


def _read_exception_text(header: _Header, text: str, bare_text_is_message: bool = True) -> None:
    """Exception fields from an error string: a Python traceback, a JS stack, or a bare message."""
    if _TRACEBACK_START in text or "Exception Group Traceback" in text:
        scan = _TracebackScan(len(text))
        for line in text.splitlines():
            stripped = line.rstrip()
            if stripped:
                scan.feed(stripped, _indent(stripped))
            else:
                scan.blank()
        header.exception_type, header.exception_message = scan.exception_type, scan.exception_message()
        header.stacktrace = text
        return
    first, _, rest = text.partition("\n")
    if rest and _JS_FRAME.match(rest):
        match = _JS_ERROR_LINE.fullmatch(first)
        if match is not None:
            header.exception_type, header.exception_message = match.group("type"), match.group("message")
        else:
            header.exception_message = first
        header.stacktrace = text
        return
    if bare_text_is_message:
        header.exception_message = text


def _parse_json(text: str) -> _Header | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    return _header_from_fields(value, _JSON_LOGGER_KEYS)


def _parse_logfmt(text: str) -> _Header | None:
    fields: dict[str, object] = {}
    position = 0
    end = len(text)
    while position < end:
        match = _LOGFMT_PAIR.match(text, position)
        if match is None:
            return None
        fields[match.group(1)] = _go_unquote(match.group(2))
        position = match.end()
    return _header_from_fields(fields, _LOGFMT_LOGGER_KEYS)


# ----------------------------------------------------------------------------------------------
# Text lines


def _parse_header(raw: str, text: str, max_json_chars: int) -> _Header:
    """The first line of a record. ``text`` starts at column 0 and is right-stripped; ``raw`` is the
    same line with its trailing padding (Rich's width tells where it folded words)."""
    first = text[0]
    if first == "{":
        if text[-1] == "}" and len(text) <= max_json_chars:
            header = _parse_json(text)
            if header is not None:
                return header
        return _Header(body=text)
    if first == "[":
        rich = _RICH_TIME.match(text)
        if rich is not None:
            return _parse_rich(raw, text, rich)
        time_only = _RICH_TIME_ONLY.match(text)
        if time_only is not None:
            # Rich with log_time_format="[%X]": the columns without a date, so no timestamp.
            return _parse_rich_after_time(raw, text, time_only.end(), None)
    elif first == "T":
        if text == _TRACEBACK_START:
            return _Header(body=text, severity_number=ERROR, style=_TRACEBACK)
    elif first == _BOX_TOP:
        if "Traceback (most recent call last)" in text:
            return _Header(body=text, severity_number=ERROR, style=_TRACEBACK)
        return _Header(body=text)
    if first.isdigit() or first == "[":
        match = _TIMESTAMP.match(text)
        if match is not None:
            return _parse_after_timestamp(text, match)
    header = _parse_leading_level(text)
    if header is not None:
        return header
    if "=" in text and (first.isalpha() or first == "_"):
        header = _parse_logfmt(text)
        if header is not None:
            return header
    if "Warning: " in text:
        header = _parse_python_warning(text)
        if header is not None:
            return header
    if first in "/fnABCDEFGHIJKLMNOPQRSTUVWXYZ" and _NODE_CRASH_HEADER.fullmatch(text):
        return _Header(body=text, style=_NODE_CRASH)
    return _Header(body=text)


def _parse_python_warning(text: str) -> _Header | None:
    """``path:line: SomeWarning: message`` (the warnings module's default format)."""
    end = text.find("Warning: ")
    location, _, category = text[: end + 7].rpartition(": ")
    path, _, line = location.rpartition(":")
    if not path or not line.isdigit() or len(line) > 9 or not _WARNING_CATEGORY.fullmatch(category):
        return None
    return _Header(
        body=text[end + 9 :],
        severity_number=WARN,
        severity_text=category,
        attributes={CODE_FILE_PATH: path, CODE_LINE_NUMBER: int(line)},
    )


def _parse_rich(raw: str, text: str, match: re.Match[str]) -> _Header:
    first, second, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
    # Rich's default time format is "[%x %X]"; %x in the C locale (Python never sets another unless
    # the program calls setlocale) is month/day/year.
    month, day = (second, first) if first > 12 >= second else (first, second)
    timestamp = _timestamp_ns(
        2000 + year, month, day, int(match.group(4)), int(match.group(5)), int(match.group(6)), None, None
    )
    return _parse_rich_after_time(raw, text, match.end(), timestamp)


def _parse_rich_after_time(raw: str, text: str, time_width: int, timestamp: int | None) -> _Header:
    header = _Header(body="", timestamp_ns=timestamp, style=_RICH, rich_time_width=time_width)
    message_column = time_width
    level_word = text[time_width : time_width + 9].rstrip()
    # Rich's level column: the level name padded to 8, then one space.
    if level_word.isupper() and (len(text) <= time_width + 8 or text[time_width + 8] == " "):
        severity = SEVERITY_BY_LEVEL_WORD.get(level_word.lower())
        if severity is not None:
            header.severity_number, header.severity_text = severity, level_word
            message_column = time_width + 9
    message = text[message_column:]
    width = len(raw)
    head, _, tail = message.rpartition(" ")
    path = _RICH_PATH.fullmatch(tail) if head else None
    if path is not None:
        message = head
        header.attributes[CODE_FILE_PATH] = path.group("path")
        header.attributes[CODE_LINE_NUMBER] = int(path.group("line"))
        width -= len(tail) + 1
    header.body = message.rstrip()
    header.message_column = message_column
    header.fold_width = width - message_column
    return header


def _parse_after_timestamp(text: str, match: re.Match[str]) -> _Header:
    timestamp = _match_timestamp(match)
    position = match.end()
    loguru = _LOGURU.match(text, position)
    if loguru is not None:
        word = loguru.group("level")
        return _Header(
            body=text[loguru.end() :],
            severity_number=SEVERITY_BY_LEVEL_WORD.get(word.lower(), INFO),
            severity_text=word,
            timestamp_ns=timestamp,
            logger=loguru.group("name"),
            attributes={CODE_FUNCTION_NAME: loguru.group("function"), CODE_LINE_NUMBER: int(loguru.group("line"))},
        )
    named = _NAME_THEN_LEVEL.match(text, position)
    if named is not None:
        severity = _level_severity(named.group("level"), require_capitals=False)
        if severity is not None:
            return _Header(
                body=text[named.end() :],
                severity_number=severity,
                severity_text=named.group("level"),
                timestamp_ns=timestamp,
                logger=named.group("name"),
            )
    level = _AFTER_TIMESTAMP.match(text, position)
    if level is not None:
        bracketed = level.group("bracketed")
        word = bracketed or level.group("word") or ""
        after = level.group("after") or ""
        severity = _level_severity(
            word, require_capitals=not bracketed and after.startswith(" ") and "-" not in after and "|" not in after
        )
        if severity is not None:
            header = _Header(
                body=text[level.end() :], severity_number=severity, severity_text=word, timestamp_ns=timestamp
            )
            if after.startswith("\t"):
                _read_tab_fields(header)
                return header
            # tracing's span context ("span{field=value}:") comes before the target; it stays in the body.
            spans = _TRACING_SPANS.match(header.body)
            start = spans.end() if spans is not None else 0
            logger = _LOGGER_AFTER_LEVEL.match(header.body, start)
            if logger is not None:
                header.logger = logger.group(1)
                header.body = header.body[:start] + header.body[logger.end() :]
            return header
    return _Header(body=text[position:].lstrip(" \t-|:") or text, timestamp_ns=timestamp)


def _read_tab_fields(header: _Header) -> None:
    """zap's console encoder: ``ts<TAB>LEVEL<TAB>[logger<TAB>]caller<TAB>message[<TAB>{json}]``."""
    fields = header.body.split("\t")
    if len(fields) > 1 and fields[-1].startswith("{") and fields[-1].endswith("}"):
        try:
            extra = json.loads(fields[-1])
        except (ValueError, RecursionError):
            extra = None
        if isinstance(extra, dict):
            fields.pop()
            header.attributes.update(extra)
    for index in range(min(2, len(fields) - 1)):
        path, _, line = fields[index].rpartition(":")
        if path and " " not in path and "." in path and line.isdigit() and len(line) < 10:
            header.attributes[CODE_FILE_PATH] = path
            header.attributes[CODE_LINE_NUMBER] = int(line)
            if index == 1:
                header.logger = fields[0]
            del fields[: index + 1]
            break
    header.body = "\t".join(fields)


def _parse_leading_level(text: str) -> _Header | None:
    level = _LEADING_LEVEL.match(text)
    if level is None:
        return None
    bracketed = level.group("bracketed")
    word = bracketed or level.group("word") or ""
    capitals_only = level.group("space") is not None or level.group("logrus") is not None
    severity = _level_severity(word, require_capitals=capitals_only)
    if severity is None:
        return None
    header = _Header(body=text[level.end() :], severity_number=severity, severity_text=word)
    if level.group("basic") is not None:
        name = _BASIC_CONFIG_NAME.match(text, level.end())
        if name is not None:
            header.logger = name.group(1)
            header.body = text[name.end() :]
    elif level.group("colon") is not None and word.lower() == "panic":
        header.style = _GO_PANIC
    return header


# ----------------------------------------------------------------------------------------------
# Python tracebacks


class _TracebackScan:
    """Follows a Python traceback line by line: which lines belong to it, and its last exception."""

    __slots__ = (
        "_blank_since_exception",
        "_group_top",
        "_limit",
        "_message_parts",
        "_message_size",
        "exception_type",
        "state",
    )

    def __init__(self, limit: int) -> None:
        self.state = _FRAMES
        self.exception_type: str | None = None
        self._message_parts: list[str] = []
        self._message_size = 0
        self._limit = limit  # bytes of message lines kept: the message is capped like the record
        self._blank_since_exception = False
        self._group_top = False

    def exception_message(self) -> str | None:
        return "\n".join(self._message_parts) if self._message_parts else None

    def blank(self) -> None:
        self._blank_since_exception = True

    def _set_exception(self, match: re.Match[str]) -> None:
        self.exception_type = match.group("type")
        message = match.group("message")
        self._message_parts = [message] if message is not None else []
        self._message_size = len(message or "")
        self._blank_since_exception = False

    def _add_message_line(self, line: str) -> None:
        if not self._blank_since_exception and self._message_parts and self._message_size < self._limit:
            self._message_parts.append(line)
            self._message_size += len(line) + 1

    def feed(self, line: str, indent: int) -> bool:
        """Whether ``line`` (right-stripped, not blank) belongs to the traceback."""
        state = self.state
        if state == _FRAMES:
            if indent:
                if line.startswith("  | ") and (self.exception_type is None or self._group_top):
                    group = _GROUP_EXCEPTION_LINE.fullmatch(line)
                    if group is not None:
                        self._set_exception(group)
                        self._group_top = True
                return True
            if line[0] in "\u2502\u2570\u256d>":  # Rich's box, loguru's "> File" frame
                return True
            match = _EXCEPTION_LINE.fullmatch(line)
            if match is None:
                return False
            self._set_exception(match)
            self._group_top = False
            self.state = _AFTER_EXCEPTION
            return True
        if state == _AFTER_EXCEPTION:
            if line in _CHAIN_SENTENCES:
                self.state = _CHAIN
                return True
            if not indent:
                return False
            self._add_message_line(line)
            return True
        # _CHAIN: the next traceback of the chain.
        if _is_traceback_start(line, indent):
            self.state = _FRAMES
            return True
        return indent > 0

    def adopt(self, line: str) -> None:
        """A column-0 line after the exception line turned out to continue its message."""
        self._add_message_line(line)


def _is_traceback_start(line: str, indent: int) -> bool:
    if indent:
        return line.endswith("(most recent call last):") and _GROUP_TRACEBACK.fullmatch(line) is not None
    return line == _TRACEBACK_START or (line[0] == _BOX_TOP and "Traceback (most recent call last)" in line)


# ----------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True, slots=True)
class StderrEntry:
    """One logical log record read from a server's standard error."""

    body: str
    severity_number: int
    severity_text: str | None
    timestamp_ns: int | None
    logger: str | None
    attributes: dict[str, object]
    truncated: bool


class _Record:
    """A record being assembled: its header and the continuation lines held so far (within the cap)."""

    __slots__ = (
        "blank_lines",
        "brace_open",
        "complete",
        "full",
        "header",
        "js_frames",
        "lines",
        "node_stage",
        "size",
        "tentative",
        "traceback",
        "traceback_from",
        "truncated",
    )

    def __init__(self, header: _Header, first_line_size: int, truncated: bool, limit: int) -> None:
        self.header = header
        self.lines: list[str] = []
        self.size = first_line_size
        self.truncated = truncated
        self.full = False  # the cap is reached: later lines are consumed, not held
        self.blank_lines = 0
        self.traceback: _TracebackScan | None = _TracebackScan(limit) if header.style == _TRACEBACK else None
        self.traceback_from = 0
        self.tentative: str | None = None
        self.js_frames = False
        self.brace_open = False
        self.node_stage = 1 if header.style == _NODE_CRASH else 0
        self.complete = False

    def append(self, line: str, limit: int) -> None:
        """Hold a continuation line (and the blank lines before it) while the record is under the cap."""
        blank_lines, self.blank_lines = self.blank_lines, 0
        if self.full:
            return
        if blank_lines:
            if self.size + blank_lines > limit:
                self._fill(limit)
                return
            self.lines.extend([""] * blank_lines)
            self.size += blank_lines
        size = _utf8_length(line) + 1
        if self.size + size > limit:
            room = limit - self.size - 1
            if room > 0:
                self.lines.append(_cut_to_bytes(line, room))
            self._fill(limit)
            return
        self.lines.append(line)
        self.size += size

    def _fill(self, limit: int) -> None:
        self.size = limit
        self.full = True
        self.truncated = True


def _join_rich(pieces: list[str], fold_width: int) -> str:
    """Rich's soft-wrapped pieces back into one message (see the module docstring)."""
    out: list[str] = []
    previous: str | None = None
    for piece in pieces:
        if previous is not None and not (len(previous) == fold_width and " " not in previous):
            out.append(" ")
        out.append(piece)
        previous = piece
    return "".join(out)


def _dedent(line: str, column: int) -> str:
    return line[column:] if line[:column].isspace() else line.lstrip()


def _build(record: _Record, limit: int) -> StderrEntry:
    header = record.header
    lines = record.lines
    style = header.style
    severity_number = header.severity_number
    body = header.body
    exception_type, exception_message, stacktrace = header.exception_type, header.exception_message, header.stacktrace
    if style == _RICH:
        body, exception_type, exception_message, stacktrace = _build_rich(header, lines)
        if exception_type is not None and header.severity_text is None:
            severity_number = ERROR
    elif record.traceback is not None:
        scan = record.traceback
        exception_type, exception_message = scan.exception_type, scan.exception_message()
        if style == _TRACEBACK:
            stacktrace = "\n".join([header.body, *lines])
            if exception_type is not None:
                # The exception line itself (a message's further lines stay in exception.message).
                body = exception_type if exception_message is None else f"{exception_type}: {exception_message}"
                body = body.partition("\n")[0]
        else:
            stacktrace = "\n".join(lines[record.traceback_from :])
            body = "\n".join([body, *lines[: record.traceback_from]])
            if header.severity_text is None:
                severity_number = ERROR
    elif style == _NODE_CRASH and record.node_stage >= 3:
        error_line = next((line for line in lines[2:] if line), "")
        body = error_line
        match = _JS_ERROR_LINE.fullmatch(error_line) or _NODE_BRACKET_ERROR.fullmatch(error_line)
        if match is not None:
            exception_type, exception_message = match.group("type"), match.group("message")
        else:
            exception_message = error_line
        stacktrace = "\n".join([header.body, *lines])
        severity_number = ERROR
    elif style == _GO_PANIC:
        exception_message = header.body
        stacktrace = "\n".join([f"{header.severity_text}: {header.body}", *lines])
    elif record.js_frames:
        body, exception_type, exception_message, stacktrace = _build_js(header, lines)
        if exception_type is not None and header.severity_text is None:
            severity_number = ERROR
    elif lines:
        body = "\n".join([body, *lines])
    attributes = header.attributes
    if exception_type is not None:
        attributes[EXCEPTION_TYPE] = exception_type
    if exception_message is not None:
        attributes[EXCEPTION_MESSAGE] = _cut_to_bytes(exception_message, limit)
    if stacktrace is not None:
        attributes[EXCEPTION_STACKTRACE] = _cut_to_bytes(stacktrace, limit)
    return StderrEntry(
        body=_cut_to_bytes(body, limit),
        severity_number=severity_number,
        severity_text=header.severity_text,
        timestamp_ns=header.timestamp_ns,
        logger=header.logger,
        attributes=attributes,
        truncated=record.truncated,
    )


def _build_rich(header: _Header, lines: list[str]) -> tuple[str, str | None, str | None, str | None]:
    pieces = [_dedent(line, header.message_column) for line in lines]
    box_start = next((index for index, piece in enumerate(pieces) if piece.startswith(_BOX_TOP)), None)
    if box_start is None:
        return _join_rich([header.body, *pieces], header.fold_width), None, None, None
    body = _join_rich([header.body, *pieces[:box_start]], header.fold_width)
    stack = pieces[box_start:]
    exception_type = exception_message = None
    last_box_end = max((index for index, piece in enumerate(stack) if piece.startswith(_BOX_BOTTOM)), default=None)
    if last_box_end is not None:
        tail: list[str] = []
        for piece in stack[last_box_end + 1 :]:
            if not piece:
                break
            tail.append(piece)
        match = _EXCEPTION_LINE.fullmatch(_join_rich(tail, header.fold_width)) if tail else None
        if match is not None:
            exception_type, exception_message = match.group("type"), match.group("message")
    return body, exception_type, exception_message, "\n".join(stack)


def _build_js(header: _Header, lines: list[str]) -> tuple[str, str | None, str | None, str | None]:
    first_frame = next((index for index, line in enumerate(lines) if _JS_FRAME.match(line)), len(lines))
    if first_frame:
        candidates = [lines[first_frame - 1].strip()]
    else:
        # The error line is the header; "Error: boom" had its "Error:" read as the level.
        candidates = [header.body] + ([f"{header.severity_text}: {header.body}"] if header.severity_text else [])
    for candidate in candidates:
        match = _JS_ERROR_LINE.fullmatch(candidate)
        if match is not None:
            body = "\n".join([header.body, *lines[: first_frame - 1]]) if first_frame else header.body
            stacktrace = "\n".join([candidate, *lines[first_frame:]])
            return body, match.group("type"), match.group("message"), stacktrace
    return "\n".join([header.body, *lines]), None, None, None


# ----------------------------------------------------------------------------------------------
# The parser


class StderrParser:
    """Turns a server's standard-error bytes into ``StderrEntry`` records (see the module docstring)."""

    def __init__(
        self, *, quiet_seconds: float = 0.25, max_record_bytes: int = 1_048_576, max_line_bytes: int | None = None
    ) -> None:
        self._quiet_seconds = quiet_seconds
        self._max_record_bytes = max(64, max_record_bytes)
        self._max_line_bytes = max(1, min(self._max_record_bytes, max_line_bytes or self._max_record_bytes))
        self._partial = bytearray()
        self._partial_truncated = False
        self._discarding = False
        self._pending: _Record | None = None
        self._last_activity: float | None = None
        self._rich_time_width = 0
        self._rich_timestamp: int | None = None
        self._out: list[StderrEntry] = []

    def feed(self, data: bytes, now: float) -> list[StderrEntry]:
        """Records completed by ``data`` (a pending record is completed when the next one starts)."""
        if data:
            self._last_activity = now
            self._split(bytes(data))
        return self._drain()

    def poll(self, now: float) -> list[StderrEntry]:
        """The pending record (and a partial last line) if nothing arrived for ``quiet_seconds``."""
        deadline = self.pending_deadline
        if deadline is not None and now >= deadline:
            self._flush()
        return self._drain()

    def close(self) -> list[StderrEntry]:
        """End of stream: everything pending."""
        self._flush()
        return self._drain()

    @property
    def pending_deadline(self) -> float | None:
        """When ``poll`` would next emit, or None when nothing is pending."""
        if self._last_activity is None or (self._pending is None and not self._partial and not self._discarding):
            return None
        return self._last_activity + self._quiet_seconds

    # -- bytes to lines -----------------------------------------------------------------------

    def _split(self, data: bytes) -> None:
        limit = self._max_line_bytes
        pieces = data.split(b"\n")
        last = pieces.pop()
        for piece in pieces:
            if self._partial or self._discarding:
                self._add_to_partial(piece)
                self._end_line()
            elif len(piece) > limit:
                self._line(piece[:limit], True)
            else:
                self._line(piece, False)
        self._add_to_partial(last)

    def _add_to_partial(self, piece: bytes) -> None:
        """Hold the start of a line (at most max_line_bytes of it); the rest is discarded as it comes."""
        if self._discarding or not piece:
            return
        room = self._max_line_bytes - len(self._partial)
        if len(piece) > room:
            self._partial += piece[:room]
            self._partial_truncated = self._discarding = True
        else:
            self._partial += piece

    def _end_line(self) -> None:
        line = bytes(self._partial)
        truncated = self._partial_truncated
        self._partial.clear()
        self._partial_truncated = self._discarding = False
        self._line(line, truncated)

    def _line(self, line: bytes, truncated: bool) -> None:
        if line.endswith(b"\r"):
            line = line[:-1]
        try:
            self._take_line(line.decode("utf-8", "replace"), truncated)
        except Exception:
            # Not reached by any input the tests and fuzzing found; if a bug does, the line still
            # comes out as plain text rather than as an exception in the caller.
            self._pending = None
            body = _cut_to_bytes(_strip_ansi(line.decode("utf-8", "replace")).strip(), self._max_record_bytes)
            self._out.append(StderrEntry(body, INFO, None, None, None, {}, truncated))

    def _flush(self) -> None:
        if self._partial or self._discarding:
            self._end_line()
        while self._pending is not None:
            self._complete_pending()

    def _drain(self) -> list[StderrEntry]:
        out, self._out = self._out, []
        return out

    # -- lines to records ---------------------------------------------------------------------

    def _complete_pending(self) -> None:
        """Emit the pending record; a line it held back to decide on becomes the next pending record."""
        record = self._pending
        assert record is not None
        self._pending = None
        tentative, record.tentative = record.tentative, None
        if record.node_stage == 1:
            record.header.style = _PLAIN  # "path:line" without a caret line under it: not a Node crash
        self._out.append(_build(record, self._max_record_bytes))
        if tentative is not None:
            self._start_record(tentative, tentative, False, _indent(tentative))

    def _take_line(self, decoded: str, truncated: bool) -> None:
        raw = _strip_ansi(decoded)
        if len(raw) * 3 > self._max_line_bytes:
            cut = _cut_to_bytes(raw, self._max_line_bytes)
            truncated = truncated or len(cut) < len(raw)
            raw = cut
        text = raw.rstrip()
        if not text:
            if self._pending is not None:
                self._pending.blank_lines += 1
            return
        indent = _indent(text)
        while self._pending is not None:
            record = self._pending
            if self._continues(record, text, raw, indent):
                record.truncated = record.truncated or truncated
                if record.complete:
                    self._complete_pending()
                return
            self._complete_pending()
        self._start_record(raw, text, truncated, indent)

    def _start_record(self, raw: str, text: str, truncated: bool, indent: int) -> None:
        if indent and indent == self._rich_time_width:
            # Rich left the time column blank: the same time as its previous line.
            header = _parse_rich_after_time(raw, text, indent, self._rich_timestamp)
        elif indent and _GROUP_TRACEBACK.fullmatch(text):
            header = _Header(body=text, severity_number=ERROR, style=_TRACEBACK)
        else:
            header = _parse_header(raw[indent:], text[indent:], self._max_record_bytes)
        if header.style == _RICH:
            self._rich_time_width = header.rich_time_width
            self._rich_timestamp = header.timestamp_ns
        self._pending = _Record(header, _utf8_length(text) + 1, truncated, self._max_record_bytes)

    def _continues(self, record: _Record, text: str, raw: str, indent: int) -> bool:
        """Whether ``text`` continues ``record``; if it does, it has been taken."""
        if record.complete:
            return False
        limit = self._max_record_bytes
        header = record.header

        tentative = record.tentative
        if tentative is not None:
            # A line held back: a Node crash's source line, or a column-0 line after an exception line.
            if record.node_stage == 1:
                if record.blank_lines or not _CARET_LINE.fullmatch(text):
                    return False
                record.tentative = None
                record.append(tentative, limit)
                record.append(text, limit)
                record.node_stage = 2
                return True
            if not indent or record.blank_lines or record.traceback is None:
                return False
            record.tentative = None
            record.traceback.adopt(tentative)
            record.traceback.feed(text, indent)
            record.append(tentative, limit)
            record.append(text, limit)
            return True

        if indent and indent == self._rich_time_width:
            # Rich's repeated time: a blank time column, then a level, starts a new Rich record; so
            # does text there under a Rich record whose message column is further right.
            level_word = text[indent : indent + 9].rstrip()
            if (
                level_word.isupper()
                and level_word.lower() in SEVERITY_BY_LEVEL_WORD
                and (len(text) <= indent + 8 or text[indent + 8] == " ")
            ):
                return False
            if header.style == _RICH and header.message_column > indent:
                return False

        scan = record.traceback
        if scan is not None:
            if record.blank_lines:
                scan.blank()
            state = scan.state
            if scan.feed(text, indent):
                record.append(text, limit)
                return True
            if state == _AFTER_EXCEPTION and not indent and not record.blank_lines and _is_unformatted(text):
                record.tentative = text
                return True
            return False

        if header.style == _NODE_CRASH:
            return self._continues_node_crash(record, text, indent)

        if _is_traceback_start(text, indent):
            if record.blank_lines:
                return False
            last = record.lines[-1] if record.lines else header.body
            if header.severity_number >= WARN if header.severity_text is not None else last.endswith(":"):
                record.traceback = _TracebackScan(limit)
                record.traceback_from = len(record.lines)
                record.append(text, limit)
                return True
            return False

        if header.style == _GO_PANIC:
            if indent or _is_go_dump_line(text):
                record.append(text, limit)
                return True
            return False

        if indent:
            if _JS_FRAME.match(text):
                record.js_frames = True
            if record.js_frames and text.endswith(" {"):
                record.brace_open = True
            record.append(text, limit)
            return True

        if record.brace_open and text == "}":
            record.brace_open = False
            record.append(text, limit)
            return True
        return False

    def _continues_node_crash(self, record: _Record, text: str, indent: int) -> bool:
        limit = self._max_record_bytes
        stage = record.node_stage
        if stage == 1:
            # The source line under "path:line": held until the caret line shows it is a crash.
            if record.blank_lines:
                return False
            record.tentative = text
            return True
        if stage == 2:
            # After the caret, the thrown value's first line (Node writes a blank line before it).
            record.append(text, limit)
            record.node_stage = 3
            return True
        # Frames, the error's properties, Node's hint, then "Node.js vNN", which ends the record.
        if indent or text == "}" or text.startswith("(Use `node"):
            record.append(text, limit)
            return True
        if _NODE_VERSION_TRAILER.match(text):
            record.append(text, limit)
            record.complete = True
            return True
        return False


def _is_unformatted(text: str) -> bool:
    """A column-0 line that no format claims: after an exception line it may continue its message."""
    if text[0] in "{[" or text in _CHAIN_SENTENCES or _is_traceback_start(text, 0):
        return False
    header = _parse_header(text, text, 0)
    return header.style == _PLAIN and header.severity_text is None and header.timestamp_ns is None
