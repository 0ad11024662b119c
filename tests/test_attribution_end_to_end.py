"""Every log tied to the request that caused it: real clients, real stdio servers, a real receiver.

mcp 2.x only (its ``Client`` injects each request's trace context, SEP-414); CI's mcp 1.x
environment does not run it. The servers log with plain ``ctx.info``: nothing is stamped, so
the trace context the records carry can only come from the attribution.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import format_span_id, format_trace_id

from mcp_otel import OTelLogHandler, connect_client, connect_fastmcp
from mcp_otel.errors import ConfigurationError
from mcp_otel.span_events import span_events_from_environment
from tests.conftest import PYTHON, SERVERS
from tests.support.child_process import LOOPBACK_HOST, ChildProcess
from tests.support.otlp_receiver import OTLPReceiver, ReceivedRecord, ReceivedSpan, free_port
from tests.support.tracing import global_tracer_provider, installed, otlp_span_processor, recorded_spans

REQUEST_LOGS_SERVER = str(SERVERS / "request_logs_server.py")


def _proxied_server(receiver: OTLPReceiver, **variables: str) -> StdioServerParameters:
    environment = {
        "OTEL_BLRP_SCHEDULE_DELAY": "50",
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        "OTEL_EXPORTER_OTLP_PROTOCOL": receiver.protocol,
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),  # the package under test, in the child too
        **variables,
    }
    return StdioServerParameters(
        command=PYTHON, args=["-m", "mcp_otel.cli", "proxy", "--", PYTHON, REQUEST_LOGS_SERVER], env=environment
    )


def _client_span(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    (span,) = [span for span in spans if span.name == name]
    return span


def assert_attributed_to(record: ReceivedRecord, span: ReadableSpan, tool: str) -> None:
    context = span.get_span_context()
    assert context is not None
    assert record.trace_id == format_trace_id(context.trace_id)
    assert record.span_id == format_span_id(context.span_id)
    assert record.flags & 0x01 == 1
    assert record.attributes["mcp.method.name"] == "tools/call"
    assert record.attributes["gen_ai.tool.name"] == tool
    assert record.attributes["gen_ai.operation.name"] == "execute_tool"
    assert span.attributes is not None
    assert record.attributes["jsonrpc.request.id"] == span.attributes["jsonrpc.request.id"]
    assert "mcp_otel.unattributed" not in record.attributes


@pytest.mark.anyio
async def test_through_the_proxy_logs_carry_the_hosts_client_span(receiver: OTLPReceiver) -> None:
    with recorded_spans() as spans:
        async with Client(_proxied_server(receiver), log_level="debug") as host:
            assert host.protocol_version == "2026-07-28"
            await host.call_tool("work", {"label": "porto"})
    records = receiver.wait_for_records(2)
    assert sorted(str(record.body) for record in records) == ["porto done", "porto started"]
    call = _client_span(spans.get_finished_spans(), "MCP send tools/call work")
    for record in records:
        assert_attributed_to(record, call, "work")


@pytest.mark.anyio
async def test_through_the_proxy_concurrent_calls_are_marked_not_guessed(receiver: OTLPReceiver) -> None:
    async with Client(_proxied_server(receiver), log_level="debug") as host:
        async with anyio.create_task_group() as group:
            for label in ("a", "b"):
                group.start_soon(host.call_tool, "meet", {"label": label, "parties": 2})
    records = receiver.wait_for_records(2)
    assert sorted(str(record.body) for record in records) == ["a met", "b met"]
    for record in records:
        assert record.attributes["mcp_otel.unattributed"] == "ambiguous"
        assert "jsonrpc.request.id" not in record.attributes
        assert record.trace_id == "" and record.span_id == ""  # no trace rather than a wrong one


DIRECT_SERVER = StdioServerParameters(command=PYTHON, args=[REQUEST_LOGS_SERVER])


def assert_the_work_call_attributed(
    receiver: OTLPReceiver, spans: Sequence[ReadableSpan], handler: OTelLogHandler, label: str
) -> None:
    """The two logs of one ``work`` call carry the SDK's ``MCP send tools/call work`` span, nothing unattributed."""
    records = receiver.wait_for_records(2)
    assert sorted(str(record.body) for record in records) == [f"{label} done", f"{label} started"]
    call = _client_span(spans, "MCP send tools/call work")
    for record in records:
        assert_attributed_to(record, call, "work")
        assert record.attributes["mcp.server.name"] == "request-logs"
    assert handler.stats()["unattributed"] == 0




