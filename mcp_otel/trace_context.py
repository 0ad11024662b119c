"""Trace context in MCP ``_meta``: written and read with one propagator policy.

MCP carries W3C trace context in a message's ``params._meta`` (``traceparent``, ``tracestate``;
SEP-414). Both directions use the globally configured propagator (``opentelemetry.propagate``:
``OTEL_PROPAGATORS``, W3C trace context and baggage by default), so what a server built with this
package writes is what a client built with it reads, whatever the application configured.

* ``inject_into(meta)`` writes the current span's context into a ``_meta`` dict.
* ``context_from_meta(meta)`` reads it back: a ``Context`` whose span context is valid, or None.
  ``meta`` is a dict (mcp 2.x, raw JSON-RPC) or a pydantic model with extra fields (mcp 1.x).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.trace import get_current_span

__all__ = ["context_from_meta", "inject_into"]


def inject_into(meta: dict[str, Any]) -> dict[str, Any]:
    """Add the current context's propagation fields to ``meta``; returns ``meta``."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    meta.update(carrier)
    return meta


def context_from_meta(meta: object) -> Context | None:
    """The trace context carried in ``meta`` when it names a valid span, else None. Never raises."""
    if not meta:
        return None
    carrier: dict[str, str] = {}
    try:
        # Only the fields the propagator reads: a server's _meta may hold anything, of any size.
        for field in propagate.get_global_textmap().fields:
            value = meta.get(field) if isinstance(meta, Mapping) else getattr(meta, field, None)
            if type(value) is str:
                carrier[field] = value
        if not carrier:
            return None
        context = propagate.extract(carrier)
    except Exception:  # a hostile value must not break the handler; no context is the answer
        return None
    return context if get_current_span(context).get_span_context().is_valid else None
