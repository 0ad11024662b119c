"""``session_attributes`` on mcp 1.x and 2.x ``ClientSession`` (this file runs in both CI environments)."""

from __future__ import annotations

import sys

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from mcp_otel.connect import session_attributes

pytestmark = pytest.mark.anyio


async def test_client_session_attributes_from_the_initialize_result() -> None:
    server = StdioServerParameters(command=sys.executable, args=["-m", "mcp_otel.demo_server", "--name", "weather"])
    async with stdio_client(server) as (read_stream, write_stream):
        async with ClientSession(read_stream, write_stream) as session:
            result = await session.initialize()
            attributes = session_attributes(session, server=server, initialize_result=result)
    protocol_version = getattr(result, "protocol_version", None) or result.protocolVersion
    assert attributes["mcp.server.name"] == "weather"
    assert attributes["mcp.protocol.version"] == protocol_version
    assert attributes["network.transport"] == "pipe"


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ("https://tools.example:8443/mcp", {"network.transport": "tcp", "server.address": "tools.example", "server.port": 8443}),
        ("http://127.0.0.1/mcp", {"network.transport": "tcp", "server.address": "127.0.0.1", "server.port": 80}),
        (StdioServerParameters(command="python"), {"network.transport": "pipe"}),
    ],
    ids=["https url", "http url, default port", "stdio"],
)
def test_transport_attributes(server: object, expected: dict[str, object]) -> None:
    assert session_attributes(object(), server=server) == expected
