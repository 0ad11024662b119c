"""FastMCP's ``Client`` over ``StdioTransport`` with ``OTelLogHandler`` as ``log_handler``.

FastMCP's client opts in to debug-level logging by itself. The bundled demo server logs once at
each of the eight MCP levels, sending FastMCP's ``{"msg", "extra"}`` shape: ``msg`` becomes the
record's body and each ``extra`` key one attribute. Needs ``pip install 'mcp-otel[fastmcp]'``.

Run:   python examples/fastmcp_client.py
       (records are printed, one line each; with OTEL_EXPORTER_OTLP_ENDPOINT set, for example
       http://localhost:4317, they are exported over OTLP instead)
"""

from __future__ import annotations

import sys

import anyio
from fastmcp import Client
from fastmcp.client.transports import StdioTransport

from mcp_otel import OTelLogHandler
from mcp_otel.console import printing_provider_unless_configured


async def main() -> None:
    transport = StdioTransport(command=sys.executable, args=["-m", "mcp_otel.demo_server", "--name", "weather"])
    with OTelLogHandler(printing_provider_unless_configured(), attributes={"mcp.server.name": "weather"}) as handler:
        async with Client(transport, log_handler=handler) as client:
            result = await client.call_tool("log_all_levels", {"city": "Lisbon"})
    print("tool result:", result.content[0].text)  # type: ignore[union-attr]


if __name__ == "__main__":
    anyio.run(main)
