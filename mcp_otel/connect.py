"""Client connection helpers: connect with the handler installed, the server named, and logs flowing.

``session_attributes(source)`` reads what an initialized connection knows about its server
(built by ``mcp_otel.attributes.server_attributes``):

==========================  ===================================================================
attribute                   from
==========================  ===================================================================
``mcp.server.name``         the server's ``serverInfo.name`` (handshake or 2026 discovery)
``mcp.server.version``      the server's ``serverInfo.version`` (when not empty)
``mcp.protocol.version``    the negotiated protocol version (MCP semantic conventions)
``mcp.session.id``          the Streamable HTTP session id, when the transport has one
``network.transport``       ``pipe`` for stdio, ``tcp`` for HTTP (OTel semantic conventions)
``server.address``/``port`` host and port of an HTTP server URL
==========================  ===================================================================

The ``connect_*`` async context managers open a connection for each client API with a
:class:`~mcp_otel.connection.ConnectionLog` as its logging callback (the server's attributes
added once the handshake tells them; attributes you gave explicitly win) and the opt-in done:
2026-07-28 servers get the per-request ``_meta`` level; legacy servers get ``logging/setLevel``
when they advertise logging (others send every level unasked). The level comes from the
``level`` argument, else ``MCP_OTEL_LOG_LEVEL``, else ``debug``; messages below it are also
dropped client-side, so the level holds whatever the server does.

Where the helper can reach the connection's streams, they are wrapped instead of a logging
callback being set, and each log is tied to its request (``mcp_otel.client_streams``):
``connect_client`` for every transport but an in-process server, ``connect_session`` always, and
``connect_fastmcp`` on FastMCP 3 and later (its transport is wrapped to name the session class
FastMCP builds; FastMCP's own ``log_handler`` is then a no-op). On FastMCP 2.x the callback stays.

Standard error (``mcp_otel.stderr_reader``): ``connect_client(..., stderr=True)`` with a
``StdioServerParameters`` starts the server through ``stdio_client(server, errlog=capture)`` and
``connect_fastmcp(..., stderr=True)`` with a stdio transport sets its ``log_file`` to the capture
(FastMCP uses a file object as it is); the capture (``handler.capture_stderr()``) learns the
server's identity with the notifications, falls back to the command's basename, and is closed when
the helper exits, after the server stopped (FastMCP's transport is closed for that, ``keep_alive``
or not). ``connect_session`` gets streams from a transport it did not open, so it cannot start the
capture: open one yourself and pass it as ``stderr=`` so it learns the identity::

    with handler.capture_stderr() as errlog:
        async with stdio_client(server, errlog=errlog) as (read_stream, write_stream):
            async with connect_session(read_stream, write_stream, handler, server=server, stderr=errlog):
                ...
"""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio.to_thread

from mcp_otel.attributes import server_attributes
from mcp_otel.client_streams import (
    AttributingStreams,
    AttributingTransport,
    attributing_fastmcp_transport,
)
from mcp_otel.connection import ConnectionLog
from mcp_otel.handler import OTelLogHandler
from mcp_otel.levels import LoggingLevel, parse_level
from mcp_otel.stderr_reader import StderrCapture, fallback_server_name

if TYPE_CHECKING:
    import fastmcp
    from mcp import Client, ClientSession

__all__ = [
    "LOG_LEVEL_VARIABLE",
    "bind_session",
    "connect_client",
    "connect_fastmcp",
    "connect_session",
    "resolve_log_level",
    "session_attributes",
]

LOG_LEVEL_VARIABLE = "MCP_OTEL_LOG_LEVEL"
_MODERN_PREFIX = "2026-"  # protocol versions from 2026-07-28 on opt in per request


def resolve_log_level(level: LoggingLevel | None = None) -> LoggingLevel:
    """``level``, else ``MCP_OTEL_LOG_LEVEL``, else ``"debug"``; a ConfigurationError names a bad one."""
    if level is not None:
        return parse_level(level, "level")
    return parse_level(os.environ.get(LOG_LEVEL_VARIABLE, "").strip() or "debug", LOG_LEVEL_VARIABLE)


