"""A FastMCP server whose tools log with plain ``ctx.info`` (no trace context stamped).

``work`` logs twice. ``meet`` waits until ``parties`` calls are in flight at once, then each logs
and answers: concurrent calls whose logs only the transport (or nothing) can tell apart.

Over stdio by default; ``--http PORT`` serves Streamable HTTP on 127.0.0.1 instead (``/mcp``).
"""

from __future__ import annotations

import sys

import anyio
from fastmcp import Context, FastMCP

server = FastMCP("request-logs")
_arrived = 0
_logged = 0
_everyone_here = anyio.Event()
_everyone_logged = anyio.Event()


@server.tool
async def work(label: str, ctx: Context) -> str:
    await ctx.info(f"{label} started")
    await ctx.info(f"{label} done")
    return f"worked on {label}"


@server.tool
async def meet(label: str, parties: int, ctx: Context) -> str:
    global _arrived, _logged
    _arrived += 1
    if _arrived >= parties:
        _everyone_here.set()
    with anyio.fail_after(20):
        await _everyone_here.wait()
    await ctx.info(f"{label} met")
    _logged += 1
    if _logged >= parties:
        _everyone_logged.set()
    with anyio.fail_after(20):
        await _everyone_logged.wait()  # no call answers before every call logged
    return f"met as {label}"


if __name__ == "__main__":
    if sys.argv[1:2] == ["--http"]:
        server.run("http", show_banner=False, host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run(show_banner=False)
