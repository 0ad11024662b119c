"""A FastMCP server whose tool logs through ``mcp_otel.server.send_log``."""

from __future__ import annotations

import sys

from fastmcp import Context, FastMCP

from mcp_otel.server import send_log

server = FastMCP(sys.argv[1] if len(sys.argv) > 1 else "fastmcp-traced-server")


@server.tool
async def traced_work(ctx: Context) -> str:
    await send_log(ctx, "warning", {"msg": "from fastmcp", "extra": {"k": "v"}}, logger="fast.traced")
    return "ok"


if __name__ == "__main__":
    server.run(show_banner=False)
