"""stdlib logging with the common format "%(asctime)s - %(name)s - %(levelname)s - %(message)s" on
stderr: every level, logger.exception with a chained traceback, a multi-line message."""

import logging
import sys

handler = logging.StreamHandler(sys.stderr)
handler.setFormatter(logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s"))
logging.basicConfig(level=logging.DEBUG, handlers=[handler])
log = logging.getLogger("weather_server")


def read_port(text: str) -> int:
    return int(text)


log.debug("Loaded 3 tools")
log.info("Starting MCP server 'weather' on stdio")
log.warning("API key missing, error: requests will be rate limited")
log.info("Request summary:\n  tool=get_forecast\n  status=ok")
try:
    try:
        read_port("eighty")
    except ValueError as error:
        raise RuntimeError("bad configuration") from error
except RuntimeError:
    log.exception("Failed to start the forecast client")
log.error("error count: %d", 2)
log.critical("Exiting")
