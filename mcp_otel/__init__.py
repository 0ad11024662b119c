"""mcp-otel: the logs MCP servers produce, exported as OpenTelemetry LogRecords over OTLP.

Install :class:`OTelLogHandler` as the MCP client's logging callback
(``ClientSession(..., logging_callback=handler)``, ``mcp.Client(..., logging_callback=handler,
log_level="debug")``, ``fastmcp.Client(..., log_handler=handler)``), or let ``connect_client``,
``connect_session`` and ``connect_fastmcp`` do it with the opt-in. Each ``notifications/message``
(``level``, ``logger``, ``data``) becomes one LogRecord:

=========================================================  ==========================================
MCP                                                        OTel LogRecord
=========================================================  ==========================================
level debug / info / notice / warning / error /            SeverityNumber 5 / 9 / 10 / 13 / 17 /
critical / alert / emergency                               18 / 19 / 21 (logs data model, Appendix B)
level, as received                                         SeverityText, unchanged (``"notice"``)
any other level                                            SeverityNumber 0 (UNSPECIFIED), text kept
``data`` = ``{"msg": str, "extra": mapping|null}``         Body = ``msg``; each ``extra`` key -> one
(FastMCP's shape: exactly those two keys)                  attribute, nested maps/lists structured
``data`` a string                                          Body = that string
any other ``data`` (object, array, number, bool, null)     Body = the same value, structured
``logger``                                                 instrumentation scope name; absent:
                                                           ``mcp_otel`` (with the package version)
receipt time                                               Timestamp and ObservedTimestamp
attributes you give (``attributes=``, ``bind()``)          added to every record; they win over
                                                           what the server reports and over ``extra``
trace context                                              W3C ``traceparent``/``tracestate`` in
                                                           ``params._meta`` when valid (see
                                                           ``mcp_otel.server.send_log``); else the
                                                           span current where the handler runs
=========================================================  ==========================================

A stdio server's standard error is a log source too (MCP 2026-07-28 deprecates log
notifications): ``handler.capture_stderr()`` is a file for ``stdio_client(errlog=...)`` or
``StdioTransport(log_file=...)`` whose logical records (levels, timestamps, loggers, JSON fields,
a traceback as one record with ``exception.*``) are exported with ``log.iostream = "stderr"``;
the ``connect_*`` helpers take ``stderr=``, the proxy ``--stderr`` (``mcp_otel.stderr_reader``).

Values OTel cannot carry, caps on untrusted input and redaction: ``mcp_otel.conversion``. Where
records go: the ``logger_provider=`` given; else the global SDK LoggerProvider the application
set; else one built from the standard ``OTEL_*`` variables (``mcp_otel.pipeline``). The module
list, one concern each, is in the README's Layout section.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp_otel._version import __version__
from mcp_otel.connect import connect_client, connect_fastmcp, connect_session, session_attributes
from mcp_otel.connection import ConnectionLog
from mcp_otel.conversion import ConversionLimits
from mcp_otel.errors import ConfigurationError
from mcp_otel.handler import OTelLogHandler
from mcp_otel.levels import LoggingLevel

if TYPE_CHECKING:
    from mcp_otel.server import send_log

__all__ = [
    "ConfigurationError",
    "ConnectionLog",
    "ConversionLimits",
    "LoggingLevel",
    "OTelLogHandler",
    "__version__",
    "connect_client",
    "connect_fastmcp",
    "connect_session",
    "send_log",
    "session_attributes",
]


def __getattr__(name: str) -> Any:
    # The server-side helper imports mcp's types and pydantic (about half a second); client code
    # and the proxy never need it, so it loads on first use.
    if name == "send_log":
        from mcp_otel.server import send_log

        return send_log
    raise AttributeError(f"module 'mcp_otel' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
