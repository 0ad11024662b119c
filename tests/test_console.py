"""``mcp_otel.console``: one line per record, and nothing a server sends reaches the terminal raw."""

from __future__ import annotations

import io

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import ConsoleLogRecordExporter, SimpleLogRecordProcessor

from mcp_otel import OTelLogHandler
from mcp_otel.console import format_record, terminal_safe

UNSAFE_ROWS = [
    ("ESC (colours, cursor moves, title changes)", "\x1b[2J\x1b]0;pwned\x07", "\\x1b[2J\\x1b]0;pwned\\x07"),
    ("carriage return (overwrites the line)", "ok\rFAKE", "ok\\rFAKE"),
    ("newline (a second, forged line)", "a\nb", "a\\nb"),
    ("NUL and DEL", "\x00\x7f", "\\x00\\x7f"),
    ("C1 control (CSI)", "\x9b31m", "\\x9b31m"),
    ("bidirectional override", "abc\u202etxt.exe", "abc\\u202etxt.exe"),
    ("ordinary text and non-ASCII letters kept", "Lisboa: 21.5 °C ☀", "Lisboa: 21.5 °C ☀"),
]


@pytest.mark.parametrize(("text", "shown"), [row[1:] for row in UNSAFE_ROWS], ids=[row[0] for row in UNSAFE_ROWS])
def test_terminal_safe(text: str, shown: str) -> None:
    assert terminal_safe(text) == shown


def test_a_printed_record_is_one_safe_line_whatever_the_server_sent() -> None:
    out = io.StringIO()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(ConsoleLogRecordExporter(out, format_record)))
    handler = OTelLogHandler(provider)
    handler.handle({"level": "error\x1b[0m", "logger": "evil\rscope", "data": {"msg": "body\x1b]0;x\x07", "extra": {"k\n": "v\x1b"}}})
    provider.shutdown()
    printed = out.getvalue()
    assert printed.count("\n") == 1 and printed.endswith("\n")
    assert "\x1b" not in printed and "\r" not in printed and "\x07" not in printed
    # Body, scope and level escaped by terminal_safe; attributes by JSON itself.
    assert printed == ' 0 error\\x1b[0m [evil\\rscope] body\\x1b]0;x\\x07  {"k\\n": "v\\u001b"}\n'