def _first(*values: Any) -> Any:
    return next((value for value in values if value is not None and value != ""), None)


def _field(model: Any, snake_name: str, camel_name: str) -> Any:
    """A field of an mcp model: snake_case attributes in mcp 2.x, camelCase in 1.x."""
    value = getattr(model, snake_name, None)
    return value if value is not None else getattr(model, camel_name, None)


def session_attributes(source: Any, *, server: Any = None, initialize_result: Any = None) -> dict[str, Any]:
    """What ``source`` (mcp ``ClientSession``/``Client``, ``fastmcp.Client``) knows of its server.

    ``server`` (a ``StdioServerParameters`` or a URL) names the transport when the source cannot
    tell, as for a bare ``ClientSession``. mcp 1.x's ``ClientSession`` keeps no server info: pass
    the ``InitializeResult`` that ``initialize()`` returned as ``initialize_result``.
    """
    session = getattr(source, "session", None) if not hasattr(source, "send_request") else source
    initialize_result = _first(
        initialize_result, getattr(source, "initialize_result", None), getattr(session, "initialize_result", None)
    )
    server_info = _first(
        getattr(source, "server_info", None),
        getattr(session, "server_info", None),
        _field(initialize_result, "server_info", "serverInfo"),
    )
    protocol_version = _first(
        getattr(session, "protocol_version", None),
        _field(initialize_result, "protocol_version", "protocolVersion"),
    )
    transport, protocol, address, port = _transport(
        _first(server, getattr(source, "server", None), getattr(source, "transport", None))
    )
    return server_attributes(
        name=getattr(server_info, "name", None),
        version=getattr(server_info, "version", None),
        protocol_version=protocol_version,
        transport=transport,
        protocol=protocol,
        address=address,
        port=port,
        session_id=_session_id(getattr(source, "transport", None)),
    )


# URL scheme -> (network.protocol.name, default port)
_PROTOCOL_BY_SCHEME = {"http": ("http", 80), "https": ("http", 443), "ws": ("websocket", 80), "wss": ("websocket", 443)}


def _transport(server: Any) -> tuple[str | None, str | None, str | None, int | None]:
    """``network.transport``, ``network.protocol.name``, ``server.address`` and ``server.port``
    of a server URL or stdio parameters."""
    url = server if isinstance(server, str) else getattr(server, "url", None)
    if isinstance(url, str) and "://" in url:
        parts = urlsplit(url)
        protocol, default_port = _PROTOCOL_BY_SCHEME.get(parts.scheme.lower(), (None, None))
        try:
            port = parts.port or default_port
        except ValueError:  # a port that is not a number
            port = None
        return ("tcp" if protocol else None), protocol, parts.hostname, port  # an unknown scheme: no guess
    if server is not None and ("Stdio" in type(server).__name__ or hasattr(server, "command")):
        return "pipe", None, None, None
    return None, None, None, None


def _session_id(transport: Any) -> str | None:
    get_session_id = getattr(transport, "get_session_id", None)
    if callable(get_session_id):
        try:
            session_id = get_session_id()
        except Exception:  # a transport not connected yet has none
            return None
        return session_id if isinstance(session_id, str) else None
    return None


def bind_session(
    handler: OTelLogHandler, source: Any, *, server: Any = None, initialize_result: Any = None
) -> OTelLogHandler:
    """A handler adding ``session_attributes(source)`` (explicit attributes still win).

    Warns once through the ``mcp_otel`` logger when a 2026-07-28 connection opted in to no log
    level: such a connection receives no log messages at all.
    """
    session = getattr(source, "session", source)
    protocol_version = getattr(session, "protocol_version", None)
    log_level = _first(getattr(source, "log_level", None), getattr(session, "_log_level", None))
    emitter = handler._emitter
    if (
        emitter is not None
        and isinstance(protocol_version, str)
        and protocol_version.startswith(_MODERN_PREFIX)
        and log_level is None
    ):
        emitter.warn_once(
            "no-opt-in",
            f"mcp_otel: the connection speaks MCP {protocol_version} but requested no log level, so the "
            "server sends no log messages; pass log_level= or use mcp_otel.connect_client().",
        )
    attributes = session_attributes(source, server=server, initialize_result=initialize_result)
    return handler._derive(reported=attributes)


