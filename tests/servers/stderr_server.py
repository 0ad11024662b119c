"""An MCP server that logs only to standard error, in three styles, and crashes on the way out.

* Before the handshake (at import): a stdlib ``logging`` WARNING (``asctime LEVEL logger: msg``,
  UTC ISO time), so a test sees a line written before the server's name is known.
* Tool ``log_styles()``: a stdlib INFO line, then a JSON line with its own ``time``
  (``JSON_TIME``), ``level``, ``msg``, ``logger`` and one extra field (``hits``).
* At end of input (the client closing): a stdlib INFO line, then an uncaught chained exception
  (``RuntimeError`` raised from ``FileNotFoundError``): the interpreter prints its traceback and
  the process exits 1.

Works with mcp 2.x (``MCPServer``) and mcp 1.x (``FastMCP``). The name is ``stderr-server``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import warnings

try:  # mcp 2.x
    from mcp.server.mcpserver import MCPServer
except ImportError:  # mcp 1.x
    from mcp.server.fastmcp import FastMCP as MCPServer  # type: ignore[no-redef]

warnings.filterwarnings("ignore", message=".*logging capability is deprecated")

NAME = "stderr-server"
JSON_TIME = "2026-07-28T12:00:00.250Z"

server = MCPServer(NAME)

# After the server's own setup, so that its logging configuration does not replace this one.
handler = logging.StreamHandler(sys.stderr)
formatter = logging.Formatter("%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S")
formatter.converter = time.gmtime
handler.setFormatter(formatter)
log = logging.getLogger("stderr_server.tools")
log.addHandler(handler)
log.setLevel(logging.INFO)
log.propagate = False
logging.getLogger("mcp").setLevel(logging.WARNING)  # mcp 1.x logs every request at INFO

log.warning("starting up before the handshake")


@server.tool()
def log_styles() -> str:
    """Log one stdlib line and one JSON line to standard error."""
    log.info("looking things up")
    record = {"time": JSON_TIME, "level": "warn", "msg": "cache cold", "logger": "stderr_server.cache", "hits": 0}
    sys.stderr.write(json.dumps(record) + "\n")
    sys.stderr.flush()
    return "logged"


def read_configuration() -> None:
    try:
        open("/nonexistent/stderr-server.toml")
    except FileNotFoundError as error:
        raise RuntimeError("configuration unreadable") from error


if __name__ == "__main__":
    server.run()
    log.info("input closed, shutting down")
    read_configuration()
