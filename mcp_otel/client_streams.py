"""Attribution in an MCP client process: wrap a connection's streams, and its logs carry their request.

An mcp client (``mcp.Client`` in 2.x, ``ClientSession`` in 1.x and 2.x) talks to its transport
through two streams of ``SessionMessage``. :class:`AttributingStreams` wraps them:

* **write**: each request the client sends (and each ``notifications/cancelled``) goes to the
  connection's :class:`~mcp_otel.attribution.RequestTracker` before the transport sees it, with
  the span current in the sending task: mcp 2.x sends a request inside its own ``MCP send
  <method> <name>`` client span, so that span is the request's, and it is kept (for span events)
  when the request's ``traceparent`` names it.
* **read**: each message is looked at as the client's receive loop takes it, in order: a response
  ends its request; a ``notifications/message`` is attributed at that moment (with the request
  whose stream it came on, when the transport says so, see below) and exported there, through
  the :class:`~mcp_otel.connection.ConnectionLog`. The handler does no I/O, so the receive loop
  is not held up. The client itself then needs no logging callback.

Which request's stream a message came on. mcp 2.x's Streamable HTTP client reads each request's
response stream (the SSE body of its POST) in a task that inherits the context of the task that
sent the request, and its read stream hands over, with each message, the context of the task
that sent it (``last_context``, the SDK's own way to carry tracing across its streams). So the
write wrapper marks the context in which it hands a request to the transport (a context
variable holding this connection and the tracked request, reset as soon as the hand-over is done),
and the read wrapper reads that mark back from the context a message arrives with: a log that
carries the mark of request R came on R's stream. A message read by a task the mark never
reached (stdio's one reader, the standalone GET stream) carries none. Because the mark holds the
request itself, not only its id, a log from the stream of a request whose id was reused since is
``ambiguous``, never the new request's. When the transport names the related request in the
message's metadata, that wins over a mark (an in-process server's worker task keeps the mark of
the request it was started in, whichever request it logs for). Once an answer has come
marked (the handshake's, on HTTP), the connection is known to have per-request streams, and
an unmarked log came on none of them: it belongs to no request (``unasked``), even when one
opted-in request is in flight. mcp 1.x's streams carry no context: there, concurrent calls over
HTTP are told apart by nothing, and are marked ``ambiguous`` like stdio's.

mcp 2.x's ``Client`` accepts any ``Transport``: :class:`AttributingTransport` wraps one (the
``connect_client`` helper builds it for stdio parameters, URLs and transports). FastMCP (3 and
later) lets a transport be told which ``ClientSession`` class to build (``TransportOptions.
session_class``, documented for transports that wrap others): :func:`attributing_fastmcp_transport`
wraps a FastMCP transport so that each session it builds gets wrapped streams (``connect_fastmcp``
does it). FastMCP 2.x has no such hook: there, no attribution. By hand::

    connection = ConnectionLog(handler)
    streams = AttributingStreams(connection)
    async with stdio_client(parameters) as (read_stream, write_stream):
        read_stream, write_stream = streams.wrap(read_stream, write_stream)
        async with ClientSession(read_stream, write_stream) as session:
            ...
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import Context, ContextVar, Token
from types import TracebackType
from typing import Any

from opentelemetry.trace import get_current_span

from mcp_otel.attribution import RequestTracker, TrackedRequest
from mcp_otel.connection import ConnectionLog

__all__ = ["AttributingStreams", "AttributingTransport", "attributing_fastmcp_transport", "fastmcp_can_attribute"]

# (the connection's AttributingStreams, the tracked request) while a request is handed to the
# transport: the transport's task for that request inherits it (see the module docstring).
_SENDING: ContextVar[tuple[AttributingStreams, TrackedRequest] | None] = ContextVar(
    "mcp_otel_sending_request", default=None
)


def _message_fields(session_message: Any) -> Mapping[str, Any]:
    """What the tracker reads of a ``SessionMessage``'s JSON-RPC message (2.x: the model; 1.x: its ``root``)."""
    message = getattr(session_message, "message", None)
    message = getattr(message, "root", message)
    if message is None or isinstance(message, str):
        return {}
    method = getattr(message, "method", None)
    fields: dict[str, Any] = {}
    if method is not None:
        fields["method"] = method
        params = getattr(message, "params", None)
        if params is not None:
            fields["params"] = params
    if hasattr(message, "id"):
        fields["id"] = message.id
        if method is None:
            fields["error" if hasattr(message, "error") else "result"] = True
    return fields


