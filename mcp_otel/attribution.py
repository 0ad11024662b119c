"""Which request a log notification belongs to: one connection's requests and the attribution decision.

MCP 2026-07-28 lets a server send ``notifications/message`` only for a request that opted in
(``params._meta["io.modelcontextprotocol/logLevel"]``) and only while that request is in flight.
A :class:`RequestTracker` follows one connection's requests from the client's side (no I/O,
thread-safe: the proxy's two relay threads share one) and decides, for each log notification,
which request it belongs to. It never guesses:

==========================================================  ====================  ==========================
the log notification                                        basis                 the record gets
==========================================================  ====================  ==========================
its ``_meta`` carries a valid trace context (the server     ``stamped``           that context (it wins);
stamped it)                                                                       the request's attributes
                                                                                  when the in-flight
                                                                                  request the other rules
                                                                                  name is in the same trace
came on request R's response stream (Streamable HTTP;       ``stream``            R's trace context and
the transport says so) and R is in flight                                         attributes
exactly one opted-in request is in flight                   ``only_in_flight``    R's trace context and
                                                                                  attributes
several opted-in requests are in flight (or the tracker     ``ambiguous``         ``mcp_otel.unattributed
had to forget one, see the cap; or it came on the stream                          = "ambiguous"``
of a request the tracker forgot)
no opted-in request is in flight (a legacy server that      ``unasked``           ``mcp_otel.unattributed
sends unasked, a log after the answer), or the transport                          = "unasked"``
delivered it outside every request's stream (Streamable
HTTP's standalone GET stream)
==========================================================  ====================  ==========================

A request's attributes follow the MCP semantic conventions for its client span:
``mcp.method.name``, ``jsonrpc.request.id`` (the id as text; none for a null id),
``gen_ai.tool.name`` with ``gen_ai.operation.name = "execute_tool"`` (``tools/call``),
``gen_ai.prompt.name`` (``prompts/get``) or ``mcp.resource.uri`` (``resources/read``,
``/subscribe``, ``/unsubscribe``). Its trace context is the one the client injected in
its ``_meta`` (``traceparent``, SEP-414): the client span of mcp 2.x's ``MCP send tools/call
<name>``, or the host's when the proxy relays it. Uncertain records (``ambiguous``,
``unasked``) are counted in ``stats()["unattributed"]``.

A request leaves the tracker when it is answered (a response or error with its id) or cancelled
(the client's ``notifications/cancelled``). Ids are matched exactly by JSON value and type (``1``
and ``"1"`` are two requests; ``1`` and ``1.0`` are one); an id of any JSON type works. At most
``MAX_TRACKED_REQUESTS`` are tracked: past that the oldest is forgotten, and until every
forgotten request was answered, the ``only_in_flight`` rule answers ``ambiguous`` (the forgotten
request could be the one logging). The forgotten ids are bounded the same way; when even they
overflow, the tracker has lost track and answers ``ambiguous`` instead of ``only_in_flight`` for
the rest of the connection.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanContext, get_current_span

from mcp_otel.attributes import (
    GEN_AI_OPERATION_NAME,
    GEN_AI_PROMPT_NAME,
    GEN_AI_TOOL_NAME,
    JSONRPC_REQUEST_ID,
    MCP_METHOD_NAME,
    MCP_RESOURCE_URI,
    UNATTRIBUTED,
)
from mcp_otel.trace_context import context_from_meta

__all__ = [
    "LOG_LEVEL_META_KEY",
    "MAX_TRACKED_REQUESTS",
    "Attribution",
    "Basis",
    "Resolved",
    "RequestTracker",
    "TrackedRequest",
    "request_key",
]

# The 2026-07-28 per-request log opt-in (mcp 2.x's mcp_types spells it the same; typed out because
# mcp 1.x has no such name and the proxy imports no mcp).
LOG_LEVEL_META_KEY = "io.modelcontextprotocol/logLevel"
# Hosts rarely have more than a handful of requests in flight; the cap bounds what a host that
# never reads its answers (or a server that never answers) can cost: about 1 KiB each.
MAX_TRACKED_REQUESTS = 1024

Basis = Literal["stamped", "stream", "only_in_flight", "ambiguous", "unasked"]
UNCERTAIN_BASES: frozenset[Basis] = frozenset({"ambiguous", "unasked"})
_NAME_ATTRIBUTE_BY_METHOD = {"tools/call": GEN_AI_TOOL_NAME, "prompts/get": GEN_AI_PROMPT_NAME}
# The requests whose uri is mcp.resource.uri (MCP semconv; notifications/resources/updated is no request).
_RESOURCE_METHODS = frozenset({"resources/read", "resources/subscribe", "resources/unsubscribe"})


def request_key(request_id: object) -> tuple[str, Any]:
    """A dict key for a JSON-RPC id of any JSON type: ``1`` and ``"1"`` differ, ``1`` and ``1.0`` match."""
    if isinstance(request_id, bool) or request_id is None:
        return ("literal", request_id)
    if isinstance(request_id, (int, float)):
        return ("number", request_id)  # 1 == 1.0 and hash(1) == hash(1.0)
    if isinstance(request_id, str):
        return ("string", request_id)
    return ("json", json.dumps(request_id, sort_keys=True, separators=(",", ":"), default=str))


def _id_text(request_id: object) -> str:
    if isinstance(request_id, str):
        return request_id
    if isinstance(request_id, (int, float)) and not isinstance(request_id, bool):
        return str(request_id)
    return json.dumps(request_id, sort_keys=True, separators=(",", ":"), default=str)


class TrackedRequest(NamedTuple):
    """One request in flight: who it is, and the trace context it carries."""

    request_id: Any
    attributes: dict[str, str]  # mcp.method.name, jsonrpc.request.id, gen_ai.tool/prompt.name
    context: Context | None  # the trace context of its _meta, when valid
    opted_in: bool  # its _meta asks for log messages (2026-07-28)
    span: Span | None  # the client span open in this process that sent it, when known


class Attribution(NamedTuple):
    """The decision for one log notification; see the module docstring's table."""

    basis: Basis
    request: TrackedRequest | None = None

    def resolve(self, meta: object) -> Resolved:
        """The final decision, given the notification's ``_meta``: a context the server stamped wins.

        With a stamped context the request's identity is kept only when it is in the same trace
        (a stamped server span is a descendant of the request's client span).
        """
        stamped = context_from_meta(meta) if meta else None
        request = self.request
        if stamped is not None:
            if request is not None and request.context is not None and _trace_id(request.context) == _trace_id(stamped):
                return Resolved("stamped", stamped, request.attributes, request)
            return Resolved("stamped", stamped, {}, None)
        if request is not None:
            return Resolved(self.basis, request.context, request.attributes, request)
        return Resolved(self.basis, None, {UNATTRIBUTED: self.basis}, None)