@pytest.mark.anyio
async def test_connect_client_logs_carry_the_sdks_client_span(receiver: OTLPReceiver) -> None:
    with recorded_spans() as spans, OTelLogHandler() as handler:
        async with connect_client(DIRECT_SERVER, handler) as client:
            assert client.protocol_version == "2026-07-28"
            await client.call_tool("work", {"label": "lisbon"})
    assert_the_work_call_attributed(receiver, spans.get_finished_spans(), handler, "lisbon")


@pytest.mark.anyio
async def test_connect_client_concurrent_calls_over_stdio_are_marked_and_counted(receiver: OTLPReceiver) -> None:
    with recorded_spans() as spans, OTelLogHandler() as handler:
        async with connect_client(DIRECT_SERVER, handler) as client:
            async with anyio.create_task_group() as group:
                for label in ("a", "b"):
                    group.start_soon(client.call_tool, "meet", {"label": label, "parties": 2})
    records = receiver.wait_for_records(2)
    assert sorted(str(record.body) for record in records) == ["a met", "b met"]
    call_traces = {format_trace_id(span.context.trace_id) for span in spans.get_finished_spans() if span.context}
    for record in records:
        assert record.attributes["mcp_otel.unattributed"] == "ambiguous"
        assert "jsonrpc.request.id" not in record.attributes
        assert record.trace_id == "" and record.trace_id not in call_traces  # no trace rather than a wrong one
    assert handler.stats()["unattributed"] == 2


# --------------------------------------------------------------------------- Streamable HTTP


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    """``request_logs_server.py`` served over Streamable HTTP in its own process: its URL."""
    port = free_port()
    server = ChildProcess(tmp_path / "http-server.log", startup_timeout=30)
    server.name = "request-logs HTTP server"
    server.start_child([PYTHON, REQUEST_LOGS_SERVER, "--http", str(port)], [port], env=os.environ)
    try:
        yield f"http://{LOOPBACK_HOST}:{port}/mcp"
    finally:
        server.stop()


async def meet_concurrently(call_tool: Callable[..., Awaitable[Any]]) -> dict[str, int]:
    """Two ``meet`` calls in flight at once, each inside a span of its own: label -> that span's id.

    Each logs while the other still waits: only the response stream a log came on tells them
    apart (the server stamps nothing).
    """
    tracer = global_tracer_provider().get_tracer("test")
    callers: dict[str, int] = {}

    async def call(label: str) -> None:
        with tracer.start_as_current_span(f"caller {label}") as caller:
            callers[label] = caller.get_span_context().span_id
            await call_tool("meet", {"label": label, "parties": 2})

    async with anyio.create_task_group() as group:
        for label in ("a", "b"):
            group.start_soon(call, label)
    return callers


def assert_each_met_on_its_own_call(
    records: dict[str, ReceivedRecord], spans: Sequence[ReadableSpan], callers: dict[str, int]
) -> None:
    """"<label> met" carries the ``MCP send tools/call meet`` span under that label's caller span."""
    parents = {span.context.span_id: span.parent.span_id for span in spans if span.context and span.parent}

    def under(span_id: int, ancestor: int) -> bool:
        while span_id in parents:
            span_id = parents[span_id]
            if span_id == ancestor:
                return True
        return False

    calls = [span for span in spans if span.name == "MCP send tools/call meet" and span.context]
    assert len(calls) == 2
    for label, caller in callers.items():
        (own_call,) = [span for span in calls if span.context and under(span.context.span_id, caller)]
        assert_attributed_to(records[f"{label} met"], own_call, "meet")


@pytest.mark.anyio
async def test_over_http_concurrent_calls_each_get_their_own_calls_span(
    receiver: OTLPReceiver, http_server: str
) -> None:
    with recorded_spans() as spans, OTelLogHandler() as handler:
        async with connect_client(http_server, handler) as client:
            assert client.protocol_version == "2026-07-28"
            callers = await meet_concurrently(client.call_tool)
            await client.call_tool("work", {"label": "evora"})
    records = {str(record.body): record for record in receiver.wait_for_records(4)}
    assert sorted(records) == ["a met", "b met", "evora done", "evora started"]
    assert_each_met_on_its_own_call(records, spans.get_finished_spans(), callers)
    work = _client_span(spans.get_finished_spans(), "MCP send tools/call work")
    for body in ("evora started", "evora done"):
        assert_attributed_to(records[body], work, "work")
        assert records[body].attributes["network.transport"] == "tcp"
        assert records[body].attributes["network.protocol.name"] == "http"
    assert handler.stats()["unattributed"] == 0


