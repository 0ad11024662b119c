"""Per-server context and the log-level opt-in: connect with the handler installed and logs flowing.

``session_attributes(source)`` reads what an initialized connection knows about its server:

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

The ``connect_*`` context managers open a connection for each client API with a handler bound
to that connection (its attributes added once the handshake tells them) and the opt-in done:
2026-07-28 servers get the per-request ``_meta`` level; legacy servers get ``logging/setLevel``
when they advertise logging (others send every level unasked). The level comes from the
``level`` argument, else ``MCP_OTEL_LOG_LEVEL``, else ``debug``; messages below it are also
dropped client-side, so the level holds whatever the server does.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from mcp_otel.conversion import SEVERITY_NUMBER_BY_LEVEL
from mcp_otel.handler import OTelLogHandler

__all__ = [
    "LOG_LEVEL_VARIABLE",
    "connect_client",
    "connect_fastmcp",
    "connect_session",
    "resolve_log_level",
    "session_attributes",
]

LOG_LEVEL_VARIABLE = "MCP_OTEL_LOG_LEVEL"
_MODERN_PREFIX = "2026-"  # protocol versions from 2026-07-28 on opt in per request


def resolve_log_level(level: str | None = None) -> str:
    """``level``, else ``MCP_OTEL_LOG_LEVEL``, else ``"debug"``; a ValueError names a bad one."""
    source = "level"
    if level is None:
        level = os.environ.get(LOG_LEVEL_VARIABLE, "").strip() or "debug"
        source = LOG_LEVEL_VARIABLE
    if level not in SEVERITY_NUMBER_BY_LEVEL:
        raise ValueError(f"{source}={level!r}: expected one of {', '.join(SEVERITY_NUMBER_BY_LEVEL)}")
    return level


def _first(*values: Any) -> Any:
    return next((value for value in values if value is not None and value != ""), None)


def _field(model: Any, snake_name: str, camel_name: str) -> Any:
    """A field of an mcp model: snake_case attributes in mcp 2.x, camelCase in 1.x."""
    value = getattr(model, snake_name, None)
    return value if value is not None else getattr(model, camel_name, None)


def session_attributes(source: Any, *, server: Any = None, initialize_result: Any = None) -> dict[str, Any]:
    """What ``source`` (mcp ``ClientSession``/``Client``, ``fastmcp.Client``) knows of its server.

    ``server`` (a ``StdioServerParameters`` or a URL) names the transport when the source
    cannot tell, as for a bare ``ClientSession``. mcp 1.x's ``ClientSession`` keeps no server
    info: pass the ``InitializeResult`` that ``initialize()`` returned as ``initialize_result``.
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
    attributes: dict[str, Any] = {}
    if server_info is not None:
        attributes["mcp.server.name"] = server_info.name
        if getattr(server_info, "version", None):
            attributes["mcp.server.version"] = server_info.version
    protocol_version = _first(
        getattr(session, "protocol_version", None),
        _field(initialize_result, "protocol_version", "protocolVersion"),
    )
    if isinstance(protocol_version, str):
        attributes["mcp.protocol.version"] = protocol_version
    attributes.update(_transport_attributes(_first(server, getattr(source, "server", None), getattr(source, "transport", None))))
    session_id = _session_id(getattr(source, "transport", None))
    if session_id:
        attributes["mcp.session.id"] = session_id
    return attributes


def _transport_attributes(server: Any) -> dict[str, Any]:
    url = server if isinstance(server, str) else getattr(server, "url", None)
    if isinstance(url, str) and "://" in url:
        parts = urlsplit(url)
        attributes: dict[str, Any] = {"network.transport": "tcp"}
        if parts.hostname:
            attributes["server.address"] = parts.hostname
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        if port:
            attributes["server.port"] = port
        return attributes
    if server is not None and ("Stdio" in type(server).__name__ or hasattr(server, "command")):
        return {"network.transport": "pipe"}
    return {}


def _session_id(transport: Any) -> str | None:
    get_session_id = getattr(transport, "get_session_id", None)
    if callable(get_session_id):
        try:
            session_id = get_session_id()
        except Exception:  # a transport not connected yet has none
            return None
        return session_id if isinstance(session_id, str) else None
    return None


