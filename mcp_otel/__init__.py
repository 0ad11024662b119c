"""mcp-otel: the log messages MCP servers send to their clients, exported as OpenTelemetry LogRecords.

Install :class:`OTelLogHandler` as the MCP client's logging callback
(``ClientSession(..., logging_callback=handler)``, ``mcp.Client(..., logging_callback=handler,
log_level="debug")``, ``fastmcp.Client(..., log_handler=handler)``). Each
``notifications/message`` (``level``, ``logger``, ``data``) becomes one LogRecord:

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
``attributes=`` of the handler                             added to every record (win over ``extra``)
trace context                                              W3C ``traceparent``/``tracestate`` in
                                                           ``params._meta`` when valid (see
                                                           ``mcp_otel.server.send_log``); else the
                                                           span current where the handler runs
=========================================================  ==========================================

Values OTel cannot carry are converted, never raised on (``mcp_otel.conversion``): integers
outside int64 -> decimal string; NaN/Infinity -> ``"NaN"``/``"Infinity"``/``"-Infinity"``;
non-string keys -> ``str(key)``; empty keys dropped; bytes -> bytes; other objects ->
``str(obj)``; nesting deeper than 32 -> ``"[nesting limit]"`` plus the attribute
``mcp_otel.truncated = true``. Untrusted input is capped (``ConversionLimits``: string length,
``extra`` keys, record size; cuts marked the same way) and values under secret-looking keys
become ``"[REDACTED]"``. Past 256 distinct logger names, further names use the
``mcp_otel`` scope and ride in the attribute ``mcp_otel.logger``.

Per-server context and the opt-in: ``mcp_otel.session`` (``connect_client``, ``connect_session``,
``connect_fastmcp``, ``session_attributes``, ``handler.bind()``).

Where records go: the ``logger_provider=`` given; else the global SDK LoggerProvider the
application set; else one built from the standard ``OTEL_*`` variables (``mcp_otel.pipeline``).
"""

from mcp_otel._version import __version__
from mcp_otel.conversion import (
    SEVERITY_NUMBER_BY_LEVEL,
    ConversionLimits,
    convert_message,
    severity_for_level,
    to_otel_value,
)
from mcp_otel.handler import OTelLogHandler
from mcp_otel.pipeline import ConfigurationError, build_logger_provider

# The session and server helpers import the mcp SDK (about 0.65 s); the proxy, which starts
# with every server a host launches, needs neither, so they load on first use.
_LAZY_NAMES = {
    "send_log": "mcp_otel.server",
    "trace_meta": "mcp_otel.server",
    "bind_session": "mcp_otel.session",
    "connect_client": "mcp_otel.session",
    "connect_fastmcp": "mcp_otel.session",
    "connect_session": "mcp_otel.session",
    "session_attributes": "mcp_otel.session",
}


def __getattr__(name: str) -> object:
    module_name = _LAZY_NAMES.get(name)
    if module_name is None:
        raise AttributeError(f"module 'mcp_otel' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)

__all__ = [
    "SEVERITY_NUMBER_BY_LEVEL",
    "ConfigurationError",
    "ConversionLimits",
    "OTelLogHandler",
    "__version__",
    "bind_session",
    "build_logger_provider",
    "connect_client",
    "connect_fastmcp",
    "connect_session",
    "convert_message",
    "send_log",
    "session_attributes",
    "severity_for_level",
    "to_otel_value",
    "trace_meta",
]
