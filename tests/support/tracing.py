"""The process's global SDK ``TracerProvider`` for tests that need mcp 2.x's own client spans.

mcp 2.x creates its ``MCP send <method> <name>`` span with the global tracer provider, and the
global provider can be set once per process: this module sets it on first use, with a span
processor that forwards to whatever a test installed (nothing, otherwise).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

_lock = threading.Lock()


class _Forwarding(SpanProcessor):
    def __init__(self) -> None:
        self.targets: list[SpanProcessor] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for target in list(self.targets):
            target.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for target in list(self.targets):
            target.on_end(span)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return all(target.force_flush(timeout_millis) for target in list(self.targets))


_forwarding = _Forwarding()
_attached_to: list[TracerProvider] = []


def global_tracer_provider() -> TracerProvider:
    with _lock:
        if not isinstance(trace.get_tracer_provider(), TracerProvider):
            trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
        assert isinstance(provider, TracerProvider), "a global tracer provider that is not the SDK's was set first"
        if provider not in _attached_to:
            provider.add_span_processor(_forwarding)
            _attached_to.append(provider)
        return provider


@contextmanager
def recorded_spans() -> Iterator[InMemorySpanExporter]:
    """The spans the global provider ends while the block runs."""
    global_tracer_provider()
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    _forwarding.targets.append(processor)
    try:
        yield exporter
    finally:
        _forwarding.targets.remove(processor)