class Resolved(NamedTuple):
    """What a record gets: the trace context (None: no trace), the request's attributes or the mark."""

    basis: Basis
    context: Context | None
    attributes: Mapping[str, str]
    request: TrackedRequest | None

    @property
    def certain(self) -> bool:
        return self.basis not in UNCERTAIN_BASES


def _trace_id(context: Context) -> int:
    return get_current_span(context).get_span_context().trace_id


def _same_span(first: SpanContext, second: SpanContext) -> bool:
    return first.trace_id == second.trace_id and first.span_id == second.span_id


def describe_request(message: Mapping[str, Any], span: Span | None = None) -> TrackedRequest | None:
    """A :class:`TrackedRequest` for a JSON-RPC request mapping; None when it is not a request."""
    method = message.get("method")
    if not isinstance(method, str) or "id" not in message:
        return None
    request_id = message["id"]
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, Mapping) else None
    attributes = {MCP_METHOD_NAME: method}
    if request_id is not None:  # MCP semconv: not captured for a null id
        attributes[JSONRPC_REQUEST_ID] = _id_text(request_id)
    if isinstance(params, Mapping):
        name_attribute = _NAME_ATTRIBUTE_BY_METHOD.get(method)
        if name_attribute is not None and isinstance(params.get("name"), str):
            attributes[name_attribute] = params["name"]
            if method == "tools/call":
                attributes[GEN_AI_OPERATION_NAME] = "execute_tool"  # GenAI semconv, with the tool's name
        elif method in _RESOURCE_METHODS and isinstance(params.get("uri"), str):
            attributes[MCP_RESOURCE_URI] = params["uri"]
    context = context_from_meta(meta) if isinstance(meta, Mapping) else None
    opted_in = isinstance(meta, Mapping) and meta.get(LOG_LEVEL_META_KEY) is not None
    if span is not None and (
        context is None or not span.is_recording()
        or not _same_span(span.get_span_context(), get_current_span(context).get_span_context())
    ):
        span = None  # only the span whose context the request carries is the request's client span
    return TrackedRequest(request_id, attributes, context, opted_in, span)


