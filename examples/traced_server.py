"""An MCP server whose tool logs through ``mcp_otel.server.send_log``, which puts the trace context in ``_meta``.

mcp 2.x clients send the current span's ``traceparent`` with every request, and mcp 2.x
servers run each request inside that trace. ``send_log`` stamps the server's current trace
context into the log notification's ``_meta``; ``OTelLogHandler`` on the client then gives
the exported record that trace id. Used by ``trace_correlation.py``; needs mcp 2.x.

Run (over stdio, by an MCP client):   python examples/traced_server.py
"""

from __future__ import annotations

import warnings

from mcp.server.mcpserver import Context, MCPServer

from mcp_otel.server import send_log

# MCP 2026-07-28 deprecates the logging capability (SEP-2577); logging is this server's point.
warnings.filterwarnings("ignore", message=".*logging capability is deprecated")

server = MCPServer("traced-weather")


@server.tool()
async def forecast(city: str, ctx: Context) -> str:
    """Log the lookup's progress, each message carrying the caller's trace context."""
    await send_log(ctx, "info", {"msg": f"looking up {city}", "extra": {"city": city}}, logger="traced.weather")
    await send_log(ctx, "warning", {"msg": "station offline, using the model", "extra": {"city": city}}, logger="traced.weather")
    return f"{city}: 21.5 °C, sunny"


if __name__ == "__main__":
    server.run()
