"""One readable line per record, for ``mcp-otel demo`` and the examples when no collector is set.

The SDK's ``ConsoleLogRecordExporter`` prints a dozen lines of JSON per record; given
``format_record`` as its formatter it prints ``SEVERITY_NUMBER severity_text [scope] body
{attributes}`` instead. Everything in the line comes from an untrusted server, so control
characters (ESC, CR, NUL, ...) are printed escaped (``\\x1b``), never sent to the terminal raw.
"""

from __future__ import annotations

import json
import re
import sys

from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import ConsoleLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from mcp_otel.pipeline import endpoint_is_configured

__all__ = ["format_record", "printing_provider_unless_configured", "terminal_safe"]

# C0 and C1 control characters and DEL; bidirectional overrides too, which can reorder what is shown.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with every control character written as an escape (``\\x1b``, ``\\u202e``)."""
    return _UNSAFE.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def _json(value: object) -> str:
    return json.dumps(value, default=lambda v: v.hex() if isinstance(v, bytes) else str(v), ensure_ascii=False)


def format_record(record: ReadableLogRecord) -> str:
    """``SEVERITY_NUMBER severity_text [scope] body {attributes}`` and a newline, terminal-safe."""
    log_record = record.log_record
    number = log_record.severity_number.value if log_record.severity_number is not None else 0
    scope = record.instrumentation_scope.name if record.instrumentation_scope else ""
    body = log_record.body if isinstance(log_record.body, str) else _json(log_record.body)
    attributes = dict(log_record.attributes or {})
    line = f"{number:>2} {log_record.severity_text or '':<9} [{scope}] {body}"
    if attributes:
        line = f"{line}  {_json(attributes)}"
    return terminal_safe(line) + "\n"


def printing_provider_unless_configured() -> LoggerProvider | None:
    """None when ``OTEL_*`` names a destination, else a provider printing one line per record.

    For demos and examples: pass the result as ``OTelLogHandler(logger_provider=...)``; None
    lets the handler build its pipeline from the environment as usual.
    """
    if endpoint_is_configured():
        return None
    provider = LoggerProvider(resource=Resource.create(), shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(ConsoleLogRecordExporter(sys.stdout, format_record)))
    return provider
