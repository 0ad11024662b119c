"""Facts from the specifications, typed out here rather than imported from the code under test."""

from __future__ import annotations

# OTel logs data model, Appendix B, the RFC 5424 (syslog) column: MCP level -> SeverityNumber.
SEVERITY_NUMBER_BY_MCP_LEVEL: dict[str, int] = {
    "debug": 5,
    "info": 9,
    "notice": 10,
    "warning": 13,
    "error": 17,
    "critical": 18,
    "alert": 19,
    "emergency": 21,
}
SEVERITY_ROWS = list(SEVERITY_NUMBER_BY_MCP_LEVEL.items())
MCP_LEVELS = list(SEVERITY_NUMBER_BY_MCP_LEVEL)


def traceparent(trace_id: str, span_id: str, flags: str = "01") -> str:
    """A W3C ``traceparent`` header value (Trace Context, version 00)."""
    return f"00-{trace_id}-{span_id}-{flags}"
