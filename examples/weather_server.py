"""The weather server the README's snippets start: one tool, ``forecast(city)``, that logs while it works.

Written against the mcp SDK's own server (``MCPServer`` in mcp 2.x, ``FastMCP`` in mcp 1.x), so it
needs nothing beyond mcp-otel's own dependencies. Its logs use FastMCP's ``{"msg", "extra"}`` shape,
so ``extra`` becomes attributes. A city called ``Atlantis`` makes it log an error.

Run (over stdio, by an MCP client):   python examples/weather_server.py
"""

from __future__ import annotations

import warnings
from typing import Any

try:  # mcp 2.x
    from mcp.server.mcpserver import Context, MCPServer
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import Context  # type: ignore[no-redef,attr-defined]
    from mcp.server.fastmcp import FastMCP as MCPServer  # type: ignore[no-redef,attr-defined]

# MCP 2026-07-28 deprecates the logging capability (SEP-2577); logging is this server's point.
warnings.filterwarnings("ignore", message=".*logging capability is deprecated")

server = MCPServer("weather")


async def log(ctx: Any, level: str, message: str, **extra: Any) -> None:
    # send_log_message takes any JSON data in mcp 1.x and 2.x (1.x's ctx.log takes only text).
    await ctx.request_context.session.send_log_message(
        level=level, data={"msg": message, "extra": extra}, logger="weather", related_request_id=ctx.request_id
    )


@server.tool()
async def forecast(city: str, ctx: Context = None) -> str:  # type: ignore[assignment]
    """Tomorrow's weather for ``city``."""
    await log(ctx, "info", f"looking up {city}", city=city)
    if city == "Atlantis":
        await log(ctx, "error", "no station under water", city=city, stations_tried=["north", "south"])
        return f"{city}: unknown"
    await log(ctx, "debug", "station answered", city=city, station={"id": "LPPT", "latency_ms": 42})
    return f"{city}: 21.5 °C, sunny"


if __name__ == "__main__":
    server.run()