class AttributingStreams:
    """One connection's stream wrappers and its request tracker; see the module docstring."""

    def __init__(self, connection: ConnectionLog, tracker: RequestTracker | None = None) -> None:
        self.connection = connection
        self.tracker = RequestTracker() if tracker is None else tracker
        # Set once an answer arrives marked with its request (see the module docstring).
        self.per_request_streams = False

    def wrap(self, read_stream: Any, write_stream: Any) -> tuple[Any, Any]:
        """The two streams to give the client instead of the transport's."""
        return _AttributingReadStream(read_stream, self), _TrackingWriteStream(write_stream, self)

    def sent(self, session_message: Any) -> TrackedRequest | None:
        """The client is sending ``session_message`` (in the sending task: its span is current).

        Returns the request it starts, when it is one.
        """
        fields = _message_fields(session_message)
        return self.tracker.sent(fields, span=get_current_span()) if fields else None

    def received(self, item: Any, sender_context: Context | None = None) -> None:
        """The client's receive loop takes ``item`` (a ``SessionMessage`` or an exception).

        ``sender_context``: the context of the transport task that sent it, when the stream says.
        """
        fields = _message_fields(item)
        if not fields:
            return
        mark = sender_context.get(_SENDING) if sender_context is not None else None
        if mark is not None and mark[0] is not self:  # another connection's mark says nothing of ours
            mark = None
        if fields.get("method") == "notifications/message":
            params = fields.get("params")
            metadata = getattr(item, "metadata", None)
            related_request_id = getattr(metadata, "related_request_id", None)
            if related_request_id is not None:
                # The transport's own word wins over a mark: an in-process server's task keeps the
                # context (the mark) of the request it was started in, whichever request it logs for.
                attribution = self.tracker.attribute(related_request_id=related_request_id)
            else:
                attribution = self.tracker.attribute(
                    stream_of=mark[1] if mark is not None else None,
                    # Once answers came marked, this transport has per-request streams: an
                    # unmarked log came on none of them (the standalone stream): no request's.
                    standalone=mark is None and self.per_request_streams,
                )
            self.connection.handle(params if params is not None else {}, attribution)
            return
        if mark is not None and "method" not in fields:
            self.per_request_streams = True  # an answer came on its request's own stream
        self.tracker.received(fields)


class _StreamWrapper:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:  # anything else the client reads (last_context, statistics)
        return getattr(self._inner, name)

    async def aclose(self) -> None:
        await self._inner.aclose()

    def close(self) -> None:
        self._inner.close()

    async def __aenter__(self) -> Any:
        await self._inner.__aenter__()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> bool | None:
        result: bool | None = await self._inner.__aexit__(exc_type, exc, traceback)
        return result


class _TrackingWriteStream(_StreamWrapper):
    def __init__(self, inner: Any, streams: AttributingStreams) -> None:
        super().__init__(inner)
        self._streams = streams

    def _mark(self, item: Any) -> Token[tuple[AttributingStreams, TrackedRequest] | None] | None:
        """Track ``item`` (before the transport sees it: an answer or a log for it cannot come
        earlier) and, for a request, mark the context it is handed over in."""
        request = self._streams.sent(item)
        return None if request is None else _SENDING.set((self._streams, request))

    async def send(self, item: Any) -> None:
        mark = self._mark(item)
        try:
            await self._inner.send(item)
        finally:
            if mark is not None:
                _SENDING.reset(mark)  # the caller's own context never keeps it

    def send_nowait(self, item: Any) -> None:
        mark = self._mark(item)
        try:
            self._inner.send_nowait(item)
        finally:
            if mark is not None:
                _SENDING.reset(mark)


class _AttributingReadStream(_StreamWrapper):
    def __init__(self, inner: Any, streams: AttributingStreams) -> None:
        super().__init__(inner)
        self._streams = streams

    def _look_at(self, item: Any) -> Any:
        try:
            # mcp 2.x's context streams keep the sending task's context of the item just taken.
            sender_context = getattr(self._inner, "last_context", None)
            self._streams.received(item, sender_context if isinstance(sender_context, Context) else None)
        except Exception as error:  # the client's receive loop must go on whatever one message meets
            self._streams.connection.handler._count_internal_error(error)
        return item

    async def receive(self) -> Any:
        return self._look_at(await self._inner.receive())

    def receive_nowait(self) -> Any:
        return self._look_at(self._inner.receive_nowait())

    def __aiter__(self) -> _AttributingReadStream:
        return self

    async def __anext__(self) -> Any:
        return self._look_at(await self._inner.__anext__())