def _warn_if_not_opted_in(handler: OTelLogHandler, protocol_version: Any, log_level: Any) -> None:
    if isinstance(protocol_version, str) and protocol_version.startswith(_MODERN_PREFIX) and log_level is None:
        handler.warn_once(
            "no-opt-in",
            f"mcp_otel: the connection speaks MCP {protocol_version} but requested no log level, so the "
            "server sends no log messages; pass log_level= or use mcp_otel.session.connect_client().",
        )


def bind_session(
    handler: OTelLogHandler, source: Any, *, server: Any = None, initialize_result: Any = None
) -> OTelLogHandler:
    """``handler.bind()`` with ``session_attributes(source)``; warns once when no opt-in was made."""
    session = getattr(source, "session", source)
    _warn_if_not_opted_in(
        handler, getattr(session, "protocol_version", None), _first(getattr(source, "log_level", None), getattr(session, "_log_level", None))
    )
    return handler.bind(**session_attributes(source, server=server, initialize_result=initialize_result))


async def _set_level_if_supported(session: Any, level: str, capabilities: Any) -> None:
    if getattr(capabilities, "logging", None) is not None:
        await session.set_logging_level(level)


@asynccontextmanager
async def connect_client(
    server: Any, handler: OTelLogHandler, *, level: str | None = None, **client_options: Any
) -> AsyncIterator[Any]:
    """mcp 2.x ``Client(server, ...)`` with a connection-bound handler and the opt-in done."""
    from mcp import Client

    chosen_level = resolve_log_level(level)
    connection_handler = handler.bind()
    connection_handler.narrow_to(chosen_level)
    async with Client(server, logging_callback=connection_handler, log_level=chosen_level, **client_options) as client:
        connection_handler.update_attributes(session_attributes(client))
        if not client.protocol_version.startswith(_MODERN_PREFIX):
            await _set_level_if_supported(client.session, chosen_level, client.server_capabilities)
        yield client


@asynccontextmanager
async def connect_session(
    read_stream: Any,
    write_stream: Any,
    handler: OTelLogHandler,
    *,
    level: str | None = None,
    server: Any = None,
    **session_options: Any,
) -> AsyncIterator[Any]:
    """mcp ``ClientSession`` (1.x and 2.x): initialized, connection-bound handler, opt-in done.

    Yields the session; ``server`` (the ``StdioServerParameters`` or URL) fills
    ``network.transport`` and ``server.*``.
    """
    from mcp import ClientSession

    chosen_level = resolve_log_level(level)
    connection_handler = handler.bind()
    connection_handler.narrow_to(chosen_level)
    async with ClientSession(read_stream, write_stream, logging_callback=connection_handler, **session_options) as session:
        result = await session.initialize()
        connection_handler.update_attributes(session_attributes(session, server=server, initialize_result=result))
        await _set_level_if_supported(session, chosen_level, result.capabilities)
        yield session


@asynccontextmanager
async def connect_fastmcp(
    transport: Any, handler: OTelLogHandler, *, level: str | None = None, **client_options: Any
) -> AsyncIterator[Any]:
    """``fastmcp.Client(transport, log_handler=...)`` with a connection-bound handler and the opt-in done.

    FastMCP opts in to ``debug`` on 2026-07-28 by itself; the chosen level is then applied
    client-side. On legacy handshakes it sends ``logging/setLevel`` when the server supports it.
    """
    from fastmcp import Client

    chosen_level = resolve_log_level(level)
    connection_handler = handler.bind()
    connection_handler.narrow_to(chosen_level)
    async with Client(transport, log_handler=connection_handler, **client_options) as client:
        attributes = session_attributes(client)
        connection_handler.update_attributes(attributes)
        if not attributes.get("mcp.protocol.version", "").startswith(_MODERN_PREFIX):
            await _set_level_if_supported(client.session, chosen_level, _capabilities(client))
        yield client


def _capabilities(client: Any) -> Any:
    capabilities = getattr(client, "server_capabilities", None)
    if capabilities is None:
        capabilities = getattr(getattr(client, "initialize_result", None), "capabilities", None)
    return capabilities

