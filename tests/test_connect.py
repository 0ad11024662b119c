"""Per-server attributes and the log-level opt-in helpers, over real stdio servers and a real receiver."""

from __future__ import annotations

import logging
import sys
from collections import Counter
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from mcp_otel import OTelLogHandler
from mcp_otel.connect import (
    LOG_LEVEL_VARIABLE,
    bind_session,
    connect_client,
    connect_fastmcp,
    connect_session,
    resolve_log_level,
)
from tests.conftest import FASTMCP_SERVER
from tests.support.accounting import assert_adds_up
from tests.support.otlp_receiver import OTLPReceiver
from tests.support.spec import MCP_LEVELS

pytestmark = pytest.mark.anyio

LEVELS = MCP_LEVELS


def demo_server(name: str) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "mcp_otel.demo_server", "--name", name])


async def test_two_servers_in_one_client_each_record_names_its_server(receiver: OTLPReceiver) -> None:
    with OTelLogHandler() as handler:
        async with connect_client(demo_server("alpha"), handler) as alpha, connect_client(demo_server("beta"), handler) as beta:
            await alpha.call_tool("log_all_levels", {"city": "Alpha City"})
            await beta.call_tool("log_all_levels", {"city": "Beta Town"})
    records = receiver.wait_for_records(16)
    for record in records:
        server_name = record.attributes["mcp.server.name"]
        assert record.body.endswith({"alpha": "Alpha City", "beta": "Beta Town"}[server_name])
        assert record.scope_name == f"{server_name}.weather"
        assert record.attributes["mcp.protocol.version"] == "2026-07-28"
        assert record.attributes["network.transport"] == "pipe"
    assert Counter(record.attributes["mcp.server.name"] for record in records) == {"alpha": 8, "beta": 8}


@pytest.mark.parametrize("mode", ["auto", "legacy"], ids=["2026-07-28 server", "legacy handshake"])
async def test_connect_client_opt_in_delivers_every_level(receiver: OTLPReceiver, mode: str) -> None:
    with OTelLogHandler() as handler:
        async with connect_client(demo_server("weather"), handler, mode=mode) as client:
            await client.call_tool("log_all_levels", {})
            protocol_version = client.protocol_version
    records = receiver.wait_for_records(8)
    assert sorted(record.severity_text for record in records) == sorted(LEVELS)
    assert {record.attributes["mcp.protocol.version"] for record in records} == {protocol_version}
    assert protocol_version.startswith("2026-") is (mode == "auto")


async def test_connect_session_for_client_session(receiver: OTLPReceiver) -> None:
    server = demo_server("weather")
    with OTelLogHandler() as handler:
        async with stdio_client(server) as (read_stream, write_stream):
            async with connect_session(read_stream, write_stream, handler, server=server) as session:
                await session.call_tool("log_all_levels", {})
    records = receiver.wait_for_records(8)
    assert sorted(record.severity_text for record in records) == sorted(LEVELS)
    assert {(r.attributes["mcp.server.name"], r.attributes["network.transport"]) for r in records} == {("weather", "pipe")}


async def test_connect_fastmcp_applies_the_level(receiver: OTLPReceiver) -> None:
    messages = [{"msg": level, "level": level} for level in LEVELS]
    with OTelLogHandler() as handler:
        async with connect_fastmcp(Path(FASTMCP_SERVER), handler, level="error") as client:
            await client.call_tool("log_messages", {"messages": messages})
    records = receiver.wait_for_records(4)
    assert sorted(record.body for record in records) == sorted(["error", "critical", "alert", "emergency"])
    assert {record.attributes["mcp.server.name"] for record in records} == {"fastmcp-test-server"}
    assert handler.stats()["filtered"] == 4
    assert_adds_up(handler.stats(), 8)


async def test_level_from_the_environment(receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOG_LEVEL_VARIABLE, "warning")
    with OTelLogHandler() as handler:
        async with connect_client(demo_server("weather"), handler) as client:
            await client.call_tool("log_all_levels", {})
    records = receiver.wait_for_records(5)
    assert sorted(record.severity_number for record in records) == [13, 17, 18, 19, 21]


def test_bad_level_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOG_LEVEL_VARIABLE, "loud")
    with pytest.raises(ValueError, match=LOG_LEVEL_VARIABLE):
        resolve_log_level()
    assert resolve_log_level("notice") == "notice"


async def test_missing_opt_in_is_reported_once(receiver: OTLPReceiver, caplog: pytest.LogCaptureFixture) -> None:
    handler = OTelLogHandler()
    async with Client(demo_server("quiet"), logging_callback=handler) as client:
        bound = bind_session(handler, client)
        bind_session(handler, client)
    handler.shutdown()
    warnings = [record for record in caplog.records if record.name == "mcp_otel" and record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "requested no log level" in warnings[0].getMessage()
    assert bound.stats()["received"] == 0
    assert repr(bound).count("'mcp.server.name': 'quiet'") == 1
