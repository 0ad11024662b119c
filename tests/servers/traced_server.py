"""An mcp SDK server whose tool logs through ``mcp_otel.server.send_log`` (trace context in ``_meta``)."""

from __future__ import annotations

import sys
import warnings

from mcp.server.mcpserver import Context, MCPServer

from mcp_otel.server import send_log
from mcp_otel.trace_context import inject_into

warnings.filterwarnings("ignore", message=".*logging capability is deprecated")

server = MCPServer(sys.argv[1] if len(sys.argv) > 1 else "traced-server")


@server.tool()
async def traced_work(ctx: Context) -> str:
    """Log twice from inside the request's span; return the trace context the server saw."""
    await send_log(ctx, "info", {"msg": "started", "extra": {"step": 1}}, logger="traced")
    await send_log(ctx.request_context, "error", "failed politely", logger="traced")
    return inject_into({}).get("traceparent", "")


if __name__ == "__main__":
    server.run()
