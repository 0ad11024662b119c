"""``mcp_otel.attribution``: the request tracker and the decision, row by row of its docstring's table."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import format_span_id, format_trace_id

from mcp_otel.attribution import LOG_LEVEL_META_KEY, RequestTracker, request_key
from tests.support.spec import traceparent

TRACE_A = "0af7651916cd43dd8448eb211c80319c"
TRACE_B = "4bf92f3577b34da6a3ce929d0e0e4736"


def _request(request_id: Any, *, tool: str = "work", opted_in: bool = True, trace: str | None = TRACE_A,
             span: str = "b7ad6b7169203331", method: str = "tools/call") -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if opted_in:
        meta[LOG_LEVEL_META_KEY] = "debug"
    if trace is not None:
        meta["traceparent"] = traceparent(trace, span)
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": {"name": tool, "_meta": meta}}


def _answer(request_id: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": {}}


def _cancel(request_id: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": request_id}}


STAMP_SAME_TRACE = {"traceparent": traceparent(TRACE_A, "00f067aa0ba902b7")}
STAMP_OTHER_TRACE = {"traceparent": traceparent(TRACE_B, "00f067aa0ba902b7")}

# (row id, what the client sent / the server answered, the log's delivery, its _meta,
#  the expected basis, the expected request id (None: no request), the expected trace id)
ROWS: list[tuple[str, list[tuple[str, dict[str, Any]]], dict[str, Any], Any, str, Any, str | None]] = [
    ("stamped context wins, same trace keeps the request",
     [("sent", _request(1)), ("sent", _request(2))], {}, STAMP_SAME_TRACE, "stamped", None, TRACE_A),
    ("stamped context wins over the single request of another trace",
     [("sent", _request(1))], {}, STAMP_OTHER_TRACE, "stamped", None, TRACE_B),
    ("stamped, single request in the same trace: its identity is kept",
     [("sent", _request(1))], {}, STAMP_SAME_TRACE, "stamped", 1, TRACE_A),
    ("stream-delivered, among several in flight",
     [("sent", _request(1)), ("sent", _request(2, trace=TRACE_B))],
     {"related_request_id": 2}, None, "stream", 2, TRACE_B),
    ("stream names a request not tracked: it is no other request's, so ambiguous (never request 1)",
     [("sent", _request(1))], {"related_request_id": 9}, None, "ambiguous", None, None),
    ("single opted-in request in flight",
     [("sent", _request(1)), ("sent", _request(2, opted_in=False))], {}, None, "only_in_flight", 1, TRACE_A),
    ("single opted-in request without trace context",
     [("sent", _request(1, trace=None))], {}, None, "only_in_flight", 1, None),
    ("several candidates: ambiguous",
     [("sent", _request(1)), ("sent", _request(2))], {}, None, "ambiguous", None, None),
    ("legacy server sending unasked",
     [("sent", _request(1, opted_in=False))], {}, None, "unasked", None, None),
    ("nothing in flight: unasked", [], {}, None, "unasked", None, None),
    ("answered request leaves",
     [("sent", _request(1)), ("sent", _request(2)), ("received", _answer(1))], {}, None, "only_in_flight", 2, TRACE_A),
    ("an error answer ends it too",
     [("sent", _request(1)), ("sent", _request(2)),
      ("received", {"jsonrpc": "2.0", "id": 2, "error": {"code": -1, "message": "no"}})],
     {}, None, "only_in_flight", 1, TRACE_A),
    ("cancelled request leaves",
     [("sent", _request(1)), ("sent", _request(2)), ("sent", _cancel(1))], {}, None, "only_in_flight", 2, TRACE_A),
    ("after its answer, a log is unasked",
     [("sent", _request(1)), ("received", _answer(1))], {}, None, "unasked", None, None),
    ("ids 1 and \"1\" are two requests",
     [("sent", _request(1)), ("sent", _request("1")), ("received", _answer("1"))], {}, None, "only_in_flight", 1, TRACE_A),
    ("ids 1 and 1.0 are one",
     [("sent", _request(1)), ("sent", _request(2)), ("received", _answer(1.0))], {}, None, "only_in_flight", 2, TRACE_A),
    ("an id of any JSON type",
     [("sent", _request({"b": [1, None], "a": True})), ("sent", _request(2)), ("received", _answer(2))],
     {}, None, "only_in_flight", {"a": True, "b": [1, None]}, TRACE_A),
    ("a server's own request is no candidate",
     [("sent", _request(1)), ("received", {"jsonrpc": "2.0", "id": 1, "method": "sampling/createMessage"})],
     {}, None, "only_in_flight", 1, TRACE_A),
]


@pytest.mark.parametrize(("events", "delivery", "meta", "basis", "request_id", "trace_id"),
                         [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_attribution(events: list[tuple[str, dict[str, Any]]], delivery: dict[str, Any], meta: Any, basis: str,
                     request_id: Any, trace_id: str | None) -> None:
    tracker = RequestTracker()
    for direction, message in events:
        tracker.sent(message) if direction == "sent" else tracker.received(message)
    resolved = tracker.attribute(**delivery).resolve(meta)
    assert resolved.basis == basis
    assert resolved.certain is (basis not in ("ambiguous", "unasked"))
    if request_id is None:
        assert resolved.request is None or basis == "stamped"
    else:
        assert resolved.request is not None and resolved.request.request_id == request_id
    if trace_id is None:
        assert resolved.context is None
    else:
        assert resolved.context is not None
        from opentelemetry.trace import get_current_span

        assert format_trace_id(get_current_span(resolved.context).get_span_context().trace_id) == trace_id
    if basis in ("ambiguous", "unasked"):
        assert resolved.attributes == {"mcp_otel.unattributed": basis}
    elif resolved.request is None:
        assert resolved.attributes == {}
    else:
        assert resolved.attributes["mcp.method.name"] == "tools/call"


REQUEST_ATTRIBUTES = [
    # (row id, request, expected attributes)
    ("tools/call: the tool, and the GenAI operation that goes with it", _request(7, tool="weather"),
     {"mcp.method.name": "tools/call", "jsonrpc.request.id": "7", "gen_ai.tool.name": "weather",
      "gen_ai.operation.name": "execute_tool"}),
    ("prompts/get", _request("p-1", tool="haiku", method="prompts/get"),
     {"mcp.method.name": "prompts/get", "jsonrpc.request.id": "p-1", "gen_ai.prompt.name": "haiku"}),
    ("resources/read: the resource's uri", {"jsonrpc": "2.0", "id": 3, "method": "resources/read",
                                            "params": {"uri": "file:///x", "_meta": {LOG_LEVEL_META_KEY: "info"}}},
     {"mcp.method.name": "resources/read", "jsonrpc.request.id": "3", "mcp.resource.uri": "file:///x"}),
    ("resources/subscribe", {"jsonrpc": "2.0", "id": 4, "method": "resources/subscribe",
                             "params": {"uri": "db://t", "_meta": {LOG_LEVEL_META_KEY: "info"}}},
     {"mcp.method.name": "resources/subscribe", "jsonrpc.request.id": "4", "mcp.resource.uri": "db://t"}),
    ("a uri on another method is no resource", {"jsonrpc": "2.0", "id": 5, "method": "tools/call",
                                                "params": {"uri": "file:///x", "_meta": {LOG_LEVEL_META_KEY: "info"}}},
     {"mcp.method.name": "tools/call", "jsonrpc.request.id": "5"}),
    ("a name that is not text is left out", {"jsonrpc": "2.0", "id": 6, "method": "tools/call",
                                             "params": {"name": ["x"], "_meta": {LOG_LEVEL_META_KEY: "info"}}},
     {"mcp.method.name": "tools/call", "jsonrpc.request.id": "6"}),
    ("a null id: no jsonrpc.request.id (MCP semconv)", {"jsonrpc": "2.0", "id": None, "method": "ping",
                                                          "params": {"_meta": {LOG_LEVEL_META_KEY: "info"}}},
     {"mcp.method.name": "ping"}),
]


@pytest.mark.parametrize(("request_message", "expected"), [row[1:] for row in REQUEST_ATTRIBUTES],
                         ids=[row[0] for row in REQUEST_ATTRIBUTES])
def test_request_attributes_follow_the_mcp_conventions(request_message: dict[str, Any], expected: dict[str, str]) -> None:
    tracker = RequestTracker()
    tracker.sent(request_message)
    assert tracker.attribute().resolve(None).attributes == expected


def test_the_client_span_is_kept_only_when_the_request_carries_its_context() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("MCP send tools/call work") as span:
        context = span.get_span_context()
        carried = _request(1, trace=format_trace_id(context.trace_id), span=format_span_id(context.span_id))
        with tracer.start_as_current_span("unrelated") as other:
            tracker = RequestTracker()
            tracker.sent(carried, span=span)
            assert tracker.attribute().resolve(None).request.span is span  # type: ignore[union-attr]
            tracker.sent(_request(2), span=other)  # its _meta names another span
            tracker.sent(_cancel(1))
            assert tracker.attribute().resolve(None).request.span is None  # type: ignore[union-attr]


def test_memory_is_bounded_and_a_forgotten_request_makes_the_single_rule_ambiguous() -> None:
    tracker = RequestTracker(max_requests=4)
    for request_id in range(8):
        tracker.sent(_request(request_id, opted_in=request_id == 0))
    assert len(tracker) == 4
    for request_id in range(4, 8):
        tracker.received(_answer(request_id))
    tracker.sent(_request("only"))
    # Requests 0..3 were forgotten unanswered: any of them could still be logging.
    assert tracker.attribute().basis == "ambiguous"
    for request_id in range(4):
        tracker.received(_answer(request_id))
    assert tracker.attribute().request.request_id == "only"  # type: ignore[union-attr]


def test_losing_track_of_the_forgotten_ones_is_for_good() -> None:
    tracker = RequestTracker(max_requests=2)
    for request_id in range(10):
        tracker.sent(_request(request_id))
    for request_id in range(10):
        tracker.received(_answer(request_id))
    tracker.sent(_request("only"))
    assert tracker.attribute().basis == "ambiguous"


def test_request_key_keeps_types_apart() -> None:
    assert request_key(1) != request_key("1")
    assert request_key(1) == request_key(1.0)
    assert request_key(True) != request_key(1)
    assert request_key(None) != request_key("null")


def test_threads_share_one_tracker() -> None:
    tracker = RequestTracker()

    def client(offset: int) -> None:
        for request_id in range(offset, offset + 2000):
            tracker.sent(_request(request_id))
            tracker.attribute()
            tracker.received(_answer(request_id))

    threads = [threading.Thread(target=client, args=(offset,)) for offset in (0, 10_000, 20_000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tracker) == 0
    assert tracker.attribute().basis == "unasked"


def test_a_stream_proves_only_the_very_request_it_belongs_to() -> None:
    tracker = RequestTracker()
    first = tracker.sent(_request(1, tool="old"))
    assert first is not None
    tracker.sent(_request(2))
    assert tracker.attribute(stream_of=first).resolve(None).request is first  # several in flight: the stream tells
    tracker.sent(_cancel(1))
    tracker.sent(_request(1, tool="new"))  # the id is reused while the old stream may still deliver
    late = tracker.attribute(stream_of=first).resolve(None)
    assert late.basis == "ambiguous" and late.request is None
    tracker.received(_answer(1))
    assert tracker.attribute(stream_of=first).basis == "ambiguous"  # gone altogether: still nobody else's
