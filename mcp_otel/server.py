"""Server side: stamp the current span's W3C trace context into the ``_meta`` of log notifications.

mcp 2.x clients already send ``traceparent`` in each request's ``_meta`` and mcp 2.x servers
open a span from it around every request, so inside a tool the current span belongs to the
client's trace. Log notifications do not carry it by themselves; ``send_log`` adds it, and
``OTelLogHandler`` on the client gives the exported record that trace id, span id and flags.

Works with a tool's ``Context`` from the mcp SDK (``MCPServer`` in 2.x, ``FastMCP`` in 1.x) and
from FastMCP, and with the SDK's ``ServerRequestContext``. (mcp 1.x clients do not send trace
context in requests; there the current span is whatever the server's own code opened.)
"""

from __future__ import annotations

from typing import Any

from mcp import types
from pydantic import RootModel

from mcp_otel.levels import LoggingLevel
from mcp_otel.trace_context import inject_into

__all__ = ["send_log"]


def _session_and_request_id(context: Any) -> tuple[Any, Any]:
    """The server session and request id behind any of the accepted context types."""
    request_context = getattr(context, "request_context", context)
    session = getattr(request_context, "session", None)
    if session is None or not hasattr(session, "send_notification"):
        raise TypeError(f"send_log needs an MCP server request context, got {type(context).__name__}")
    return session, getattr(request_context, "request_id", None)


async def send_log(context: Any, level: LoggingLevel, data: Any, logger: str | None = None) -> None:
    """Send one ``notifications/message`` carrying the current trace context in ``_meta``.

    ``context``: a tool's ``Context`` (mcp's ``MCPServer`` or FastMCP's) or mcp's
    ``ServerRequestContext``. ``data`` goes out as given; for FastMCP's shape pass
    ``{"msg": text, "extra": {...}}``. On 2026-07-28 connections nothing is sent unless the
    request opted in at that level, exactly as the SDK's own ``send_log_message`` decides.
    """
    session, request_id = _session_and_request_id(context)
    # The SDK's send_log_message takes no _meta, so this builds the same notification itself;
    # it applies the same per-request opt-in gate the SDK keeps on the session (mcp 2.x).
    allowed_levels = getattr(session, "_allowed_log_levels", None)
    if allowed_levels is not None and level not in allowed_levels:
        return
    params: dict[str, Any] = {"level": level, "data": data}
    if logger is not None:
        params["logger"] = logger
    meta = inject_into({})
    if meta:
        params["_meta"] = meta
    notification = types.LoggingMessageNotification(params=types.LoggingMessageNotificationParams.model_validate(params))
    await session.send_notification(_as_server_notification(notification), related_request_id=request_id)


def _as_server_notification(notification: Any) -> Any:
    # mcp 1.x wraps notifications in a RootModel union; mcp 2.x takes the model itself.
    wrapper = getattr(types, "ServerNotification", None)
    if isinstance(wrapper, type) and issubclass(wrapper, RootModel):
        return wrapper(notification)
    return notification
