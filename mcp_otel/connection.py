"""One MCP connection's logging callback: what is learnt about the server after it was installed.

A client installs its logging callback before the handshake, but the server's name, version and
protocol are known only after it. Handlers are immutable, so a :class:`ConnectionLog` is the
callback instead: it forwards each message to the handler bound for the connection, and
``learn()`` swaps in a new one when the server says who it is (the swap is one reference
assignment, so a message handled on another thread sees the old or the new handler, never half).

Attributes given explicitly (the handler's ``attributes=`` and ``bind()``, the proxy's
``--server-name``) always win over what the server reports. The ``connect_*`` helpers
(``mcp_otel.connect``) and the proxy both use this one pattern; to get the same by hand::

    connection = ConnectionLog(handler)
    async with Client(server, logging_callback=connection, log_level="debug") as client:
        connection.learn(session_attributes(client))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp_otel.attribution import Attribution
from mcp_otel.handler import OTelLogHandler
from mcp_otel.levels import LoggingLevel

__all__ = ["ConnectionLog"]


class ConnectionLog:
    """An MCP logging callback for one connection; see the module docstring."""

    __slots__ = ("_base", "_reported", "handler")

    def __init__(self, handler: OTelLogHandler, *, min_level: LoggingLevel | None = None) -> None:
        self._base = handler._derive(min_level=min_level)
        self._reported: dict[str, Any] = {}
        self.handler = self._base

    def learn(self, attributes: Mapping[str, Any]) -> None:
        """Add what the server reported about itself; values given explicitly keep winning."""
        reported = {**self._reported, **attributes}
        if reported != self._reported:
            self._reported = reported
            self.handler = self._base._derive(reported=reported)

    async def __call__(self, params: Any) -> None:
        """mcp's ``LoggingFnT`` and FastMCP's ``LogHandler``."""
        self.handler.handle(params)

    def handle(self, params: Any, attribution: Attribution | None = None) -> None:
        """``handler.handle`` with the current handler; ``attribution`` from ``mcp_otel.attribution``."""
        self.handler.handle(params, attribution)