class AttributingTransport:
    """An mcp 2.x ``Transport`` whose streams are wrapped by ``streams`` (an async context manager)."""

    def __init__(self, transport: Any, streams: AttributingStreams) -> None:
        self._transport = transport
        self._streams = streams

    def __getattr__(self, name: str) -> Any:  # get_session_id and whatever else a transport offers
        return getattr(self._transport, name)

    async def __aenter__(self) -> tuple[Any, Any]:
        read_stream, write_stream = await self._transport.__aenter__()
        return self._streams.wrap(read_stream, write_stream)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> bool | None:
        result: bool | None = await self._transport.__aexit__(exc_type, exc, traceback)
        return result


def fastmcp_can_attribute() -> bool:
    """Whether the installed FastMCP lets a transport choose its session class (FastMCP 3 and later)."""
    try:  # FastMCP 2.x has neither the module nor the hook
        from dataclasses import fields

        from fastmcp.client.transports.base import TransportOptions
    except ImportError:
        return False
    return "session_class" in {field.name for field in fields(TransportOptions)}


def attributing_fastmcp_transport(transport: Any, connection: ConnectionLog) -> Any:
    """A FastMCP ``ClientTransport`` (``inner``: the one ``transport`` names) whose sessions read
    through wrapped streams; None without the hook.

    Each session the transport builds (FastMCP reconnects with a new one) gets streams and a
    tracker of its own: a previous connection's requests in flight are no candidates. The
    session class is built once per base class, so FastMCP, which compares the options of a
    kept-alive connection (``client.new()``, re-entering a client), sees the same options each
    time. Everything else (``close``, ``get_session_id``, ``legacy_only``, ``url``, ``command``,
    setting ``keep_alive`` ...) goes to ``transport``. A multi-server ``MCPConfigTransport`` is not
    wrapped (None): FastMCP's client checks its type, and its logs come through a proxy of its own.
    """
    if not fastmcp_can_attribute():
        return None
    from dataclasses import replace

    from fastmcp.client.transports import infer_transport
    from fastmcp.client.transports.base import ClientTransport, TransportOptions
    from fastmcp.client.transports.config import MCPConfigTransport

    transport = infer_transport(transport)  # a URL, a script path, a server: what fastmcp.Client takes
    if isinstance(transport, MCPConfigTransport):
        return None

    class AttributingFastMCPTransport(ClientTransport):
        def __init__(self) -> None:
            object.__setattr__(self, "inner", transport)
            object.__setattr__(self, "_session_classes", {})

        def __getattr__(self, name: str) -> Any:  # url, command, log_file, keep_alive, auth ...
            return getattr(self.inner, name)

        def __setattr__(self, name: str, value: Any) -> None:  # client.transport.keep_alive = False
            setattr(self.inner, name, value)

        @property
        def legacy_only(self) -> bool:  # type: ignore[override]  # a property on some transports
            return bool(getattr(self.inner, "legacy_only", False))

        def _session_class(self, base: type) -> type:
            classes: dict[type, type] = self._session_classes
            if base not in classes:

                class AttributingSession(base):  # type: ignore[misc]
                    def __init__(self, read_stream: Any, write_stream: Any, *args: Any, **kwargs: Any) -> None:
                        read_stream, write_stream = AttributingStreams(connection).wrap(read_stream, write_stream)
                        super().__init__(read_stream, write_stream, *args, **kwargs)

                classes[base] = AttributingSession
            return classes[base]

        @asynccontextmanager
        async def connect_session(
            self, *, transport_options: Any = None, **session_kwargs: Any
        ) -> AsyncIterator[Any]:
            options = transport_options if transport_options is not None else TransportOptions()
            options = replace(options, session_class=self._session_class(options.session_class))
            async with self.inner.connect_session(transport_options=options, **session_kwargs) as session:
                yield session

        async def close(self) -> None:
            await self.inner.close()

        def get_session_id(self) -> str | None:
            session_id: str | None = self.inner.get_session_id()
            return session_id

        def __repr__(self) -> str:
            return f"<attributing {self.inner!r}>"

    return AttributingFastMCPTransport()
