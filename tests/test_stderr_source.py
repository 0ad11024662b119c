"""Standard error as a log source, end to end: a real stdio server, real clients, a real OTLP receiver.

``tests/servers/stderr_server.py`` logs a stdlib WARNING before the handshake, a stdlib INFO and a
JSON line during a tool call, a stdlib INFO at end of input, then dies of an uncaught chained
traceback. Every route must deliver the same five records (``tests/support/stderr_records.py``),
each with ``log.iostream = "stderr"`` and the server's name, the traceback as exactly one ERROR
record with the ``exception.*`` attributes:

* the proxy: ``mcp-otel proxy --stderr`` behind mcp's ``ClientSession``;
* ``handler.capture_stderr()`` with mcp's ``ClientSession`` (``connect_session(stderr=...)``) and
  FastMCP's ``Client`` (``StdioTransport(log_file=...)``);
* ``connect_fastmcp(..., stderr=True)``.

Runs unchanged on mcp 1.x with FastMCP 2.x and on mcp 2.x with FastMCP 4.x (CI runs it in both
environments); mcp 2.x's ``Client`` routes are in ``tests/test_stderr_source_mcp2.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import ClientSession
from mcp.client.stdio import stdio_client

from mcp_otel import OTelLogHandler, connect_session, session_attributes
from tests.conftest import PYTHON
from tests.support.otlp_receiver import OTLPReceiver
from tests.support.stderr_records import STDERR_SERVER, assert_the_five_records, stderr_server

pytestmark = pytest.mark.anyio


async def test_proxy_stderr_behind_client_session(http_receiver: OTLPReceiver, tmp_path: Path) -> None:
    host_stderr = tmp_path / "host-stderr.txt"
    proxied = stderr_server("-m", "mcp_otel.cli", "proxy", "--stderr", "--", PYTHON, STDERR_SERVER)
    with host_stderr.open("w") as errlog:
        async with stdio_client(proxied, errlog=errlog) as (read_stream, write_stream):
            async with ClientSession(read_stream, write_stream) as session:
                await session.initialize()
                assert "logged" in str(await session.call_tool("log_styles", {}))
    assert_the_five_records(http_receiver.wait_for_records(5))
    relayed = host_stderr.read_text()  # the host still gets the server's standard error
    assert "WARNING stderr_server.tools: starting up before the handshake\n" in relayed
    assert relayed.rstrip("\n").endswith("RuntimeError: configuration unreadable")


async def test_capture_stderr_with_client_session(http_receiver: OTLPReceiver) -> None:
    server = stderr_server()
    with OTelLogHandler() as handler, handler.capture_stderr() as errlog:
        async with stdio_client(server, errlog=errlog) as (read_stream, write_stream):
            async with connect_session(read_stream, write_stream, handler, server=server, stderr=errlog) as session:
                assert "logged" in str(await session.call_tool("log_styles", {}))
    assert_the_five_records(http_receiver.wait_for_records(5))


async def test_capture_stderr_with_fastmcp_client(http_receiver: OTLPReceiver) -> None:
    import fastmcp  # a test dependency in both CI environments (FastMCP 4 and 2)
    from fastmcp.client.transports import StdioTransport

    with OTelLogHandler() as handler, handler.capture_stderr() as errlog:
        transport = StdioTransport(
            PYTHON, [STDERR_SERVER], env=stderr_server().env, keep_alive=False, log_file=errlog
        )
        async with fastmcp.Client(transport) as client:
            errlog.learn(session_attributes(client))
            assert "logged" in str(await client.call_tool("log_styles", {}))
    assert_the_five_records(http_receiver.wait_for_records(5))


async def test_connect_fastmcp_stderr_true(http_receiver: OTLPReceiver) -> None:
    from fastmcp.client.transports import StdioTransport

    from mcp_otel import connect_fastmcp

    transport = StdioTransport(PYTHON, [STDERR_SERVER], env=stderr_server().env)  # keep_alive: the helper closes it
    with OTelLogHandler() as handler:
        async with connect_fastmcp(transport, handler, stderr=True) as client:
            assert "logged" in str(await client.call_tool("log_styles", {}))
    assert_the_five_records(http_receiver.wait_for_records(5))


async def test_connect_fastmcp_stderr_true_leaves_a_given_log_file_alone(tmp_path: Path) -> None:
    from fastmcp.client.transports import StdioTransport

    from mcp_otel import connect_fastmcp

    log_file = tmp_path / "server.log"
    transport = StdioTransport(PYTHON, [STDERR_SERVER], log_file=log_file)
    with OTelLogHandler(attributes={"mcp.server.name": "x"}) as handler, pytest.raises(ValueError, match="log_file"):
        async with connect_fastmcp(transport, handler, stderr=True):
            pass
    assert transport.log_file == log_file and not log_file.exists()  # nothing was started
