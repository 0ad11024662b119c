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
        ("https://tools.example:8443/mcp", {"network.transport": "tcp", "network.protocol.name": "http",
                                            "server.address": "tools.example", "server.port": 8443}),
        ("http://127.0.0.1/mcp", {"network.transport": "tcp", "network.protocol.name": "http",
                                  "server.address": "127.0.0.1", "server.port": 80}),
        ("wss://tools.example/ws", {"network.transport": "tcp", "network.protocol.name": "websocket",
                                    "server.address": "tools.example", "server.port": 443}),
        ("HTTP://Tools.example:9000/mcp", {"network.transport": "tcp", "network.protocol.name": "http",
                                           "server.address": "tools.example", "server.port": 9000}),
        ("unix+custom://sock/mcp", {"server.address": "sock"}),  # no guess at its transport
        (StdioServerParameters(command="python"), {"network.transport": "pipe"}),
    ],
    ids=["https url", "http url, default port", "websocket url", "upper-case scheme", "unknown scheme", "stdio"],
)
def test_transport_attributes(server: object, expected: dict[str, object]) -> None:
    assert session_attributes(object(), server=server) == expected


class _Transport:
    def __init__(self, session_id: str) -> None:
        self._session_id = session_id

    def get_session_id(self) -> str:
        return self._session_id


class _Source:
    """What session_attributes reads of a FastMCP HTTP client: its transport and its session."""

    def __init__(self, protocol_version: str) -> None:
        self.transport = _Transport("4b1d-session")
        self.session = type("Session", (), {"protocol_version": protocol_version, "send_request": None})()


@pytest.mark.parametrize(
    ("protocol_version", "session_id"),
    [("2025-06-18", "4b1d-session"), ("2026-07-28", None)],
    ids=["legacy session: mcp.session.id set", "2026-07-28: no mcp.session.id (the convention's MUST NOT)"],
)
def test_session_id_row(protocol_version: str, session_id: str | None) -> None:
    attributes = session_attributes(_Source(protocol_version))
    assert attributes.get("mcp.session.id") == session_id
    assert attributes["mcp.protocol.version"] == protocol_version
