"""Logs as span events: how an attributed log reaches a trace (Jaeger shows logs only this way).

With span events on (``OTelLogHandler(span_events=True)``, or ``MCP_OTEL_SPAN_EVENTS=true`` when
the argument is not given), each log whose request is known (``mcp_otel.attribution``) is also
recorded as one ``mcp.log`` event, with ``log.severity``, ``log.message`` and the record's scalar
attributes:

==========================================================  =========================================
where the request's span is                                 the event goes on
==========================================================  =========================================
open in this process (mcp 2.x's ``MCP send tools/call       that span itself
<name>`` client span, seen when the request was sent)
elsewhere (the proxy's host, a span already ended, a        a short child span of the request's
context the server stamped)                                 context, named ``notifications/message``,
                                                            ended at once
==========================================================  =========================================

Unattributed logs (``mcp_otel.unattributed``) are left out: there is no trace they belong to. A
handler used without attribution (wired by hand as a plain callback) keeps the older behaviour:
the event goes on the span current where the handler runs, when that span records.

The child spans go to the application's global ``TracerProvider`` when it is an SDK one; else,
only when span events are on, to one built here from ``OTEL_TRACES_EXPORTER`` (``otlp``, the
default, ``console`` or ``none``) and ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` /
``OTEL_EXPORTER_OTLP_PROTOCOL`` (``grpc``, the default, or ``http/protobuf``), both read strictly;
the endpoint, headers and TLS of the ``OTEL_EXPORTER_OTLP_TRACES_*`` / ``OTEL_EXPORTER_OTLP_*``
variables are read by the SDK's OTLP span exporter itself. The handler's ``force_flush`` and
``shutdown`` flush and shut down a provider built here, never the application's.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.trace import SpanKind, Tracer, get_current_span, get_tracer_provider
from opentelemetry.util.types import AnyValue

from mcp_otel.attributes import MCP_METHOD_NAME
from mcp_otel.attribution import Resolved
from mcp_otel.errors import ConfigurationError

__all__ = [
    "EVENT_NAME",
    "SPAN_EVENTS_VARIABLE",
    "SpanEvents",
    "add_current_span_event",
    "span_events_from_environment",
]

SPAN_EVENTS_VARIABLE = "MCP_OTEL_SPAN_EVENTS"
EVENT_NAME = "mcp.log"
CHILD_SPAN_NAME = "notifications/message"  # the MCP span name of the notification the log came in
_SCOPE = "mcp_otel"


def span_events_from_environment(environ: Mapping[str, str] | None = None) -> bool:
    """``MCP_OTEL_SPAN_EVENTS``: ``true`` or ``false`` (any case), ``false`` when unset or empty."""
    value = (os.environ if environ is None else environ).get(SPAN_EVENTS_VARIABLE, "").strip().lower()
    if value in ("", "false"):
        return False
    if value == "true":
        return True
    raise ConfigurationError(f"{SPAN_EVENTS_VARIABLE}: expected 'true' or 'false'")


def _event_attributes(body: AnyValue, severity_text: str | None, attributes: Mapping[str, AnyValue]) -> dict[str, Any]:
    event_attributes: dict[str, Any] = {
        key: value for key, value in attributes.items() if isinstance(value, (str, bool, int, float))
    }
    event_attributes["log.severity"] = severity_text or ""
    event_attributes["log.message"] = body if isinstance(body, str) else json.dumps(body, default=str)
    return event_attributes


def add_current_span_event(body: AnyValue, severity_text: str | None, attributes: Mapping[str, AnyValue]) -> None:
    """Without attribution: the event on the span current where the handler runs, when it records."""
    span = get_current_span()
    if span.is_recording():
        span.add_event(EVENT_NAME, _event_attributes(body, severity_text, attributes))


class SpanEvents:
    """Where attributed logs become span events; see the module docstring. Built once per pipeline."""

    __slots__ = ("_lock", "_owned_provider", "_tracer", "_tracer_chosen")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owned_provider: TracerProvider | None = None
        self._tracer: Tracer | None = None
        self._tracer_chosen = False
        # Read now, so that a bad variable is a ConfigurationError when the handler is built.
        _exporter_name_and_protocol(os.environ)

    def _child_span_tracer(self) -> Tracer | None:
        """The global SDK provider's tracer, else one built from the environment on first use."""
        with self._lock:
            if not self._tracer_chosen:
                self._tracer_chosen = True
                global_provider = get_tracer_provider()
                if isinstance(global_provider, TracerProvider):
                    self._tracer = global_provider.get_tracer(_SCOPE)
                else:
                    exporter = _exporter_from_environment(os.environ)
                    if exporter is not None:
                        self._owned_provider = TracerProvider(resource=Resource.create(), shutdown_on_exit=False)
                        self._owned_provider.add_span_processor(BatchSpanProcessor(exporter))
                        self._tracer = self._owned_provider.get_tracer(_SCOPE)
            return self._tracer

    def add(self, resolved: Resolved, body: AnyValue, severity_text: str | None, attributes: Mapping[str, AnyValue]) -> None:
        """Record one attributed log as an event (left out when its request is unknown)."""
        request = resolved.request
        if resolved.basis != "stamped" and request is not None and request.span is not None and request.span.is_recording():
            request.span.add_event(EVENT_NAME, _event_attributes(body, severity_text, attributes))
            return
        if resolved.context is None:
            return
        tracer = self._child_span_tracer()
        if tracer is None:
            return
        span = tracer.start_span(
            CHILD_SPAN_NAME,
            context=resolved.context,
            kind=SpanKind.INTERNAL,
            attributes={MCP_METHOD_NAME: CHILD_SPAN_NAME},
        )
        span.add_event(EVENT_NAME, _event_attributes(body, severity_text, attributes))
        span.end()

    def flush(self, timeout_millis: int) -> bool:
        with self._lock:
            provider = self._owned_provider
        return True if provider is None else provider.force_flush(timeout_millis)

    def shutdown(self) -> None:
        with self._lock:
            provider, self._owned_provider = self._owned_provider, None
            self._tracer, self._tracer_chosen = None, True
        if provider is not None:
            provider.shutdown()


def _exporter_name_and_protocol(environ: Mapping[str, str]) -> tuple[str, str]:
    names = [name.strip().lower() for name in environ.get("OTEL_TRACES_EXPORTER", "").split(",") if name.strip()]
    name = names[0] if names else "otlp"
    if len(names) > 1 or name not in ("otlp", "console", "none"):
        raise ConfigurationError("OTEL_TRACES_EXPORTER: expected one of 'otlp', 'console' or 'none' for span events")
    protocol_variable = next(
        (variable for variable in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
         if environ.get(variable, "").strip()),
        None,
    )  # fmt: skip
    protocol = "grpc" if protocol_variable is None else environ[protocol_variable].strip().lower()
    if name == "otlp" and protocol not in ("grpc", "http/protobuf"):
        raise ConfigurationError(f"{protocol_variable}: expected 'grpc' or 'http/protobuf' for span events")
    return name, protocol


def _exporter_from_environment(environ: Mapping[str, str]) -> SpanExporter | None:
    name, protocol = _exporter_name_and_protocol(environ)
    if name == "none":
        return None
    if name == "console":
        return ConsoleSpanExporter()
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter

        return GrpcSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter

    return HttpSpanExporter()