@pytest.mark.anyio
async def test_connect_session_over_http_ties_logs_to_their_stream_on_a_legacy_handshake(
    receiver: OTLPReceiver, http_server: str
) -> None:
    # ClientSession's initialize() is the handshake era (logging/setLevel: no per-request opt-in),
    # but the stream a log came on still names its request for certain.
    from mcp.client.streamable_http import streamable_http_client

    from mcp_otel import connect_session

    with recorded_spans() as spans, OTelLogHandler() as handler:
        async with streamable_http_client(http_server) as (read_stream, write_stream):
            async with connect_session(read_stream, write_stream, handler, server=http_server) as session:
                callers = await meet_concurrently(session.call_tool)
    records = {str(record.body): record for record in receiver.wait_for_records(2)}
    assert sorted(records) == ["a met", "b met"]
    assert {record.attributes["mcp.protocol.version"] for record in records.values()} != {"2026-07-28"}
    assert_each_met_on_its_own_call(records, spans.get_finished_spans(), callers)
    assert handler.stats()["unattributed"] == 0


# --------------------------------------------------------------------------- FastMCP's Client


@pytest.mark.anyio
async def test_connect_fastmcp_over_stdio_ties_each_log_to_its_call(receiver: OTLPReceiver) -> None:
    from fastmcp.client.transports import StdioTransport

    transport = StdioTransport(command=PYTHON, args=[REQUEST_LOGS_SERVER])
    with recorded_spans() as spans, OTelLogHandler() as handler:
        async with connect_fastmcp(transport, handler) as client:
            await client.call_tool("work", {"label": "sintra"})
    # FastMCP's own "tools/call work" span is the parent of the SDK's, whose context the request carries.
    assert_the_work_call_attributed(receiver, spans.get_finished_spans(), handler, "sintra")


@pytest.mark.anyio
async def test_connect_fastmcp_over_http_tells_concurrent_calls_apart(receiver: OTLPReceiver, http_server: str) -> None:
    with recorded_spans() as spans, OTelLogHandler() as handler:
        async with connect_fastmcp(http_server, handler) as client:
            callers = await meet_concurrently(client.call_tool)  # FastMCP's own span sits in between
    records = {str(record.body): record for record in receiver.wait_for_records(2)}
    assert sorted(records) == ["a met", "b met"]
    assert_each_met_on_its_own_call(records, spans.get_finished_spans(), callers)
    assert handler.stats()["unattributed"] == 0


@pytest.mark.anyio
async def test_connect_fastmcp_keeps_fastmcps_connection_reuse(receiver: OTLPReceiver) -> None:
    # FastMCP reuses a kept-alive stdio connection only for equal session options; the wrapped
    # transport must name the same session class each time (client.new() shares the connection).
    from fastmcp.client.transports import StdioTransport

    transport = StdioTransport(command=PYTHON, args=[REQUEST_LOGS_SERVER])
    with OTelLogHandler() as handler:
        async with connect_fastmcp(transport, handler) as client:
            async with client.new() as sibling:
                await sibling.call_tool("work", {"label": "tavira"})
            await client.call_tool("work", {"label": "lagos"})
            client.transport.keep_alive = True  # a write reaches the real transport
            assert transport.keep_alive is True
    records = receiver.wait_for_records(4)
    assert sorted(str(record.body) for record in records) == [
        "lagos done", "lagos started", "tavira done", "tavira started"
    ]
    assert all(record.attributes["gen_ai.tool.name"] == "work" for record in records)
    assert handler.stats()["unattributed"] == 0


@pytest.mark.anyio
async def test_connect_fastmcp_leaves_an_mcp_config_transport_alone(receiver: OTLPReceiver) -> None:
    # FastMCP's client checks for MCPConfigTransport by type; such a client keeps the plain callback.
    from fastmcp.client.transports.config import MCPConfigTransport

    config = {"mcpServers": {"logs": {"command": PYTHON, "args": [REQUEST_LOGS_SERVER]}}}
    with OTelLogHandler() as handler:
        async with connect_fastmcp(config, handler) as client:
            assert isinstance(client.transport, MCPConfigTransport)
            await client.call_tool("work", {"label": "tomar"})
    records = receiver.wait_for_records(2)
    assert sorted(str(record.body) for record in records) == ["tomar done", "tomar started"]  # once each


