"""``mcp_otel.client_streams``: the wrapped streams of an in-process client, on mcp 1.x and 2.x.

The mcp 2.x end-to-end cases (the SDK's client span, concurrent calls) are in
``tests/test_attribution_end_to_end.py``; these run unchanged on both majors.
"""

from __future__ import annotations

import asyncio
import contextvars
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


def _in_memory_handler() -> tuple[OTelLogHandler, InMemoryLogRecordExporter]:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    return OTelLogHandler(provider), exporter


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


def _body(item: SessionMessage) -> Any:
    message = getattr(item.message, "root", item.message)
    return message.params["data"]  # type: ignore[union-attr]


def _answer(request_id: int) -> SessionMessage:
    return _session_message(types.JSONRPCResponse(jsonrpc="2.0", id=request_id, result={}))


async def test_wrapped_streams_attribute_logs_in_the_order_the_client_reads_them() -> None:
    handler, exporter = _in_memory_handler()
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


class _ContextStream:
    """Both ends of a memory stream that carries the sender's context, as mcp 2.x's ``create_context_streams``.

    Written out here so the test runs on mcp 1.x too (its streams carry no context); the real
    SDK streams are exercised over Streamable HTTP in ``tests/test_attribution_end_to_end.py``.
    """

    def __init__(self) -> None:
        self._send, self._receive = anyio.create_memory_object_stream[Any](100)
        self.last_context: contextvars.Context | None = None

    async def send(self, item: Any) -> None:
        await self._send.send((contextvars.copy_context(), item))

    async def receive(self) -> Any:
        self.last_context, item = await self._receive.receive()
        return item


async def test_a_log_is_tied_to_the_request_whose_stream_carried_it() -> None:
    # A Streamable HTTP client in miniature: the transport reads each request in the context it
    # was sent in and answers it from a task of its own (mcp 2.x's POST task); the standalone
    # stream's task was started before any request.
    handler, exporter = _in_memory_handler()
    to_server, from_server = _ContextStream(), _ContextStream()
    streams = AttributingStreams(ConnectionLog(handler))
    read_stream, write_stream = streams.wrap(from_server, to_server)
    steps: dict[int, anyio.Event] = {request_id: anyio.Event() for request_id in (0, 1, 2)}

    async def post(request_id: int) -> None:  # one request's response stream
        await steps[request_id].wait()
        await from_server.send(_log(f"on {request_id}'s stream"))
        await from_server.send(_answer(request_id))

    async def standalone() -> None:
        await steps[0].wait()
        await from_server.send(_log("on the standalone stream"))

    async with anyio.create_task_group() as transport:
        transport.start_soon(standalone)
        await write_stream.send(_request(0, "handshake"))
        await to_server.receive()
        await from_server.send(_answer(0))  # unmarked: read by no request's task
        await read_stream.receive()
        assert streams.per_request_streams is False
        for request_id, tool in ((1, "alpha"), (2, "beta")):
            await write_stream.send(_request(request_id, tool))
            request = await to_server.receive()
            assert to_server.last_context is not None
            to_server.last_context.run(transport.start_soon, post, request_id)
            del request
        steps[2].set()  # beta logs and answers first, alpha still in flight: only the stream tells
        assert _body(await read_stream.receive()) == "on 2's stream"
        await read_stream.receive()  # beta's answer, marked
        assert streams.per_request_streams is True
        steps[0].set()  # alpha still in flight, and the only opted-in request
        assert _body(await read_stream.receive()) == "on the standalone stream"
        steps[1].set()
        for _ in range(2):
            await read_stream.receive()
    records = {str(data.log_record.body): data.log_record.attributes or {} for data in exporter.get_finished_logs()}
    assert records["on 2's stream"]["gen_ai.tool.name"] == "beta"
    assert records["on 1's stream"]["gen_ai.tool.name"] == "alpha"
    # Alpha is the one opted-in request in flight, but the log came on no request's stream.
    assert records["on the standalone stream"]["mcp_otel.unattributed"] == "unasked"
    assert handler.stats()["unattributed"] == 1


async def test_the_transports_related_request_id_wins_over_a_mark() -> None:
    # An in-process server's worker task keeps the context of the request it was started in;
    # the metadata the transport attaches names the request the log is really for.
    from mcp.shared.message import ServerMessageMetadata

    handler, exporter = _in_memory_handler()
    to_server, from_server = _ContextStream(), _ContextStream()
    read_stream, write_stream = AttributingStreams(ConnectionLog(handler)).wrap(from_server, to_server)
    await write_stream.send(_request(1, "slow"))
    await to_server.receive()
    slow_context = to_server.last_context
    await write_stream.send(_request(2, "quick"))
    await to_server.receive()
    log = _log("for quick")
    log.metadata = ServerMessageMetadata(related_request_id=2)
    assert slow_context is not None
    await slow_context.run(asyncio.ensure_future, from_server.send(log))  # sent from slow's context
    await read_stream.receive()
    (data,) = exporter.get_finished_logs()
    assert (data.log_record.attributes or {})["gen_ai.tool.name"] == "quick"
