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
def installed(processor: SpanProcessor) -> Iterator[SpanProcessor]:
    """``processor`` gets the global provider's spans while the block runs (flushed at its end)."""
    global_tracer_provider()
    _forwarding.targets.append(processor)
    try:
        yield processor
    finally:
        _forwarding.targets.remove(processor)
        processor.force_flush()


@contextmanager
def recorded_spans() -> Iterator[InMemorySpanExporter]:
    """The spans the global provider ends while the block runs."""
    exporter = InMemorySpanExporter()
    with installed(SimpleSpanProcessor(exporter)):
        yield exporter


def otlp_span_processor(protocol: str, endpoint: str) -> SpanProcessor:
    """A processor exporting each span at once to a test receiver (plaintext, on 127.0.0.1)."""
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        return SimpleSpanProcessor(GrpcExporter(endpoint=endpoint, insecure=True))
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

    return SimpleSpanProcessor(HttpExporter(endpoint=f"{endpoint}/v1/traces"))
