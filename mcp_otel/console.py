"""A LogRecord exporter that prints one readable line per record, for ``mcp-otel demo`` without a collector.

The SDK's ``ConsoleLogRecordExporter`` prints a dozen lines of JSON per record; for a person
watching a demo, one line with the severity number, text, scope, body and attributes says more.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import IO

from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from mcp_otel.pipeline import endpoint_is_configured

__all__ = ["ReadableConsoleExporter", "format_record", "printing_provider_unless_configured"]


def _json(value: object) -> str:
    return json.dumps(value, default=lambda v: v.hex() if isinstance(v, bytes) else str(v), ensure_ascii=False)


def format_record(record: ReadableLogRecord) -> str:
    """``SEVERITY_NUMBER severity_text [scope] body {attributes}`` on one line."""
    log_record = record.log_record
    number = log_record.severity_number.value if log_record.severity_number is not None else 0
    scope = record.instrumentation_scope.name if record.instrumentation_scope else ""
    body = log_record.body if isinstance(log_record.body, str) else _json(log_record.body)
    attributes = dict(log_record.attributes or {})
    line = f"{number:>2} {log_record.severity_text or '':<9} [{scope}] {body}"
    return f"{line}  {_json(attributes)}" if attributes else line


class ReadableConsoleExporter(LogRecordExporter):
    """Writes ``format_record`` lines to a stream (standard output by default)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        stream = self._stream or sys.stdout
        for record in batch:
            stream.write(format_record(record) + "\n")
        stream.flush()
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def printing_provider_unless_configured() -> LoggerProvider | None:
    """None when ``OTEL_*`` names a destination, else a provider printing one line per record.

    For demos and examples: pass the result as ``OTelLogHandler(logger_provider=...)``; None
    lets the handler build its pipeline from the environment as usual.
    """
    if endpoint_is_configured():
        return None
    provider = LoggerProvider(resource=Resource.create(), shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(ReadableConsoleExporter()))
    return provider
