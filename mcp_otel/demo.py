"""``mcp-otel demo``: the bundled server's eight levels, through the public helpers, to where ``OTEL_*`` says.

The demo starts ``python -m mcp_otel.demo_server`` over stdio with ``connect_client`` (mcp 2.x) or
``connect_session`` (mcp 1.x), opts in to ``level``, calls the server's one tool and returns what
happened. With no OTLP endpoint (nor ``OTEL_LOGS_EXPORTER``) set, the records are printed one per
line (``mcp_otel.console``); the environment is validated either way.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NamedTuple

from mcp_otel.accounting import Stats
from mcp_otel.console import printing_provider_unless_configured
from mcp_otel.handler import OTelLogHandler
from mcp_otel.levels import LoggingLevel
from mcp_otel.pipeline import validate_environment

__all__ = ["DemoResult", "run_demo"]


class DemoResult(NamedTuple):
    tool_text: str
    stats: Stats

    @property
    def sent(self) -> int:
        return self.stats["received"] - self.stats["filtered"]

    @property
    def acknowledged(self) -> int:
        return self.stats["exported"]


async def run_demo(level: LoggingLevel = "debug", city: str = "Lisbon") -> DemoResult:
    """Run the demo; raises ``ConfigurationError`` for a bad ``OTEL_*`` variable before starting anything."""
    from mcp import StdioServerParameters

    validate_environment()
    server = StdioServerParameters(command=sys.executable, args=["-m", "mcp_otel.demo_server"])
    handler = OTelLogHandler(logger_provider=printing_provider_unless_configured())
    tracer_provider = _tracer_provider_for_span_events()
    try:
        text = await _call_tool(server, handler, level, city)
    finally:
        await handler.ashutdown()
        if tracer_provider is not None:
            tracer_provider.shutdown()
    return DemoResult(text, handler.stats())


def _tracer_provider_for_span_events() -> Any:
    """With ``MCP_OTEL_SPAN_EVENTS=true``, the demo is an application that traces: without a global
    SDK TracerProvider, mcp's client makes no ``MCP send tools/call`` span and injects no context,
    so no log could be tied to its call. One from ``OTEL_TRACES_EXPORTER`` is set as the global."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    from mcp_otel.span_events import span_events_from_environment, tracer_provider_from_environment

    if not span_events_from_environment() or isinstance(trace.get_tracer_provider(), TracerProvider):
        return None
    provider = tracer_provider_from_environment(os.environ)
    if provider is not None:
        trace.set_tracer_provider(provider)
    return provider


async def _call_tool(server: object, handler: OTelLogHandler, level: LoggingLevel, city: str) -> str:
    try:
        from mcp import Client  # noqa: F401 - only to learn the major version
    except ImportError:  # mcp 1.x
        from mcp.client.stdio import stdio_client

        from mcp_otel.connect import connect_session

        async with stdio_client(server) as (read_stream, write_stream):  # type: ignore[arg-type]
            async with connect_session(read_stream, write_stream, handler, level=level, server=server) as session:
                result = await session.call_tool("log_all_levels", {"city": city})
    else:
        from mcp_otel.connect import connect_client

        async with connect_client(server, handler, level=level) as client:
            result = await client.call_tool("log_all_levels", {"city": city})
    return "".join(getattr(block, "text", "") for block in result.content)
