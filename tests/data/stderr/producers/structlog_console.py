"""structlog's ConsoleRenderer (colours on) on stderr, with an exception (structlog renders it with
Rich when Rich is installed, as here)."""

import sys

import structlog

structlog.configure(
    processors=[
        structlog.processors.add_log_level,
        structlog.processors.StackInfoRenderer(),
        structlog.dev.set_exc_info,
        structlog.processors.TimeStamper(fmt="iso"),
        structlog.dev.ConsoleRenderer(colors=True),
    ],
    logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
)
log = structlog.get_logger()

log.debug("tool registry loaded", tools=3)
log.info("server started", transport="stdio")
log.warning("slow tool", tool="search", elapsed_ms=1532.5)
log.error("lookup failed, error: upstream timed out", service="pricing")
try:
    {}["api_key"]
except KeyError:
    log.exception("tool crashed")
log.critical("shutting down")
