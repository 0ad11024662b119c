"""``mcp_otel.client_streams``: the wrapped streams of an in-process client, on mcp 1.x and 2.x.

The mcp 2.x end-to-end cases (the SDK's client span, concurrent calls) are in
``tests/test_attribution_end_to_end.py``; these run unchanged on both majors.
"""

from __future__ import annotations

import sys
from typing import Any

import anyio
import pytest
from mcp import StdioServerParameters, types
from mcp.client.stdio import stdio_client
from mcp.shared.message import SessionMessage
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

from mcp_otel import OTelLogHandler
from mcp_otel.attribution import LOG_LEVEL_META_KEY
from mcp_otel.client_streams import AttributingStreams
from mcp_otel.connect import connect_session
from mcp_otel.connection import ConnectionLog
from tests.support.otlp_receiver import OTLPReceiver
from tests.support.spec import traceparent

try:  # mcp 1.x and 2.x name the in-memory log exporter differently
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
except ImportError:  # pragma: no cover
    from opentelemetry.sdk._logs.export import InMemoryLogExporter as InMemoryLogRecordExporter  # type: ignore[no-redef]

pytestmark = pytest.mark.anyio

TRACE = "0af7651916cd43dd8448eb211c80319c"
SPAN = "b7ad6b7169203331"


def _session_message(message: Any) -> SessionMessage:
    # mcp 1.x wraps each message in the JSONRPCMessage root model; 2.x takes the message itself.
    if hasattr(types, "JSONRPCMessage") and hasattr(types.JSONRPCMessage, "model_fields") and "root" in getattr(
        types.JSONRPCMessage, "model_fields", {}
    ):
        return SessionMessage(types.JSONRPCMessage(message))
    return SessionMessage(message)


def _request(request_id: int, tool: str) -> SessionMessage:
    params = {"name": tool, "_meta": {LOG_LEVEL_META_KEY: "debug", "traceparent": traceparent(TRACE, SPAN)}}
    return _session_message(types.JSONRPCRequest(jsonrpc="2.0", id=request_id, method="tools/call", params=params))


def _log(text: str) -> SessionMessage:
    params = {"level": "info", "data": text}
    return _session_message(types.JSONRPCNotification(jsonrpc="2.0", method="notifications/message", params=params))


def _answer(request_id: int) -> SessionMessage:
    return _session_message(types.JSONRPCResponse(jsonrpc="2.0", id=request_id, result={}))


async def test_wrapped_streams_attribute_logs_in_the_order_the_client_reads_them() -> None:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    handler = OTelLogHandler(provider)
    to_server, server_reads = anyio.create_memory_object_stream[Any](10)
    server_writes, from_server = anyio.create_memory_object_stream[Any](10)
    read_stream, write_stream = AttributingStreams(ConnectionLog(handler)).wrap(from_server, to_server)
    await write_stream.send(_request(1, "alpha"))
    await write_stream.send(_request(2, "beta"))
    for item in (_log("both in flight"), _answer(2), _log("only alpha"), _answer(1), _log("after the answers")):
        await server_writes.send(item)
    server_writes.close()
    received = [item async for item in read_stream]
    assert len(received) == 5  # every message still reaches the client
    assert [server_reads.receive_nowait(), server_reads.receive_nowait()]  # both requests reached the server
    records = {str(data.log_record.body): data.log_record for data in exporter.get_finished_logs()}
    assert records["both in flight"].attributes["mcp_otel.unattributed"] == "ambiguous"  # type: ignore[index]
    alpha = records["only alpha"]
    assert alpha.attributes is not None and alpha.attributes["gen_ai.tool.name"] == "alpha"
    assert alpha.attributes["jsonrpc.request.id"] == "1"
    assert format(alpha.trace_id, "032x") == TRACE and format(alpha.span_id, "016x") == SPAN
    assert records["after the answers"].attributes["mcp_otel.unattributed"] == "unasked"  # type: ignore[index]
    assert handler.stats()["unattributed"] == 2


async def test_connect_session_on_a_legacy_handshake_marks_logs_unasked(receiver: OTLPReceiver) -> None:
    # A legacy connection opts in with logging/setLevel, for the whole connection: no log can be
    # tied to a request for certain, so each is marked (and counted) rather than guessed.
    server = StdioServerParameters(command=sys.executable, args=["-m", "mcp_otel.demo_server", "--name", "weather"])
    with OTelLogHandler() as handler:
        async with stdio_client(server) as (read_stream, write_stream):
            async with connect_session(read_stream, write_stream, handler, server=server) as session:
                await session.call_tool("log_all_levels", {})
    records = receiver.wait_for_records(8)
    for record in records:
        assert record.attributes["mcp_otel.unattributed"] == "unasked"
        assert record.attributes["mcp.server.name"] == "weather"
    assert handler.stats()["unattributed"] == 8