class RequestTracker:
    """One connection's requests in flight, from the client's side; see the module docstring. Thread-safe."""

    __slots__ = ("_forgotten", "_lock", "_lost_track", "_max_requests", "_opted_in", "_requests")

    def __init__(self, *, max_requests: int = MAX_TRACKED_REQUESTS) -> None:
        self._lock = threading.Lock()
        self._max_requests = max_requests
        self._requests: OrderedDict[tuple[str, Any], TrackedRequest] = OrderedDict()
        self._opted_in: dict[tuple[str, Any], TrackedRequest] = {}  # the subset that opted in
        # Requests dropped by the cap and not answered since (their keys only, bounded the same way);
        # past that bound the tracker has lost track for good and never answers only_in_flight.
        self._forgotten: OrderedDict[tuple[str, Any], None] = OrderedDict()
        self._lost_track = False

    def __len__(self) -> int:
        return len(self._requests)

    # ---------------------------------------------------------------- client -> server

    def sent(self, message: Mapping[str, Any], *, span: Span | None = None) -> TrackedRequest | None:
        """The client sent ``message``: a request starts being tracked (returned), a cancellation ends one."""
        method = message.get("method")
        if method == "notifications/cancelled":
            params = message.get("params")
            if isinstance(params, Mapping) and "requestId" in params:
                self.finished(params["requestId"])
            return None
        request = describe_request(message, span)
        if request is None:
            return None
        key = request_key(request.request_id)
        with self._lock:
            self._requests.pop(key, None)
            self._opted_in.pop(key, None)
            if len(self._requests) >= self._max_requests:
                oldest_key, _ = self._requests.popitem(last=False)
                self._opted_in.pop(oldest_key, None)
                self._forgotten[oldest_key] = None
                if len(self._forgotten) > self._max_requests:
                    self._forgotten.popitem(last=False)
                    self._lost_track = True
            self._requests[key] = request
            if request.opted_in:
                self._opted_in[key] = request
        return request

    def finished(self, request_id: object) -> None:
        """The request was answered or cancelled: it leaves (also from the forgotten ones)."""
        key = request_key(request_id)
        with self._lock:
            if self._requests.pop(key, None) is None:
                self._forgotten.pop(key, None)
                return
            self._opted_in.pop(key, None)

    # ---------------------------------------------------------------- server -> client

    def received(self, message: Mapping[str, Any]) -> None:
        """The server sent ``message``: a response or error ends its request (other messages: nothing)."""
        if "method" not in message and "id" in message and ("result" in message or "error" in message):
            self.finished(message["id"])

    def attribute(
        self,
        *,
        related_request_id: object = None,
        stream_of: TrackedRequest | None = None,
        standalone: bool = False,
    ) -> Attribution:
        """The decision for a log notification arriving now, before its ``_meta`` is read.

        ``related_request_id``: the transport delivered it on that request's stream (a request's
        id is never null). ``stream_of``: it came on the stream of this very request (as
        :meth:`sent` returned it): when its id has been reused since, by a request the tracker
        holds now, the log is no proof for the new one. ``standalone``: the transport delivered it outside every request's
        stream (Streamable HTTP's standalone GET stream), so it belongs to no request. The caller
        applies :meth:`Attribution.resolve` with the notification's ``_meta`` (which may be read
        later, on another thread).
        """
        with self._lock:
            if stream_of is not None:
                tracked = self._requests.get(request_key(stream_of.request_id))
                return Attribution("stream", tracked) if tracked is stream_of else Attribution("ambiguous")
            if related_request_id is not None:
                request = self._requests.get(request_key(related_request_id))
                # Not tracked (forgotten past the cap): it is still R's, so no other request's.
                return Attribution("ambiguous") if request is None else Attribution("stream", request)
            if standalone:
                return Attribution("unasked")
            unsure = bool(self._forgotten) or self._lost_track
            if len(self._opted_in) == 1 and not unsure:
                return Attribution("only_in_flight", next(iter(self._opted_in.values())))
            if self._opted_in or unsure:
                return Attribution("ambiguous")
            return Attribution("unasked")
