"""python-json-logger's JsonFormatter on stderr with asctime, levelname, name, message and code
location fields, plus extra fields and logger.exception."""

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

handler = logging.StreamHandler(sys.stderr)
handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(funcName)s %(lineno)d"))
logging.basicConfig(level=logging.DEBUG, handlers=[handler])
log = logging.getLogger("weather.server")


def main() -> None:
    log.debug("tools registered", extra={"tools": ["get_forecast", "get_alerts"]})
    log.info("request handled", extra={"tool": "get_forecast", "duration_ms": 41.5, "ok": True})
    log.warning("upstream slow")
    try:
        {}["station"]
    except KeyError:
        log.exception("tool failed", extra={"tool": "get_alerts"})
    log.critical("giving up")


main()