# --------------------------------------------------------------------------- span events (Jaeger)


def _log_events(span: ReceivedSpan) -> list[dict[str, Any]]:
    return [attributes for name, attributes in span.events if name == "mcp.log"]


@pytest.mark.anyio
async def test_span_events_go_on_the_open_client_span(receiver: OTLPReceiver) -> None:
    with installed(otlp_span_processor(receiver.protocol, receiver.endpoint)):
        with OTelLogHandler(span_events=True) as handler:
            async with connect_client(DIRECT_SERVER, handler) as client:
                await client.call_tool("work", {"label": "faro"})
    receiver.wait_for_records(2)
    (call,) = [span for span in receiver.wait_for_spans(1) if span.name == "MCP send tools/call work"]
    events = _log_events(call)
    assert sorted((event["log.message"], event["log.severity"]) for event in events) == [
        ("faro done", "info"), ("faro started", "info")
    ]
    for event in events:
        assert event["gen_ai.tool.name"] == "work"
        assert event["jsonrpc.request.id"] == str(event["jsonrpc.request.id"])
    records = receiver.records()
    assert {record.span_id for record in records} == {call.span_id}


@pytest.mark.anyio
async def test_span_events_through_the_proxy_go_on_a_child_of_the_hosts_span(receiver: OTLPReceiver) -> None:
    with recorded_spans() as spans:
        server = _proxied_server(receiver, MCP_OTEL_SPAN_EVENTS="true")
        async with Client(server, log_level="debug") as host:
            await host.call_tool("work", {"label": "braga"})
    call = _client_span(spans.get_finished_spans(), "MCP send tools/call work").get_span_context()
    assert call is not None
    receiver.wait_for_records(2)
    children = [span for span in receiver.wait_for_spans(2) if span.name == "notifications/message"]
    assert len(children) == 2  # one short span per log
    for child in children:
        assert child.trace_id == format_trace_id(call.trace_id)
        assert child.parent_span_id == format_span_id(call.span_id)
    events = [event for child in children for event in _log_events(child)]
    assert sorted((event["log.message"], event["log.severity"]) for event in events) == [
        ("braga done", "info"), ("braga started", "info")
    ]


def test_span_events_variable_is_read_strictly(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, expected in (("true", True), ("FALSE", False), ("", False)):
        monkeypatch.setenv("MCP_OTEL_SPAN_EVENTS", value)
        assert span_events_from_environment() is expected
    monkeypatch.setenv("MCP_OTEL_SPAN_EVENTS", "yes")
    with pytest.raises(ConfigurationError, match="MCP_OTEL_SPAN_EVENTS"):
        OTelLogHandler()


def test_the_demo_with_span_events_puts_each_log_on_its_tool_call_span() -> None:
    # The collector-config/jaeger route: `MCP_OTEL_SPAN_EVENTS=true mcp-otel demo`. The demo sets a
    # tracer provider from OTEL_TRACES_EXPORTER (console here), so mcp's client span exists and
    # every one of the eight logs is an event on it.
    import json
    import subprocess

    from tests.conftest import REPOSITORY

    environment = {name: value for name, value in os.environ.items() if not name.startswith(("OTEL_", "MCP_OTEL_"))}
    environment.update(MCP_OTEL_SPAN_EVENTS="true", OTEL_TRACES_EXPORTER="console")
    completed = subprocess.run(
        [PYTHON, "-m", "mcp_otel", "demo"], capture_output=True, text=True, env=environment, cwd=REPOSITORY, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    decoder = json.JSONDecoder()
    spans: list[dict[str, Any]] = []
    text = completed.stdout
    position = text.find("{\n")
    while position >= 0:
        span, end = decoder.raw_decode(text, position)
        spans.append(span)
        position = text.find("{\n", end)
    [tool_call] = [span for span in spans if span["name"].startswith("MCP send tools/call")]
    events = [event for event in tool_call["events"] if event["name"] == "mcp.log"]
    assert sorted(event["attributes"]["log.severity"] for event in events) == sorted(
        ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]
    )