async def _set_level_if_supported(
    set_logging_level: Callable[[LoggingLevel], Awaitable[Any]], level: LoggingLevel, capabilities: Any
) -> None:
    """``logging/setLevel`` when the server declares logging (the spec's precondition for it)."""
    if getattr(capabilities, "logging", None) is None:
        return
    # mcp 2.x marks set_logging_level deprecated (SEP-2577) and warns at its caller: that is this
    # helper, not the user's code, so the warning is silenced for this one call. The warning is
    # raised when the coroutine is created, so only that step runs under the filter.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*logging capability is deprecated")
        pending = set_logging_level(level)
    await pending


@asynccontextmanager
async def connect_client(
    server: Any,
    handler: OTelLogHandler,
    *,
    level: LoggingLevel | None = None,
    stderr: bool = False,
    **client_options: Any,
) -> AsyncIterator[Client]:
    """mcp 2.x ``Client(server, ...)`` with a per-connection logging callback and the opt-in done.

    ``stderr=True`` (``server`` a ``StdioServerParameters``) also exports the server's standard error.
    """
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    chosen_level = resolve_log_level(level)
    connection = ConnectionLog(handler, min_level=chosen_level)
    capture = None
    transport_source: Any = server
    if stderr:
        if not isinstance(server, StdioServerParameters):
            raise TypeError("connect_client(stderr=True) needs a StdioServerParameters server")
        capture = _capture(handler, chosen_level, server.command)
        transport_source = stdio_client(server, errlog=capture)
    transport = _attributing_transport(transport_source, connection)
    if transport is None:  # an in-process server: no streams to wrap, no attribution
        options: dict[str, Any] = {"logging_callback": connection}
    else:  # the wrapped streams export each log with its request (mcp_otel.client_streams)
        options = {}
    try:
        async with Client(
            server if transport is None else transport, log_level=chosen_level, **options, **client_options
        ) as client:
            attributes = session_attributes(client, server=server)
            _learn(connection, capture, attributes)
            if not client.protocol_version.startswith(_MODERN_PREFIX):
                await _set_level_if_supported(
                    client.session.set_logging_level, chosen_level, client.server_capabilities
                )
            yield client
    finally:
        if capture is not None:
            await anyio.to_thread.run_sync(capture.close)


def _capture(handler: OTelLogHandler, level: LoggingLevel, command: Any) -> StderrCapture:
    return StderrCapture(handler._derive(min_level=level), fallback_name=fallback_server_name(command))


def _learn(connection: ConnectionLog, capture: StderrCapture | None, attributes: dict[str, Any]) -> None:
    connection.learn(attributes)
    if capture is not None:
        capture.learn(attributes)


def _attributing_transport(server: Any, connection: ConnectionLog) -> Any:
    """``server`` as an mcp 2.x ``Transport`` with attributing streams; None for an in-process server."""
    from mcp import StdioServerParameters
    from mcp.client.stdio import stdio_client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.server.lowlevel import Server
    from mcp.server.mcpserver import MCPServer

    if isinstance(server, (Server, MCPServer)):
        return None
    if isinstance(server, str):
        transport: Any = streamable_http_client(server)
    elif isinstance(server, StdioServerParameters):
        transport = stdio_client(server)
    elif hasattr(server, "__aenter__"):
        transport = server
    else:
        return None
    return AttributingTransport(transport, AttributingStreams(connection))


