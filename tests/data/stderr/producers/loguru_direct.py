"""loguru's default sink format on stderr, coloured (colorize=True), with logger.exception's
traceback (backtrace and diagnose on, loguru's defaults) and a multi-line message."""

import sys

from loguru import logger

logger.remove()
logger.add(sys.stderr, level="TRACE", colorize=True)


def divide(total: int, parts: int) -> float:
    return total / parts


def handle_request(parts: int) -> None:
    try:
        divide(10, parts)
    except ZeroDivisionError:
        logger.exception("Tool 'split' failed")


logger.trace("entering handler")
logger.debug("cache warm: {} entries", 12)
logger.info("Starting server on stdio")
logger.success("Connected to upstream")
logger.warning("Slow response: {} ms, error: none reported", 1532)
logger.info("Config:\n  region=us-east-1\n  profile=default")
handle_request(0)
logger.error("Giving up after {} retries", 3)
logger.critical("Shutting down")
