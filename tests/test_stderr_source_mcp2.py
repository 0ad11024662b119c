"""Standard error as a log source through mcp 2.x's ``Client``: by hand and with ``connect_client(stderr=True)``.

The same server and the same five records as ``tests/test_stderr_source.py``. mcp 2.x only
(``mcp.Client`` does not exist in 1.x); CI's mcp 1.x environment does not run it.
"""

from __future__ import annotations

import pytest
from mcp import Client
from mcp.client.stdio import stdio_client

from mcp_otel import OTelLogHandler, connect_client, session_attributes
from tests.support.otlp_receiver import OTLPReceiver
from tests.support.stderr_records import assert_the_five_records, stderr_server

pytestmark = pytest.mark.anyio


async def test_capture_stderr_with_mcp_client(http_receiver: OTLPReceiver) -> None:
    server = stderr_server()
    with OTelLogHandler() as handler, handler.capture_stderr() as errlog:
        async with Client(stdio_client(server, errlog=errlog)) as client:
            errlog.learn(session_attributes(client, server=server))
            assert "logged" in str(await client.call_tool("log_styles", {}))
    assert_the_five_records(http_receiver.wait_for_records(5))


async def test_connect_client_stderr_true(http_receiver: OTLPReceiver) -> None:
    with OTelLogHandler() as handler:
        async with connect_client(stderr_server(), handler, stderr=True) as client:
            assert "logged" in str(await client.call_tool("log_styles", {}))
    assert_the_five_records(http_receiver.wait_for_records(5))


async def test_connect_client_stderr_true_needs_stdio_parameters() -> None:
    with OTelLogHandler(attributes={"mcp.server.name": "x"}) as handler, pytest.raises(TypeError, match="StdioServerParameters"):
        async with connect_client("http://127.0.0.1:9/mcp", handler, stderr=True):
            pass
