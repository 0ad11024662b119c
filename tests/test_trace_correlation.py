"""Trace correlation: a record carries the trace of the server's ``_meta`` or else of the current span."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from mcp import Client, StdioServerParameters
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mcp_otel import OTelLogHandler
from tests.conftest import SERVERS
from tests.support.otlp_receiver import OTLPReceiver

TRACED_SERVER = StdioServerParameters(command=sys.executable, args=[str(SERVERS / "traced_server.py")])


def _tracer() -> tuple[TracerProvider, InMemorySpanExporter]:
    # Not the global provider: a span made current is what the mcp SDK injects into requests.
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    return provider, spans


@pytest.mark.anyio
async def test_server_log_records_carry_the_client_tool_call_trace(receiver: OTLPReceiver) -> None:
    provider, _ = _tracer()
    with OTelLogHandler() as handler:
        async with Client(TRACED_SERVER, logging_callback=handler, log_level="debug") as client:
            with provider.get_tracer("agent").start_as_current_span("agent tool call") as tool_call_span:
                result = await client.call_tool("traced_work", {})
    tool_call = tool_call_span.get_span_context()
    trace_id = format(tool_call.trace_id, "032x")
    server_traceparent = result.content[0].text  # type: ignore[union-attr]
    assert server_traceparent.split("-")[1] == trace_id  # the server's span continued the client's trace
    records = receiver.wait_for_records(2)
    assert {record.body for record in records} == {"started", "failed politely"}
    for record in records:
        assert record.trace_id == trace_id
        assert record.span_id == server_traceparent.split("-")[2]  # the server span the log came from
        assert record.flags & 0x01 == 1  # sampled


@pytest.mark.anyio
async def test_fastmcp_server_helper_stamps_the_trace(receiver: OTLPReceiver) -> None:
    from fastmcp import Client as FastMCPClient

    provider, _ = _tracer()
    with OTelLogHandler() as handler:
        async with FastMCPClient(Path(SERVERS / "fastmcp_traced_server.py"), log_handler=handler) as client:
            with provider.get_tracer("agent").start_as_current_span("agent tool call") as tool_call_span:
                await client.call_tool("traced_work", {})
    (record,) = receiver.wait_for_records(1)
    assert record.body == "from fastmcp"
    assert record.attributes == {"k": "v"}
    assert record.trace_id == format(tool_call_span.get_span_context().trace_id, "032x")


TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.mark.parametrize(
    ("meta", "expected_trace_id", "expected_span_id"),
    [
        ({"traceparent": TRACEPARENT}, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"),
        ({"traceparent": TRACEPARENT, "tracestate": "vendor=1"}, "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"),
        ({"traceparent": "not-a-traceparent"}, "current", "current"),
        ({"traceparent": 42}, "current", "current"),
        (None, "current", "current"),
    ],
    ids=["traceparent", "with tracestate", "malformed: current span", "not a string: current span", "no meta: current span"],
)
def test_meta_trace_context_or_current_span(
    receiver: OTLPReceiver, meta: object, expected_trace_id: str, expected_span_id: str
) -> None:
    provider, _ = _tracer()
    handler = OTelLogHandler()
    with provider.get_tracer("client").start_as_current_span("current") as current:
        handler.handle(SimpleNamespace(level="info", logger=None, data="m", meta=meta))
    handler.shutdown()
    (record,) = receiver.wait_for_records(1)
    if expected_trace_id == "current":
        expected_trace_id = format(current.get_span_context().trace_id, "032x")
        expected_span_id = format(current.get_span_context().span_id, "016x")
    assert (record.trace_id, record.span_id) == (expected_trace_id, expected_span_id)


def test_span_events_option_records_logs_on_the_current_span(receiver: OTLPReceiver) -> None:
    provider, spans = _tracer()
    handler = OTelLogHandler(span_events=True)
    quiet = OTelLogHandler(logger_provider=handler.logger_provider)
    with provider.get_tracer("client").start_as_current_span("tool call"):
        handler.handle(SimpleNamespace(level="error", logger="x", data={"msg": "boom", "extra": {"code": 7}}))
        quiet.handle(SimpleNamespace(level="error", logger="x", data="not an event"))
    handler.shutdown()
    (span,) = spans.get_finished_spans()
    assert [(event.name, dict(event.attributes or {})) for event in span.events] == [
        ("mcp.log", {"code": 7, "log.severity": "error", "log.message": "boom"})
    ]
    assert len(receiver.wait_for_records(2)) == 2
