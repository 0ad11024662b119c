"""An MCP server on the mcp SDK's own server class that sends exactly the log messages a test asks for.

Tool ``send_logs(messages)``: each message is ``{"level", "data", "logger"}`` and goes out as one
``notifications/message``, so a test can put any JSON ``data`` on the real wire. A message with a
``traceparent`` is sent by ``mcp_otel.server.send_log`` inside that trace context. Works with
mcp 2.x (``MCPServer``) and mcp 1.x (``FastMCP``).
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

try:  # mcp 2.x
    from mcp.server.mcpserver import Context, MCPServer
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import Context  # type: ignore[no-redef]
    from mcp.server.fastmcp import FastMCP as MCPServer  # type: ignore[no-redef]

from opentelemetry import context as otel_context
from opentelemetry.propagate import extract

from mcp_otel.server import send_log

warnings.filterwarnings("ignore", message=".*logging capability is deprecated")

server = MCPServer(sys.argv[1] if len(sys.argv) > 1 else "sdk-test-server")


@server.tool()
async def send_logs(messages: list[dict[str, Any]], ctx: Context = None) -> str:  # type: ignore[assignment]
    """Send each message as a notifications/message; return how many were sent."""
    for message in messages:
        if "traceparent" in message:
            # As if the server ran inside that trace: mcp_otel.server.send_log stamps it in _meta.
            token = otel_context.attach(extract({"traceparent": message["traceparent"]}))
            try:
                await send_log(ctx, message["level"], message.get("data"), message.get("logger"))
            finally:
                otel_context.detach(token)
            continue
        await ctx.request_context.session.send_log_message(
            level=message["level"],
            data=message.get("data"),
            logger=message.get("logger"),
            related_request_id=ctx.request_id,
        )
    return f"sent {len(messages)}"


@server.tool()
async def send_large_logs(ordinary: int, wide_items: int, near_cap: int, ctx: Context = None) -> str:  # type: ignore[assignment]
    """``ordinary`` small messages, one message whose data is a list of ``wide_items`` integers, and
    ``near_cap`` messages of about 900 KB each (28 strings of 32,000 characters), interleaved."""
    session = ctx.request_context.session

    async def send(data: Any, logger: str) -> None:
        await session.send_log_message(level="info", data=data, logger=logger, related_request_id=ctx.request_id)

    for index in range(ordinary):
        await send(f"ordinary {index}", "ordinary")
        if index == ordinary // 2:
            await send(list(range(wide_items)), "wide")
            for copy in range(near_cap):
                await send([chr(ord("a") + copy) * 32_000] * 28, "near-cap")
    return f"sent {ordinary + 1 + near_cap}"


if __name__ == "__main__":
    server.run()
