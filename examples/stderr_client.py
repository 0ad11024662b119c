"""A server's standard error as records: ``handler.capture_stderr()`` given to mcp's ``stdio_client``.

``examples/stderr_server.py`` logs in three styles to standard error and crashes with a chained
traceback when its input closes. Each logical record becomes one LogRecord (level, message, time,
logger, JSON fields; the traceback as one ERROR with ``exception.*``), ``log.iostream = "stderr"``,
named after the server once ``connect_session`` learnt who it is (lines before that are held).

Run:   python examples/stderr_client.py
       (records are printed, one line each; with OTEL_EXPORTER_OTLP_ENDPOINT set, for example
       http://localhost:4317, they are exported over OTLP instead)
"""

from __future__ import annotations

import sys

import anyio
from mcp import StdioServerParameters
from mcp.client.stdio import stdio_client

from mcp_otel import OTelLogHandler, connect_session
from mcp_otel.console import printing_provider_unless_configured


async def main() -> None:
    server = StdioServerParameters(command=sys.executable, args=["examples/stderr_server.py"])
    with OTelLogHandler(printing_provider_unless_configured()) as handler, handler.capture_stderr() as errlog:
        async with stdio_client(server, errlog=errlog) as (read_stream, write_stream):
            async with connect_session(read_stream, write_stream, handler, server=server, stderr=errlog) as session:
                result = await session.call_tool("forecast", {"city": "Lisbon"})
    print("tool result:", result.content[0].text)  # type: ignore[union-attr]


if __name__ == "__main__":
    anyio.run(main)
