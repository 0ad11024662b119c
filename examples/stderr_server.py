"""A weather server that logs only to standard error, in three styles, and crashes on the way out.

Stdlib ``logging`` lines (``asctime LEVEL logger: message``), one JSON line per lookup, and, when
its input closes, an uncaught chained traceback (``RuntimeError`` from ``ConnectionError``). What
``examples/stderr_client.py`` and ``mcp-otel proxy --stderr`` turn into records.

Run (over stdio, by an MCP client):   python examples/stderr_server.py
"""

from __future__ import annotations

import json
import logging
import sys

try:  # mcp 2.x
    from mcp.server.mcpserver import MCPServer
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import FastMCP as MCPServer  # type: ignore[no-redef,attr-defined]

server = MCPServer("weather-stderr")
handler = logging.StreamHandler(sys.stderr)
handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
log = logging.getLogger("weather.server")
log.addHandler(handler)
log.setLevel(logging.INFO)
log.propagate = False  # the SDK server logs through Rich on the root logger; one style per line here
logging.getLogger("mcp").setLevel(logging.WARNING)  # mcp 1.x logs every request at INFO
log.warning("no API key configured, using the free tier")  # before the handshake


@server.tool()
def forecast(city: str) -> str:
    """Tomorrow's weather for ``city``."""
    log.info("looking up %s", city)
    line = {"level": "debug", "msg": "station answered", "logger": "weather.stations", "city": city, "latency_ms": 42}
    print(json.dumps(line), file=sys.stderr, flush=True)
    return f"{city}: 21.5 °C, sunny"


def save_cache() -> None:
    try:
        raise ConnectionError("cache server went away")
    except ConnectionError as error:
        raise RuntimeError("could not save the forecast cache") from error


if __name__ == "__main__":
    server.run()
    save_cache()
