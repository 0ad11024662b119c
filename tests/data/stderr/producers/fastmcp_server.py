"""A small FastMCP server: FastMCP's own loggers go through its RichHandler pair (a traceback handler
without level or path columns); the tool's logger is FastMCP's ``get_logger``.

Tools: ``log_levels`` logs at each level, ``fail`` raises an error FastMCP logs with its traceback.
"""

from fastmcp import FastMCP
from fastmcp.utilities.logging import get_logger

server = FastMCP("stderr-corpus-fastmcp")
log = get_logger("corpus.tools")


@server.tool
def log_levels() -> str:
    log.debug("debug detail: cache size=%d", 12)
    log.info("Fetching pricing for service ec2")
    log.warning("Rate limit close: %d requests left", 3)
    log.error("Failed to get pricing for service ec2, error: Error in AWS Pricing API: token invalid")
    return "logged"


@server.tool
def fail() -> str:
    try:
        {}["port"]
    except KeyError as error:
        raise ValueError("no port configured") from error
    return "unreachable"


if __name__ == "__main__":
    server.run("stdio", show_banner=False)
