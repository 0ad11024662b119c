"""What ``tests/servers/stderr_server.py`` writes to standard error, as the records every route must deliver.

Shared by ``tests/test_stderr_source.py`` (mcp 1.x and 2.x) and ``tests/test_stderr_source_mcp2.py``
(mcp 2.x's ``Client``).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from mcp import StdioServerParameters

from tests.conftest import PYTHON, REPOSITORY, SERVERS
from tests.support.otlp_receiver import ReceivedRecord

STDERR_SERVER = str(SERVERS / "stderr_server.py")
SERVER_NAME = "stderr-server"
JSON_TIME_NS = int(datetime.fromisoformat("2026-07-28T12:00:00.250+00:00").timestamp() * 1_000_000) * 1000

# (body, severity number, severity text, scope, attributes besides the connection's)
EXPECTED_ROWS: list[tuple[str, int, str, str, dict[str, Any]]] = [
    ("starting up before the handshake", 13, "WARNING", "stderr_server.tools", {}),
    ("looking things up", 9, "INFO", "stderr_server.tools", {}),
    ("cache cold", 13, "warn", "stderr_server.cache", {"hits": 0}),
    ("input closed, shutting down", 9, "INFO", "stderr_server.tools", {}),
    ("RuntimeError: configuration unreadable", 17, "", "mcp_otel", {}),
]
CONNECTION = {"log.iostream": "stderr", "mcp.server.name": SERVER_NAME, "network.transport": "pipe"}
LEARNT_TOO = ("mcp.server.version", "mcp.protocol.version")  # as the handshake tells them


def stderr_server(*arguments: str) -> StdioServerParameters:
    """The command ``python *arguments`` (the stderr server by default) with this checkout and the OTEL_* settings."""
    # stdio_client passes only a minimal environment on: PYTHONPATH makes this checkout's mcp_otel win.
    return StdioServerParameters(
        command=PYTHON, args=list(arguments or [STDERR_SERVER]), env={"PYTHONPATH": str(REPOSITORY), **_otel_variables()}
    )


def _otel_variables() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name.startswith("OTEL_")}


def assert_the_five_records(received: list[ReceivedRecord]) -> None:
    # An export request groups records by scope, so the wire order is not the written order.
    by_body = {record.body: record for record in received}
    assert sorted(by_body) == sorted(row[0] for row in EXPECTED_ROWS) and len(received) == len(EXPECTED_ROWS)
    records = [by_body[row[0]] for row in EXPECTED_ROWS]
    for record, (body, number, text, scope, attributes) in zip(records, EXPECTED_ROWS, strict=True):
        assert (record.severity_number, record.severity_text, record.scope_name) == (number, text, scope), body
        exception = {key: value for key, value in record.attributes.items() if key.startswith("exception.")}
        rest = {
            key: value
            for key, value in record.attributes.items()
            if not key.startswith("exception.") and key not in LEARNT_TOO
        }
        if number == 17:
            assert exception["exception.type"] == "RuntimeError"
            assert exception["exception.message"] == "configuration unreadable"
            stacktrace = exception["exception.stacktrace"]
            assert stacktrace.startswith("Traceback (most recent call last):")
            assert "FileNotFoundError: [Errno 2]" in stacktrace
            assert "The above exception was the direct cause of the following exception:" in stacktrace
            assert stacktrace.endswith("RuntimeError: configuration unreadable")
        else:
            assert exception == {}
        assert rest == {**attributes, **CONNECTION}, (body, rest)
    stdlib, json_line = records[0], records[2]
    # The stdlib line's own time (milliseconds, written moments before it was received).
    assert stdlib.time_unix_nano % 1_000_000 == 0
    assert 0 <= stdlib.observed_time_unix_nano - stdlib.time_unix_nano < 30 * 10**9
    assert json_line.time_unix_nano == JSON_TIME_NS
    for record in records[1:]:
        assert record.observed_time_unix_nano >= records[0].observed_time_unix_nano
