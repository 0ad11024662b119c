"""The mcp SDK 2.x ``Client`` with ``OTelLogHandler`` as ``logging_callback`` and ``log_level="debug"``.

On mcp 2.x, servers speaking protocol 2026-07-28 send log messages only for requests that opt
in; ``log_level=`` is that opt-in (a ``logging_callback`` alone receives nothing). The bundled
demo server logs once at each of the eight MCP levels; each message becomes one LogRecord.

Run:   python examples/mcp_client.py
       (records are printed, one line each; with OTEL_EXPORTER_OTLP_ENDPOINT set, for example
       http://localhost:4317, they are exported over OTLP instead)
"""

from __future__ import annotations

import sys

import anyio
from mcp import Client, StdioServerParameters

from mcp_otel import OTelLogHandler
from mcp_otel.console import printing_provider_unless_configured


async def main() -> None:
    server = StdioServerParameters(command=sys.executable, args=["-m", "mcp_otel.demo_server", "--name", "weather"])
    with OTelLogHandler(printing_provider_unless_configured(), attributes={"mcp.server.name": "weather"}) as handler:
        async with Client(server, logging_callback=handler, log_level="debug") as client:
            result = await client.call_tool("log_all_levels", {"city": "Lisbon"})
    print("tool result:", result.content[0].text)  # type: ignore[union-attr]


if __name__ == "__main__":
    anyio.run(main)
