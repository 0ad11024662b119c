"""The eight MCP log levels and their OTel severities: the one home of both.

MCP's ``LoggingLevel`` is the eight RFC 5424 (syslog) severities. The OTel logs data model,
Appendix B, maps them (syslog column):

=============  ==============  ======
MCP level      SeverityNumber  number
=============  ==============  ======
``debug``      DEBUG           5
``info``       INFO            9
``notice``     INFO2           10
``warning``    WARN            13
``error``      ERROR           17
``critical``   ERROR2          18
``alert``      ERROR3          19
``emergency``  FATAL           21
=============  ==============  ======

Anything else (another word, another case, not a string) is UNSPECIFIED (0).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

from opentelemetry._logs import SeverityNumber

from mcp_otel.errors import ConfigurationError

__all__ = ["LEVELS", "SEVERITY_NUMBER_BY_LEVEL", "LoggingLevel", "parse_level", "severity_for_level"]

# The same Literal as mcp's ``mcp.types.LoggingLevel`` (1.x and 2.x); spelled out so that the proxy,
# which imports no mcp code, shares it.
LoggingLevel = Literal["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]
LEVELS: tuple[LoggingLevel, ...] = get_args(LoggingLevel)

SEVERITY_NUMBER_BY_LEVEL: Mapping[str, SeverityNumber] = {
    "debug": SeverityNumber.DEBUG,
    "info": SeverityNumber.INFO,
    "notice": SeverityNumber.INFO2,
    "warning": SeverityNumber.WARN,
    "error": SeverityNumber.ERROR,
    "critical": SeverityNumber.ERROR2,
    "alert": SeverityNumber.ERROR3,
    "emergency": SeverityNumber.FATAL,
}


def severity_for_level(level: object) -> SeverityNumber:
    """The SeverityNumber of an MCP level; UNSPECIFIED (0) for anything not among the eight."""
    if type(level) is str:
        return SEVERITY_NUMBER_BY_LEVEL.get(level, SeverityNumber.UNSPECIFIED)
    return SeverityNumber.UNSPECIFIED


def parse_level(value: object, source: str) -> LoggingLevel:
    """``value`` as one of the eight levels; else a ConfigurationError (a ValueError) naming ``source``."""
    for level in LEVELS:
        if value == level:
            return level
    raise ConfigurationError(f"{source}={value!r}: expected one of {', '.join(LEVELS)}")
