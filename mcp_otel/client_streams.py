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
  whose stream it came on, when the transport's ``SessionMessage.metadata`` says so) and
  exported there, through the :class:`~mcp_otel.connection.ConnectionLog`. The handler does no
  I/O, so the receive loop is not held up. The client itself then needs no logging callback.

mcp 2.x's ``Client`` accepts any ``Transport``: :class:`AttributingTransport` wraps one (the
``connect_client`` helper builds it for stdio parameters, URLs and transports). By hand::

    connection = ConnectionLog(handler)
    streams = AttributingStreams(connection)
    async with stdio_client(parameters) as (read_stream, write_stream):
        read_stream, write_stream = streams.wrap(read_stream, write_stream)
        async with ClientSession(read_stream, write_stream) as session:
            ...
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from opentelemetry.trace import get_current_span

from mcp_otel.attribution import RequestTracker
from mcp_otel.connection import ConnectionLog

__all__ = ["AttributingStreams", "AttributingTransport"]


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

    def wrap(self, read_stream: Any, write_stream: Any) -> tuple[Any, Any]:
        """The two streams to give the client instead of the transport's."""
        return _AttributingReadStream(read_stream, self), _TrackingWriteStream(write_stream, self)

    def sent(self, session_message: Any) -> None:
        """The client is sending ``session_message`` (in the sending task: its span is current)."""
        fields = _message_fields(session_message)
        if fields:
            self.tracker.sent(fields, span=get_current_span())

    def received(self, item: Any) -> None:
        """The client's receive loop takes ``item`` (a ``SessionMessage`` or an exception)."""
        fields = _message_fields(item)
        if not fields:
            return
        if fields.get("method") == "notifications/message":
            params = fields.get("params")
            metadata = getattr(item, "metadata", None)
            related_request_id = getattr(metadata, "related_request_id", None)
            attribution = self.tracker.attribute(
                related_request_id=related_request_id, on_request_stream=related_request_id is not None
            )
            self.connection.handle(params if params is not None else {}, attribution)
            return
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

    async def send(self, item: Any) -> None:
        # Before the transport sees it: an answer or a log for it cannot come earlier.
        self._streams.sent(item)
        await self._inner.send(item)

    def send_nowait(self, item: Any) -> None:
        self._streams.sent(item)
        self._inner.send_nowait(item)


class _AttributingReadStream(_StreamWrapper):
    def __init__(self, inner: Any, streams: AttributingStreams) -> None:
        super().__init__(inner)
        self._streams = streams

    def _look_at(self, item: Any) -> Any:
        try:
            self._streams.received(item)
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