@asynccontextmanager
async def connect_session(
    read_stream: Any,
    write_stream: Any,
    handler: OTelLogHandler,
    *,
    level: LoggingLevel | None = None,
    server: Any = None,
    stderr: StderrCapture | None = None,
    **session_options: Any,
) -> AsyncIterator[ClientSession]:
    """mcp ``ClientSession`` (1.x and 2.x): initialized, per-connection logging callback, opt-in done.

    ``server`` (the ``StdioServerParameters`` or URL) fills ``network.transport`` and ``server.*``.
    ``stderr``: the ``handler.capture_stderr()`` given to ``stdio_client(errlog=...)``, to name its records.
    """
    from mcp import ClientSession

    chosen_level = resolve_log_level(level)
    connection = ConnectionLog(handler, min_level=chosen_level)
    # The wrapped streams export each log with its request (mcp_otel.client_streams).
    read_stream, write_stream = AttributingStreams(connection).wrap(read_stream, write_stream)
    async with ClientSession(read_stream, write_stream, **session_options) as session:
        result = await session.initialize()
        _learn(connection, stderr, session_attributes(session, server=server, initialize_result=result))
        await _set_level_if_supported(session.set_logging_level, chosen_level, result.capabilities)
        yield session


@asynccontextmanager
async def connect_fastmcp(
    transport: Any,
    handler: OTelLogHandler,
    *,
    level: LoggingLevel | None = None,
    stderr: bool = False,
    **client_options: Any,
) -> AsyncIterator[fastmcp.Client[Any]]:
    """``fastmcp.Client(transport, log_handler=...)`` with a per-connection logging callback and the opt-in done.

    FastMCP opts in to ``debug`` on 2026-07-28 by itself; the chosen level is then applied
    client-side. On legacy handshakes it sends ``logging/setLevel`` when the server supports it.
    ``stderr=True`` (a stdio transport, or what FastMCP infers from a script path) also exports the
    server's standard error: it sets the transport's ``log_file``, and closes the transport on exit.
    """
    from fastmcp import Client

    chosen_level = resolve_log_level(level)
    connection = ConnectionLog(handler, min_level=chosen_level)
    wrapped = attributing_fastmcp_transport(transport, connection)
    # With attribution the wrapped streams export each log (with its request), not the callback;
    # the Client gets the real transport first, so that auth and TLS are set up on it.
    if wrapped is not None:
        transport = wrapped.inner
    client = Client(transport, log_handler=connection if wrapped is None else _ignore_log, **client_options)
    stdio: Any = client.transport
    if wrapped is not None:
        client.transport = wrapped
    capture = None
    if stderr:
        if not hasattr(stdio, "log_file") or not hasattr(stdio, "command"):
            raise TypeError(f"connect_fastmcp(stderr=True) needs a stdio transport, not {type(stdio).__name__}")
        if stdio.log_file is not None:  # the caller's own file: not replaced behind their back
            raise ValueError("connect_fastmcp(stderr=True): the transport already has a log_file")
        capture = _capture(handler, chosen_level, stdio.command)
        stdio.log_file = capture
    try:
        async with client:
            attributes = session_attributes(client)
            _learn(connection, capture, attributes)
            if not str(attributes.get("mcp.protocol.version", "")).startswith(_MODERN_PREFIX):
                await _set_level_if_supported(client.session.set_logging_level, chosen_level, _capabilities(client))
            yield client
    finally:
        if capture is not None:
            # The server must stop for its standard error to end: a keep-alive transport would keep it.
            await client.transport.close()
            await anyio.to_thread.run_sync(capture.close)


async def _ignore_log(message: Any) -> None:
    """FastMCP's ``log_handler`` when the wrapped streams export the logs (its default prints them)."""


def _capabilities(client: Any) -> Any:
    capabilities = getattr(client, "server_capabilities", None)
    if capabilities is None:
        capabilities = getattr(getattr(client, "initialize_result", None), "capabilities", None)
    return capabilities
