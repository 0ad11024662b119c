"""Attribute names the package sets, and the one builder of a server's attributes.

===========================  ==========================================================  ==========
attribute                    meaning                                                     defined by
===========================  ==========================================================  ==========
``mcp.server.name``          the server's ``serverInfo.name`` (or the name you gave)     mcp-otel
``mcp.server.version``       the server's ``serverInfo.version``                         mcp-otel
``mcp.protocol.version``     the negotiated MCP protocol version                         MCP semconv
``mcp.session.id``           the Streamable HTTP session id; never on 2026-07-28 and     MCP semconv
                             later protocols (the convention: MUST NOT, no session)
``network.transport``        ``pipe`` (stdio) or ``tcp`` (HTTP)                          OTel semconv
``network.protocol.name``    ``http`` when the server is reached over HTTP               OTel semconv
``server.address``/``port``  the HTTP server's host and port                             OTel semconv
``log.iostream``             ``stderr`` on records read from a server's standard error   OTel semconv
``mcp.method.name``         the method of the request the log belongs to                MCP semconv
``jsonrpc.request.id``       that request's JSON-RPC id, as text (none for a null id)    MCP semconv
``gen_ai.tool.name``         the tool of a ``tools/call`` request the log belongs to     GenAI semconv
``gen_ai.operation.name``    ``execute_tool`` with ``gen_ai.tool.name``                  GenAI semconv
``gen_ai.prompt.name``       the prompt of a ``prompts/get`` request                     GenAI semconv
``mcp.resource.uri``         the resource of a ``resources/read``, ``/subscribe`` or     MCP semconv
                             ``/unsubscribe`` request
``mcp_otel.unattributed``    ``ambiguous`` or ``unasked``: the log's request cannot be   mcp-otel
                             known for certain (``mcp_otel.attribution``)
``mcp_otel.truncated``       ``true`` when a cap cut something out of the record         mcp-otel
``mcp_otel.logger``          the logger name, past the cap on distinct scopes            mcp-otel
``mcp_otel.extra.<key>``     a server's own value for a key this package sets itself     mcp-otel
===========================  ==========================================================  ==========

No semantic convention names a peer server's identity, so ``mcp.server.*`` are this package's own
keys, as are ``mcp_otel.*``. The request attributes are those the MCP conventions give the
request's client span, so a log and its span can be joined on them. ``error.type`` and
``rpc.response.status_code`` describe how an operation ended; a log is no operation, so they are
not set (a log's own failure is its severity, a traceback's its ``exception.*`` attributes).
The OTel names come from ``opentelemetry-semantic-conventions`` where it has them as stable;
the MCP and GenAI ones are typed out, because that package marks them as moved to the GenAI
conventions repository (they may leave it).
"""

from __future__ import annotations

from typing import Any

from opentelemetry.semconv.attributes.network_attributes import NETWORK_PROTOCOL_NAME, NETWORK_TRANSPORT
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT

__all__ = [
    "GEN_AI_OPERATION_NAME",
    "GEN_AI_PROMPT_NAME",
    "GEN_AI_TOOL_NAME",
    "JSONRPC_REQUEST_ID",
    "LOGGER_NAME",
    "LOG_IOSTREAM",
    "MCP_METHOD_NAME",
    "MCP_PROTOCOL_VERSION",
    "MCP_RESOURCE_URI",
    "MCP_SERVER_NAME",
    "MCP_SERVER_VERSION",
    "MCP_SESSION_ID",
    "NETWORK_PROTOCOL_NAME",
    "NETWORK_TRANSPORT",
    "RESERVED_KEYS",
    "SERVER_ADDRESS",
    "SERVER_PORT",
    "SERVER_VALUE_PREFIX",
    "TRUNCATED",
    "UNATTRIBUTED",
    "server_attributes",
]

MCP_SERVER_NAME = "mcp.server.name"
MCP_SERVER_VERSION = "mcp.server.version"
MCP_PROTOCOL_VERSION = "mcp.protocol.version"  # MCP semantic conventions
MCP_SESSION_ID = "mcp.session.id"  # MCP semantic conventions
LOG_IOSTREAM = "log.iostream"  # OTel semantic conventions (incubating)
# Request attribution (MCP and GenAI semantic conventions; typed out for the reason above).
MCP_METHOD_NAME = "mcp.method.name"
JSONRPC_REQUEST_ID = "jsonrpc.request.id"
GEN_AI_TOOL_NAME = "gen_ai.tool.name"
GEN_AI_PROMPT_NAME = "gen_ai.prompt.name"
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
MCP_RESOURCE_URI = "mcp.resource.uri"
TRUNCATED = "mcp_otel.truncated"
# Set, instead of the request's attributes, on a log whose request cannot be known for certain
# (mcp_otel.attribution): "ambiguous" (several candidates) or "unasked" (no request opted in).
UNATTRIBUTED = "mcp_otel.unattributed"
MODERN_PROTOCOL_VERSION = "2026-07-28"  # the first version without sessions or the initialize handshake
LOGGER_NAME = "mcp_otel.logger"
# A server's extra key that names an attribute the handler sets (or any mcp_otel.* key) keeps its
# value under this prefix: the server cannot spoof the connection, the request or the marks.
SERVER_VALUE_PREFIX = "mcp_otel.extra."
RESERVED_KEYS = frozenset(
    {
        MCP_SERVER_NAME, MCP_SERVER_VERSION, MCP_PROTOCOL_VERSION, MCP_SESSION_ID, NETWORK_TRANSPORT, SERVER_ADDRESS,
        SERVER_PORT, LOG_IOSTREAM, MCP_METHOD_NAME, JSONRPC_REQUEST_ID, GEN_AI_TOOL_NAME, GEN_AI_PROMPT_NAME,
        GEN_AI_OPERATION_NAME, MCP_RESOURCE_URI, NETWORK_PROTOCOL_NAME,
    }
)  # fmt: skip


def server_attributes(
    *,
    name: object = None,
    version: object = None,
    protocol_version: object = None,
    transport: str | None = None,
    protocol: str | None = None,
    address: str | None = None,
    port: int | None = None,
    session_id: object = None,
) -> dict[str, Any]:
    """The attributes that describe one server connection; what is unknown, empty or not text is left out."""
    if isinstance(protocol_version, str) and protocol_version >= MODERN_PROTOCOL_VERSION:
        session_id = None  # MCP semantic conventions: MUST NOT be set for 2026-07-28-and-later sessions
    attributes: dict[str, Any] = {}
    for key, value in (
        (MCP_SERVER_NAME, name),
        (MCP_SERVER_VERSION, version),
        (MCP_PROTOCOL_VERSION, protocol_version),
        (MCP_SESSION_ID, session_id),
        (NETWORK_TRANSPORT, transport),
        (NETWORK_PROTOCOL_NAME, protocol),
        (SERVER_ADDRESS, address),
    ):
        if isinstance(value, str) and value:
            attributes[key] = value
    if isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65_536:
        attributes[SERVER_PORT] = port
    return attributes
