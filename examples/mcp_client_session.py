"""The mcp SDK's ``ClientSession`` over ``stdio_client``, with ``OTelLogHandler`` as its logging callback.

Starts the bundled demo server (``python -m mcp_otel.demo_server``), initializes the session and
calls its ``log_all_levels`` tool, which logs once at each of the eight MCP levels. Each log
message becomes one OpenTelemetry LogRecord with the attribute ``mcp.server.name = weather``.

Run:   python examples/mcp_client_session.py
       (records are printed, one line each; with OTEL_EXPORTER_OTLP_ENDPOINT set, for example
       http://localhost:4317, they are exported over OTLP instead)
"""

from __future__ import annotations

import sys

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from mcp_otel import OTelLogHandler
from mcp_otel.console import printing_provider_unless_configured


async def main() -> None:
    server = StdioServerParameters(command=sys.executable, args=["-m", "mcp_otel.demo_server", "--name", "weather"])
    with OTelLogHandler(printing_provider_unless_configured(), attributes={"mcp.server.name": "weather"}) as handler:
        async with stdio_client(server) as (read_stream, write_stream):
            async with ClientSession(read_stream, write_stream, logging_callback=handler) as session:
                # The legacy handshake: the server sends log messages without being asked.
                await session.initialize()
                result = await session.call_tool("log_all_levels", {"city": "Lisbon"})
    print("tool result:", result.content[0].text)  # type: ignore[union-attr]


if __name__ == "__main__":
    anyio.run(main)
