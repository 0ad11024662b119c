"""Server logs in the client's trace: a span around ``call_tool``, and records exported with its trace id.

The client has an SDK ``TracerProvider``; mcp 2.x sends the span current at ``call_tool`` in
the request's ``_meta``, the server (``traced_server.py``) logs with ``mcp_otel.server.send_log``,
which stamps that trace context into each log notification, and ``OTelLogHandler`` gives each
exported record that trace id. The script prints both and exits with 1 if they differ.

Run:   python examples/trace_correlation.py
       (records are printed, one line each; with OTEL_EXPORTER_OTLP_ENDPOINT set, for example
       http://localhost:4317, they are exported over OTLP instead)
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider

from mcp_otel import OTelLogHandler
from mcp_otel.console import printing_provider_unless_configured


async def main() -> int:
    tracer = TracerProvider().get_tracer("weather-agent")
    server = StdioServerParameters(command=sys.executable, args=[str(Path(__file__).with_name("traced_server.py"))])
    exported = InMemoryLogRecordExporter()  # a copy of every record, to compare trace ids below
    with OTelLogHandler(printing_provider_unless_configured(), attributes={"mcp.server.name": "traced-weather"}) as handler:
        handler.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(exported))
        async with Client(server, logging_callback=handler, log_level="debug") as client:
            with tracer.start_as_current_span("ask for the forecast") as span:
                await client.call_tool("forecast", {"city": "Lisbon"})
    span_trace_id = format(span.get_span_context().trace_id, "032x")
    record_trace_ids = [format(item.log_record.trace_id, "032x") for item in exported.get_finished_logs()]
    print(f"span trace id:    {span_trace_id}")
    print(f"record trace ids: {', '.join(record_trace_ids)}")
    same = bool(record_trace_ids) and all(trace_id == span_trace_id for trace_id in record_trace_ids)
    print("the records carry the span's trace id" if same else "MISMATCH: the records are not in the span's trace")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main))
