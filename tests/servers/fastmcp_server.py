"""A FastMCP server whose tool logs through ``ctx.log`` at the level, logger and extra a test asks for."""

from __future__ import annotations

import sys
from typing import Any

from fastmcp import Context, FastMCP

server = FastMCP(sys.argv[1] if len(sys.argv) > 1 else "fastmcp-test-server")


@server.tool
async def log_messages(messages: list[dict[str, Any]], ctx: Context) -> str:
    """Log each ``{"msg", "level", "logger", "extra"}`` through FastMCP's ctx.log."""
    for message in messages:
        await ctx.log(
            message["msg"],
            level=message.get("level", "info"),
            logger_name=message.get("logger"),
            extra=message.get("extra"),
        )
    return f"logged {len(messages)}"


if __name__ == "__main__":
    server.run(show_banner=False)
