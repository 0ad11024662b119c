"""The bundled example MCP server: one tool that logs at all eight MCP levels with structured ``extra``.

Run over stdio: ``python -m mcp_otel.demo_server [--name NAME]``. ``mcp-otel demo`` and the
examples start it. Written against the mcp SDK's own server (``MCPServer`` in mcp 2.x,
``FastMCP`` in mcp 1.x) and sending FastMCP's ``{"msg", "extra"}`` payload shape, so the
demo needs nothing beyond the package's own dependencies.
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

from mcp_otel.levels import LEVELS

try:  # mcp 2.x
    from mcp.server.mcpserver import Context, MCPServer
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import Context  # type: ignore[no-redef,attr-defined]
    from mcp.server.fastmcp import FastMCP as MCPServer  # type: ignore[no-redef,attr-defined]

# MCP 2026-07-28 deprecates the logging capability (SEP-2577); logging is this server's whole point.
warnings.filterwarnings("ignore", message=".*logging capability is deprecated")



def build_server(name: str = "mcp-otel-demo") -> Any:
    server = MCPServer(name)

    @server.tool()
    async def log_all_levels(city: str = "Lisbon", ctx: Context = None) -> str:  # type: ignore[assignment]
        """Log one message at each MCP level, each with structured extra fields."""
        for position, level in enumerate(LEVELS):
            extra = {
                "city": city,
                "step": position,
                "forecast": {"temperature_c": 21.5, "conditions": ["sunny", "windy"]},
            }
            # session.send_log_message exists with this signature in mcp 1.x and 2.x, and
            # takes any JSON data (1.x's ctx.log takes only a string).
            await ctx.request_context.session.send_log_message(
                level=level,
                data={"msg": f"{level} report for {city}", "extra": extra},
                logger=f"{name}.weather",
                related_request_id=ctx.request_id,
            )
        return f"logged {len(LEVELS)} messages for {city}"

    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="mcp-otel-demo", help="the server name sent in its initialize info")
    arguments = parser.parse_args()
    build_server(arguments.name).run()


if __name__ == "__main__":
    main()
