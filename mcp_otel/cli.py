"""The ``mcp-otel`` command: ``demo``, ``proxy`` (see ``mcp_otel.proxy``) and ``--version``.

Everything the command prints goes to standard output only in ``demo``; errors go to standard
error with exit status 2, naming the variable at fault for a configuration error.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

import anyio

from mcp_otel._version import __version__
from mcp_otel.conversion import SEVERITY_NUMBER_BY_LEVEL
from mcp_otel.handler import OTelLogHandler
from mcp_otel.console import printing_provider_unless_configured
from mcp_otel.pipeline import ConfigurationError
from mcp_otel.proxy import DEFAULT_FLUSH_TIMEOUT_SECONDS, DEFAULT_LOG_LEVEL, run_proxy

__all__ = ["main", "run_demo"]


async def run_demo(level: str = "debug", city: str = "Lisbon") -> str:
    """Start the bundled server over stdio, opt in to ``level``, call its tool; return the tool's text.

    With an OTLP endpoint (or ``OTEL_LOGS_EXPORTER``) set, records go where the ``OTEL_*``
    variables say; with none, they are printed readably to standard output.
    """
    from mcp import StdioServerParameters

    provider = printing_provider_unless_configured()
    server = StdioServerParameters(command=sys.executable, args=["-m", "mcp_otel.demo_server"])
    with OTelLogHandler(logger_provider=provider, min_level=level) as handler:
        try:
            from mcp import Client  # mcp 2.x: the opt-in is the per-request log_level
        except ImportError:
            return await _run_demo_mcp1(server, handler, level, city)
        async with Client(server, logging_callback=handler, log_level=level) as client:  # type: ignore[arg-type]
            result = await client.call_tool("log_all_levels", {"city": city})
    return "".join(getattr(block, "text", "") for block in result.content)


async def _run_demo_mcp1(server: object, handler: OTelLogHandler, level: str, city: str) -> str:
    from mcp import ClientSession
    from mcp.client.stdio import stdio_client

    async with stdio_client(server) as (read_stream, write_stream):  # type: ignore[arg-type]
        async with ClientSession(read_stream, write_stream, logging_callback=handler) as session:
            initialize_result = await session.initialize()
            # Legacy handshake: servers send logs unasked; logging/setLevel narrows them, and
            # only a server that advertises the logging capability accepts it.
            if initialize_result.capabilities.logging is not None:
                await session.set_logging_level(level)  # type: ignore[arg-type]
            result = await session.call_tool("log_all_levels", {"city": city})
    return "".join(getattr(block, "text", "") for block in result.content)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-otel", description="Export MCP server log messages as OpenTelemetry log records."
    )
    parser.add_argument("--version", action="version", version=f"mcp-otel {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="run the bundled example server and export its logs (printed here when no endpoint is set)",
    )
    demo.add_argument("--level", default="debug", choices=list(SEVERITY_NUMBER_BY_LEVEL), help="MCP level to opt in to")
    demo.add_argument("--city", default="Lisbon", help="argument passed to the example tool")
    proxy = commands.add_parser(
        "proxy",
        help="run a stdio MCP server command behind a transparent relay that exports its log messages",
        description="Put this in a host's configuration instead of the server command: the server's traffic "
        "passes through unchanged and its log messages are exported as configured by the OTEL_* variables.",
    )
    proxy.add_argument(
        "--server-name", metavar="NAME", help="mcp.server.name on every record (default: the name the server reports)"
    )
    proxy.add_argument(
        "--log-level",
        default=DEFAULT_LOG_LEVEL,
        choices=list(SEVERITY_NUMBER_BY_LEVEL),
        help=f"level the proxy asks the server for when the host does not ask (default: {DEFAULT_LOG_LEVEL})",
    )
    proxy.add_argument(
        "--no-log-opt-in",
        dest="log_opt_in",
        action="store_false",
        help="never ask the server for logs: every byte passes unchanged, only logs the host asked for are exported",
    )
    proxy.add_argument(
        "--stderr",
        dest="export_stderr",
        action="store_true",
        help="also export each line of the server's standard error (which still passes through)",
    )
    proxy.add_argument(
        "--flush-timeout",
        type=float,
        default=DEFAULT_FLUSH_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="at most this long to export what is left after the server exited "
        f"(default: {DEFAULT_FLUSH_TIMEOUT_SECONDS:g})",
    )
    proxy.add_argument("server_command", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGUMENT ...]")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _build_parser().parse_args(argv)
    # MCP 2026-07-28 deprecates the logging capability (SEP-2577); using it is this tool's job.
    warnings.filterwarnings("ignore", message=".*logging capability is deprecated")
    try:
        if arguments.command == "demo":
            text = anyio.run(run_demo, arguments.level, arguments.city)
            print(f"tool result: {text}")
        if arguments.command == "proxy":
            server_command = arguments.server_command
            if server_command[:1] == ["--"]:  # argparse keeps the separator in REMAINDER before 3.13
                server_command = server_command[1:]
            return run_proxy(
                server_command,
                server_name=arguments.server_name,
                log_level=arguments.log_level if arguments.log_opt_in else None,
                export_stderr=arguments.export_stderr,
                flush_timeout=arguments.flush_timeout,
            )
    except ConfigurationError as error:
        print(f"mcp-otel: configuration error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
