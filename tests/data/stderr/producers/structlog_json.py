"""structlog's JSONRenderer on stderr, ISO timestamps, logger names, exceptions rendered as text by
format_exc_info."""

import logging
import sys

import structlog

structlog.configure(
    processors=[
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso"),
        structlog.processors.format_exc_info,
        structlog.processors.JSONRenderer(),
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
)
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(message)s")
log = structlog.get_logger("weather.tools")

log.debug("tool registry loaded", tools=3)
log.info("server started", transport="stdio")
log.warning("slow tool", tool="search", elapsed_ms=1532.5)
try:
    int("eighty")
except ValueError:
    log.exception("tool crashed", tool="get_forecast")
log.critical("shutting down")
