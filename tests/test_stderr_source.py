"""Standard error as a log source, end to end: a real stdio server, real clients, a real OTLP receiver.

``tests/servers/stderr_server.py`` logs a stdlib WARNING before the handshake, a stdlib INFO and a
JSON line during a tool call, a stdlib INFO at end of input, then dies of an uncaught chained
traceback. Every route must deliver the same five records (``EXPECTED_ROWS``), each with
``log.iostream = "stderr"`` and the server's name, the traceback as exactly one ERROR record
with the ``exception.*`` attributes:

* the proxy: ``mcp-otel proxy --stderr`` behind mcp's ``ClientSession``;
* ``handler.capture_stderr()`` with mcp's ``Client`` (2.x), ``ClientSession`` (through
  ``connect_session(stderr=...)``) and FastMCP's ``Client`` (``StdioTransport(log_file=...)``);
* the helpers' ``stderr=True``: ``connect_client`` and ``connect_fastmcp``.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from mcp_otel import OTelLogHandler, connect_session, session_attributes
from tests.conftest import PYTHON, REPOSITORY, SERVERS
from tests.support.otlp_receiver import OTLPReceiver, ReceivedRecord

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


@pytest.fixture
def http_receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[OTLPReceiver]:
    with OTLPReceiver("http/protobuf") as live_receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", live_receiver.endpoint)
        yield live_receiver


def _server(*arguments: str) -> StdioServerParameters:
    # stdio_client passes only a minimal environment on: PYTHONPATH makes this checkout's mcp_otel win.
    return StdioServerParameters(
        command=PYTHON, args=list(arguments), env={"PYTHONPATH": str(REPOSITORY), **_otel_variables()}
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


async def _call_log_styles(call: Callable[[str, dict[str, Any]], Awaitable[Any]]) -> None:
    result = await call("log_styles", {})
    assert "logged" in str(result)


# --------------------------------------------------------------------------- the proxy


@pytest.mark.anyio
async def test_proxy_stderr_behind_client_session(http_receiver: OTLPReceiver, tmp_path: Path) -> None:
    host_stderr = tmp_path / "host-stderr.txt"
    proxied = _server("-m", "mcp_otel.cli", "proxy", "--stderr", "--", PYTHON, STDERR_SERVER)
    with host_stderr.open("w") as errlog:
        async with stdio_client(proxied, errlog=errlog) as (read_stream, write_stream):
            async with ClientSession(read_stream, write_stream) as session:
                await session.initialize()
                await _call_log_styles(session.call_tool)
    assert_the_five_records(http_receiver.wait_for_records(5))
    relayed = host_stderr.read_text()
    assert "WARNING stderr_server.tools: starting up before the handshake\n" in relayed
    assert relayed.rstrip("\n").endswith("RuntimeError: configuration unreadable")


# --------------------------------------------------------------------------- capture_stderr by hand


@pytest.mark.anyio
async def test_capture_stderr_with_mcp_client(http_receiver: OTLPReceiver) -> None:
    mcp = pytest.importorskip("mcp")
    if not hasattr(mcp, "Client"):
        pytest.skip("mcp 1.x has no Client")
    server = _server(STDERR_SERVER)
    with OTelLogHandler() as handler, handler.capture_stderr() as errlog:
        async with mcp.Client(stdio_client(server, errlog=errlog)) as client:
            errlog.learn(session_attributes(client, server=server))
            await _call_log_styles(client.call_tool)
    assert_the_five_records(http_receiver.wait_for_records(5))


@pytest.mark.anyio
async def test_capture_stderr_with_client_session(http_receiver: OTLPReceiver) -> None:
    server = _server(STDERR_SERVER)
    with OTelLogHandler() as handler, handler.capture_stderr() as errlog:
        async with stdio_client(server, errlog=errlog) as (read_stream, write_stream):
            async with connect_session(read_stream, write_stream, handler, server=server, stderr=errlog) as session:
                await _call_log_styles(session.call_tool)
    assert_the_five_records(http_receiver.wait_for_records(5))


@pytest.mark.anyio
async def test_capture_stderr_with_fastmcp_client(http_receiver: OTLPReceiver) -> None:
    fastmcp = pytest.importorskip("fastmcp")
    from fastmcp.client.transports import StdioTransport

    with OTelLogHandler() as handler, handler.capture_stderr() as errlog:
        transport = StdioTransport(
            PYTHON, [STDERR_SERVER], env=_server().env, keep_alive=False, log_file=errlog  # type: ignore[arg-type]
        )
        async with fastmcp.Client(transport) as client:
            errlog.learn(session_attributes(client))
            await _call_log_styles(client.call_tool)
    assert_the_five_records(http_receiver.wait_for_records(5))


# --------------------------------------------------------------------------- the helpers' stderr=True


@pytest.mark.anyio
async def test_connect_client_stderr_true(http_receiver: OTLPReceiver) -> None:
    mcp = pytest.importorskip("mcp")
    if not hasattr(mcp, "Client"):
        pytest.skip("mcp 1.x has no Client")
    from mcp_otel import connect_client

    with OTelLogHandler() as handler:
        async with connect_client(_server(STDERR_SERVER), handler, stderr=True) as client:
            await _call_log_styles(client.call_tool)
    assert_the_five_records(http_receiver.wait_for_records(5))


@pytest.mark.anyio
async def test_connect_fastmcp_stderr_true(http_receiver: OTLPReceiver) -> None:
    pytest.importorskip("fastmcp")
    from fastmcp.client.transports import StdioTransport

    from mcp_otel import connect_fastmcp

    transport = StdioTransport(PYTHON, [STDERR_SERVER], env=_server().env)  # keep_alive: the helper closes it
    with OTelLogHandler() as handler:
        async with connect_fastmcp(transport, handler, stderr=True) as client:
            await _call_log_styles(client.call_tool)
    assert_the_five_records(http_receiver.wait_for_records(5))
