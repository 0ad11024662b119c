"""Every row of the conversion contract, over the real wire: stdio MCP servers -> handler -> OTLP receiver.

Runs unchanged on mcp 1.x and 2.x (ClientSession + the legacy handshake, fastmcp.Client), so
CI's second environment runs this file too.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

import mcp_otel
from mcp_otel import OTelLogHandler
from tests.conftest import FASTMCP_SERVER, PROTOCOLS, PYTHON, SDK_SERVER, otel_environment
from tests.support.otlp_receiver import OTLPReceiver, ReceivedRecord
from tests.support.spec import SEVERITY_ROWS

LEVEL_ROWS = SEVERITY_ROWS

# (row id, data sent by the server, expected Body, expected attributes besides the handler's)
DATA_ROWS: list[tuple[str, Any, Any, dict[str, Any]]] = [
    (
        "fastmcp shape",
        {"msg": "cache miss", "extra": {"key": "user:1", "nested": {"hits": [1, 2], "ok": True}}},
        "cache miss",
        {"key": "user:1", "nested": {"hits": [1, 2], "ok": True}},
    ),
    ("fastmcp shape, extra null", {"msg": "no extra", "extra": None}, "no extra", {}),
    ("string", "plain text", "plain text", {}),
    ("object", {"a": {"b": [1, "two"]}, "c": None}, {"a": {"b": [1, "two"]}, "c": None}, {}),
    ("array", [1, "x", {"k": False}], [1, "x", {"k": False}], {}),
    ("integer", 42, 42, {}),
    ("float", 2.5, 2.5, {}),
    ("bool", True, True, {}),
    # null data cannot cross the wire here: the mcp SDK's server omits a None `data`, and its
    # client then rejects the notification as missing `data`. test_conversion covers null.
]

HANDLER_ATTRIBUTES = {"mcp.server.name": "sdk-test-server", "deployment.environment.name": "test"}


async def _send_through_client_session(handler: OTelLogHandler, messages: list[dict[str, Any]]) -> str:
    server = StdioServerParameters(command=PYTHON, args=[SDK_SERVER])
    async with stdio_client(server) as (read_stream, write_stream):
        async with ClientSession(read_stream, write_stream, logging_callback=handler) as session:
            # Legacy handshake: the mcp SDK's server sends every level unasked (it has no
            # logging/setLevel handler unless the server author registers one).
            await session.initialize()
            result = await session.call_tool("send_logs", {"messages": messages})
    return result.content[0].text  # type: ignore[union-attr]


def _by_body(records: list[ReceivedRecord]) -> dict[str, ReceivedRecord]:
    return {str(record.body): record for record in records}


@pytest.mark.anyio
async def test_every_level_arrives_with_its_severity(receiver: OTLPReceiver) -> None:
    messages = [{"level": level, "data": f"at {level}", "logger": "levels"} for level, _ in LEVEL_ROWS]
    with OTelLogHandler(attributes=HANDLER_ATTRIBUTES) as handler:
        assert await _send_through_client_session(handler, messages) == f"sent {len(messages)}"
    records = _by_body(receiver.wait_for_records(len(LEVEL_ROWS)))
    for level, severity_number in LEVEL_ROWS:
        record = records[f"at {level}"]
        assert (record.severity_number, record.severity_text) == (severity_number, level)
        assert record.scope_name == "levels"
        assert record.attributes == HANDLER_ATTRIBUTES


@pytest.fixture(scope="module", params=PROTOCOLS)
def data_rows_received(request: pytest.FixtureRequest) -> dict[str, tuple[ReceivedRecord, int, int]]:
    """All DATA_ROWS sent through one real session per protocol; row id travels as the logger name."""
    messages = [{"level": "warning", "data": data, "logger": row_id} for row_id, data, _, _ in DATA_ROWS]
    with OTLPReceiver(request.param) as live_receiver, otel_environment(
        OTEL_EXPORTER_OTLP_PROTOCOL=request.param, OTEL_EXPORTER_OTLP_ENDPOINT=live_receiver.endpoint
    ):
        before = time.time_ns()
        with OTelLogHandler(attributes=HANDLER_ATTRIBUTES) as handler:
            anyio.run(_send_through_client_session, handler, messages)
        after = time.time_ns()
        records = live_receiver.wait_for_records(len(messages))
    return {record.scope_name: (record, before, after) for record in records}


@pytest.mark.parametrize(("row_id", "body", "attributes"), [(row[0], row[2], row[3]) for row in DATA_ROWS], ids=[row[0] for row in DATA_ROWS])
def test_data_becomes_body_and_attributes(
    data_rows_received: dict[str, tuple[ReceivedRecord, int, int]], row_id: str, body: Any, attributes: dict[str, Any]
) -> None:
    record, before, after = data_rows_received[row_id]
    assert record.body == body
    assert type(record.body) is type(body)
    assert record.attributes == {**attributes, **HANDLER_ATTRIBUTES}
    assert (record.severity_number, record.severity_text) == (13, "warning")
    # Receipt time is both timestamps.
    assert record.time_unix_nano == record.observed_time_unix_nano
    assert before <= record.time_unix_nano <= after


@pytest.mark.anyio
async def test_absent_logger_is_the_package_scope(receiver: OTLPReceiver) -> None:
    with OTelLogHandler() as handler:
        await _send_through_client_session(handler, [{"level": "info", "data": "no logger"}])
    (record,) = receiver.wait_for_records(1)
    assert (record.scope_name, record.scope_version) == ("mcp_otel", mcp_otel.__version__)


@pytest.mark.anyio
async def test_logger_name_is_the_instrumentation_scope(receiver: OTLPReceiver) -> None:
    messages = [
        {"level": "info", "data": "one", "logger": "billing.invoices"},
        {"level": "info", "data": "two", "logger": "auth"},
    ]
    with OTelLogHandler() as handler:
        await _send_through_client_session(handler, messages)
    records = _by_body(receiver.wait_for_records(2))
    assert records["one"].scope_name == "billing.invoices"
    assert records["two"].scope_name == "auth"


@pytest.mark.anyio
async def test_handler_attributes_win_over_server_extra(receiver: OTLPReceiver) -> None:
    spoof = {"msg": "spoof", "extra": {"mcp.server.name": "evil", "k": 1}}
    with OTelLogHandler(attributes={"mcp.server.name": "trusted"}) as handler:
        await _send_through_client_session(handler, [{"level": "info", "data": spoof}])
    (record,) = receiver.wait_for_records(1)
    # The server's own value is kept, under a name it cannot use to spoof (mcp_otel.conversion).
    assert record.attributes == {"mcp.server.name": "trusted", "mcp_otel.extra.mcp.server.name": "evil", "k": 1}


@pytest.mark.anyio
async def test_fastmcp_client_and_server(receiver: OTLPReceiver) -> None:
    from fastmcp import Client

    messages = [
        {"msg": f"fast {level}", "level": level, "logger": "fast.logger", "extra": {"level_index": index, "tags": ["a"]}}
        for index, (level, _) in enumerate(LEVEL_ROWS)
    ]
    with OTelLogHandler() as handler:
        async with Client(Path(FASTMCP_SERVER), log_handler=handler) as client:
            await client.call_tool("log_messages", {"messages": messages})
    records = _by_body(receiver.wait_for_records(len(messages)))
    for index, (level, severity_number) in enumerate(LEVEL_ROWS):
        record = records[f"fast {level}"]
        assert (record.severity_number, record.severity_text) == (severity_number, level)
        assert record.scope_name == "fast.logger"
        assert record.attributes == {"level_index": index, "tags": ["a"]}


@pytest.mark.anyio
async def test_trace_context_in_meta_reaches_the_record(receiver: OTLPReceiver) -> None:
    # mcp 1.x parses _meta into a pydantic model, mcp 2.x into a dict: both must correlate.
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    with OTelLogHandler() as handler:
        await _send_through_client_session(handler, [{"level": "error", "data": "traced", "traceparent": traceparent}])
    (record,) = receiver.wait_for_records(1)
    assert (record.trace_id, record.span_id, record.flags & 1) == (
        "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", 1
    )
