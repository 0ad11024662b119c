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
default, ``console`` or ``none``) and the ``OTEL_EXPORTER_OTLP_TRACES_*`` /
``OTEL_EXPORTER_OTLP_*`` variables (protocol, endpoint with ``/v1/traces`` over HTTP, headers,
compression, timeout, TLS files), read and checked as strictly as the logs' ones
(``mcp_otel.settings``) when the handler is built: a bad one is a ``ConfigurationError`` naming
it. The SDK's OTLP span exporter is given each setting explicitly. The handler's
``force_flush`` and ``shutdown`` flush and shut down a provider built here, never the
application's.
"""

from __future__ import annotations

import importlib
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
from mcp_otel.settings import ConfiguredFile, OTLPSettings, read_otlp_settings

__all__ = [
    "EVENT_NAME",
    "SPAN_EVENTS_VARIABLE",
    "SpanEvents",
    "add_current_span_event",
    "read_traces_destination",
    "span_events_from_environment",
    "tracer_provider_from_environment",
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

    __slots__ = ("_destination", "_lock", "_owned_provider", "_tracer", "_tracer_chosen")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owned_provider: TracerProvider | None = None
        self._tracer: Tracer | None = None
        self._tracer_chosen = False
        # Read now, so that a bad variable is a ConfigurationError when the handler is built.
        self._destination = read_traces_destination(os.environ)

    def _child_span_tracer(self) -> Tracer | None:
        """The global SDK provider's tracer, else one built from the environment on first use."""
        with self._lock:
            if not self._tracer_chosen:
                self._tracer_chosen = True
                global_provider = get_tracer_provider()
                if isinstance(global_provider, TracerProvider):
                    self._tracer = global_provider.get_tracer(_SCOPE)
                else:
                    self._owned_provider = _provider_for(*self._destination)
                    if self._owned_provider is not None:
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


def _traces_exporter_name(environ: Mapping[str, str]) -> str:
    names = [name.strip().lower() for name in environ.get("OTEL_TRACES_EXPORTER", "").split(",") if name.strip()]
    name = names[0] if names else "otlp"
    if len(names) > 1 or name not in ("otlp", "console", "none"):
        raise ConfigurationError("OTEL_TRACES_EXPORTER: expected one of 'otlp', 'console' or 'none' for span events")
    return name


def read_traces_destination(environ: Mapping[str, str]) -> tuple[str, OTLPSettings | None]:
    """``OTEL_TRACES_EXPORTER``'s name, and for ``otlp`` the traces' OTLP settings, checked as the logs' are.

    Raises :class:`ConfigurationError` naming the variable. The SDK's span exporter is then given
    every setting explicitly, so it has nothing left to read (laxly) from the environment.
    """
    name = _traces_exporter_name(environ)
    return name, (read_otlp_settings(environ, "TRACES") if name == "otlp" else None)


def tracer_provider_from_environment(environ: Mapping[str, str]) -> TracerProvider | None:
    """A provider exporting to the traces destination of ``environ``; None for ``none``."""
    return _provider_for(*read_traces_destination(environ))


def _provider_for(name: str, otlp: OTLPSettings | None) -> TracerProvider | None:
    exporter = _span_exporter(name, otlp)
    if exporter is None:
        return None
    provider = TracerProvider(resource=Resource.create(), shutdown_on_exit=False)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def _span_exporter(name: str, otlp: OTLPSettings | None) -> SpanExporter | None:
    if name == "console":
        return ConsoleSpanExporter()
    if otlp is None:
        return None
    timeout = otlp.timeout_millis / 1000
    if otlp.protocol == "grpc":
        grpc: Any = importlib.import_module("grpc")  # no type stubs
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter

        credentials = None
        if otlp.tls:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=ConfiguredFile.bytes_of(otlp.certificate),
                private_key=ConfiguredFile.bytes_of(otlp.client_key),
                certificate_chain=ConfiguredFile.bytes_of(otlp.client_certificate),
            )
        return GrpcSpanExporter(
            endpoint=f"{'https' if otlp.tls else 'http'}://{otlp.grpc_target}",
            insecure=not otlp.tls,
            credentials=credentials,
            headers=otlp.headers,
            timeout=timeout,
            compression=grpc.Compression.Gzip if otlp.compression == "gzip" else grpc.Compression.NoCompression,
        )
    import requests  # the HTTP exporter's own dependency
    from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter

    return HttpSpanExporter(
        session=requests.Session(),  # given, so the exporter looks up no credential provider itself
        endpoint=otlp.endpoint,
        certificate_file=otlp.certificate.path if otlp.certificate is not None else None,
        client_key_file=otlp.client_key.path if otlp.client_key is not None else None,
        client_certificate_file=otlp.client_certificate.path if otlp.client_certificate is not None else None,
        headers=dict(otlp.headers),
        timeout=timeout,
        compression={"gzip": HttpCompression.Gzip, "deflate": HttpCompression.Deflate}.get(
            otlp.compression, HttpCompression.NoCompression
        ),
    )

