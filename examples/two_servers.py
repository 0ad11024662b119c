"""Two MCP servers, one ``OTelLogHandler``: each connection uses ``handler.bind(...)`` with its server's name.

``bind`` returns a handler sharing the same pipeline (provider, exporter, batch thread) that adds
its own attributes, so every record carries ``mcp.server.name`` of the server that sent it. Two
copies of the bundled demo server run side by side under the names ``weather-lisbon`` and
``weather-oslo``; each logs once at each of the eight MCP levels (16 records in all).

Run:   python examples/two_servers.py
       (records are printed, one line each; with OTEL_EXPORTER_OTLP_ENDPOINT set, for example
       http://localhost:4317, they are exported over OTLP instead)
"""

from __future__ import annotations

import sys

import anyio
from mcp import Client, StdioServerParameters

from mcp_otel import OTelLogHandler
from mcp_otel.console import printing_provider_unless_configured

SERVERS = {"weather-lisbon": "Lisbon", "weather-oslo": "Oslo"}  # server name -> city it reports on


async def call_server(handler: OTelLogHandler, name: str, city: str) -> None:
    server = StdioServerParameters(command=sys.executable, args=["-m", "mcp_otel.demo_server", "--name", name])
    server_handler = handler.bind(**{"mcp.server.name": name})
    async with Client(server, logging_callback=server_handler, log_level="debug") as client:
        result = await client.call_tool("log_all_levels", {"city": city})
    print(f"{name}: {result.content[0].text}")  # type: ignore[union-attr]


async def main() -> None:
    with OTelLogHandler(printing_provider_unless_configured()) as handler:
        async with anyio.create_task_group() as task_group:
            for name, city in SERVERS.items():
                task_group.start_soon(call_server, handler, name, city)


if __name__ == "__main__":
    anyio.run(main)
