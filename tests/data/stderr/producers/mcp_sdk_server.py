"""A small server on the official mcp SDK (MCPServer): its default logging is Rich's RichHandler on stderr.

Tools: ``log_levels`` logs one message per level (one long enough to wrap, whose wrapped part starts with
"error:"), ``fail`` raises a chained exception the SDK logs with ``logger.exception``.
"""

import logging

from mcp.server.mcpserver import MCPServer

server = MCPServer("stderr-corpus-sdk", log_level="DEBUG")
log = logging.getLogger("corpus.tools")


@server.tool()
def log_levels() -> str:
    log.debug("debug detail: cache size=%d", 12)
    log.info("Fetching pricing for service ec2")
    log.warning("Rate limit close: %d requests left", 3)
    log.error(
        "Failed to get pricing for service ec2 in region us-east-1 after 3 attempts, "
        "error: Error in AWS Pricing API: the security token included in the request is invalid"
    )
    log.critical("Giving up on pricing lookups")
    return "logged"


def parse_port(text: str) -> int:
    return int(text)


@server.tool()
def fail() -> str:
    try:
        parse_port("eighty")
    except ValueError as error:
        raise RuntimeError("could not read the configured port") from error
    return "unreachable"


if __name__ == "__main__":
    server.run("stdio")
