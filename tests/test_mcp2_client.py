"""mcp 2.x's ``Client``: the handler plugs in as ``logging_callback`` with the ``log_level`` opt-in.

mcp 2.x only (``mcp.Client`` does not exist in 1.x); CI's mcp 1.x environment does not run it.
"""

from __future__ import annotations

import sys

import pytest
from mcp import Client, StdioServerParameters

from mcp_otel import OTelLogHandler
from tests.support.otlp_receiver import OTLPReceiver
from tests.support.spec import SEVERITY_NUMBER_BY_MCP_LEVEL

pytestmark = pytest.mark.anyio

DEMO_SERVER = StdioServerParameters(command=sys.executable, args=["-m", "mcp_otel.demo_server", "--name", "weather"])
EXPECTED = SEVERITY_NUMBER_BY_MCP_LEVEL


async def test_client_with_log_level_exports_all_eight_levels(receiver: OTLPReceiver) -> None:
    with OTelLogHandler(attributes={"mcp.server.name": "weather"}) as handler:
        async with Client(DEMO_SERVER, logging_callback=handler, log_level="debug") as client:
            assert client.protocol_version == "2026-07-28"
            await client.call_tool("log_all_levels", {"city": "Porto"})
    records = receiver.wait_for_records(8)
    assert {record.severity_text: record.severity_number for record in records} == EXPECTED
    for record in records:
        assert record.scope_name == "weather.weather"
        assert record.body == f"{record.severity_text} report for Porto"
        assert record.attributes["city"] == "Porto"
        assert record.attributes["forecast"] == {"temperature_c": 21.5, "conditions": ["sunny", "windy"]}
        assert record.attributes["mcp.server.name"] == "weather"


async def test_client_without_log_level_receives_nothing(receiver: OTLPReceiver) -> None:
    # The fact behind the opt-in helpers: on 2026-07-28 a logging_callback alone is not an opt-in.
    with OTelLogHandler() as handler:
        async with Client(DEMO_SERVER, logging_callback=handler) as client:
            await client.call_tool("log_all_levels", {})
    assert handler.stats()["received"] == 0
    assert receiver.records() == []
