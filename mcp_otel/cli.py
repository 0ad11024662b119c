"""The ``mcp-otel`` command: ``demo``, ``proxy`` (``mcp_otel.proxy``), ``host-config`` and ``--version``.

Exit statuses: 0 success; 1 the demo's collector did not acknowledge every record; 2 a bad option
or a bad ``OTEL_*``/``MCP_OTEL_*`` variable (named on standard error, never a traceback); the
proxy's own statuses are the server's (``mcp_otel.proxy``).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from mcp_otel._version import __version__
from mcp_otel.errors import ConfigurationError
from mcp_otel.levels import LEVELS, parse_level

__all__ = ["main"]

DEFAULT_FLUSH_TIMEOUT_SECONDS = 3.0  # the proxy's; see mcp_otel.proxy


MAX_FLUSH_TIMEOUT_SECONDS = 3_600.0  # a host waits seconds, not hours; larger overflows the thread wait


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= MAX_FLUSH_TIMEOUT_SECONDS):
        raise argparse.ArgumentTypeError(
            f"expected a positive number of seconds, at most {MAX_FLUSH_TIMEOUT_SECONDS:g}, got {text!r}"
        )
    return value


_ENVIRONMENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _environment_entry(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not _ENVIRONMENT_NAME.match(name):
        raise argparse.ArgumentTypeError(
            f"expected NAME=VALUE or NAME, where NAME is letters, digits and _ not starting with a digit; got {name!r}"
        )
    if not separator:
        if name not in os.environ:
            raise argparse.ArgumentTypeError(f"{name} is not set in this environment (write {name}=VALUE)")
        value = os.environ[name]
    return name, value


def _nonempty(what: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        if not text.strip() or not text.isprintable():
            raise argparse.ArgumentTypeError(f"expected a non-empty {what} of printable characters")
        return text

    return check


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-otel",
        description="Export the logs MCP servers produce as OpenTelemetry log records over OTLP, "
        "configured by the standard OTEL_* environment variables.",
    )
    parser.add_argument("--version", action="version", version=f"mcp-otel {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="run the bundled example server and export its logs",
        description="Start the bundled example MCP server over stdio, opt in to its logs, call its tool (one "
        "message at each of the eight MCP levels) and export the messages. With no OTEL_EXPORTER_OTLP_ENDPOINT "
        "(or OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, or OTEL_LOGS_EXPORTER) set, the records are printed here, one "
        "per line. Ends with how many records the collector acknowledged; exits 1 unless it acknowledged all.",
    )
    demo.add_argument("--level", default="debug", choices=LEVELS, help="MCP log level to opt in to (default: debug)")
    demo.add_argument(
        "--city", default="Lisbon", type=_nonempty("city"), help="argument passed to the example tool (default: Lisbon)"
    )

    proxy = commands.add_parser(
        "proxy",
        help="run a stdio MCP server behind a transparent relay that exports its logs",
        description="Put this in a host's configuration instead of the server command. The server's traffic "
        "passes through unchanged and its log messages are exported as the OTEL_* variables say.",
    )
    proxy.add_argument(
        "--server-name",
        metavar="NAME",
        type=_nonempty("server name"),
        help="mcp.server.name on every record (default: the name the server reports)",
    )
    proxy.add_argument(
        "--log-level",
        default="debug",
        choices=LEVELS,
        help="level the proxy asks the server for when the host does not ask (default: debug)",
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
        help="also export what the server writes to standard error (which still passes through unchanged)",
    )
    proxy.add_argument(
        "--flush-timeout",
        type=_positive_seconds,
        default=DEFAULT_FLUSH_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help="at most this long to export what is left after the server exited "
        f"(a positive number, at most {MAX_FLUSH_TIMEOUT_SECONDS:g}; default: {DEFAULT_FLUSH_TIMEOUT_SECONDS:g})",
    )
    proxy.add_argument("server_command", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGUMENT ...]")

    host_config = commands.add_parser(
        "host-config",
        help="print (or merge into a file) a host configuration entry that runs a server behind the proxy",
        description="Print the configuration entry a host (Claude Desktop, Cursor, VS Code) needs to run COMMAND "
        "behind 'mcp-otel proxy', with absolute paths to mcp-otel and to the server's program, so that the host "
        "finds both whatever its PATH. With --write, merge it into that file (other servers kept, a .bak copy made).",
    )
    host_config.add_argument(
        "--host", choices=("claude", "cursor", "vscode"), default="claude", help="the file's shape (default: claude)"
    )
    host_config.add_argument(
        "--name", type=_nonempty("name"), help="the server's entry name and mcp.server.name (default: the command's name)"
    )
    host_config.add_argument(
        "--env",
        action="append",
        type=_environment_entry,
        default=[],
        metavar="NAME[=VALUE]",
        help="an environment variable for the server entry, such as OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317; "
        "NAME alone copies its value from this environment (repeatable)",
    )
    host_config.add_argument("--stderr", action="store_true", help="add the proxy's --stderr option")
    host_config.add_argument("--log-level", choices=LEVELS, help="add the proxy's --log-level option")
    host_config.add_argument("--write", type=Path, metavar="FILE", help="merge the entry into this JSON file")
    host_config.add_argument("server_command", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGUMENT ...]")
    return parser


def _command_after_separator(words: Sequence[str]) -> list[str]:
    # argparse keeps the "--" separator in a REMAINDER before Python 3.13.
    return list(words[1:] if words[:1] == ["--"] else words)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _build_parser().parse_args(argv)
    # MCP 2026-07-28 deprecates the logging capability (SEP-2577); using it is this tool's job.
    warnings.filterwarnings("ignore", message=".*logging capability is deprecated")
    try:
        if arguments.command == "demo":
            return _demo(arguments.level, arguments.city)
        if arguments.command == "proxy":
            from mcp_otel.proxy import run_proxy

            return run_proxy(
                _command_after_separator(arguments.server_command),
                server_name=arguments.server_name,
                log_level=arguments.log_level if arguments.log_opt_in else None,
                export_stderr=arguments.export_stderr,
                flush_timeout=arguments.flush_timeout,
            )
        return _host_config(arguments)
    except ConfigurationError as error:
        print(f"mcp-otel: configuration error: {error}", file=sys.stderr)
        return 2


def _demo(level: str, city: str) -> int:
    import anyio

    from mcp_otel.console import terminal_safe
    from mcp_otel.demo import run_demo

    result = anyio.run(run_demo, parse_level(level, "--level"), city)
    print(f"tool result: {terminal_safe(result.tool_text)}")  # the server's text: no raw escapes
    print(f"{result.acknowledged} of {result.sent} records acknowledged by the collector")
    return 0 if result.acknowledged == result.sent else 1


def _default_server_name(words: Sequence[str]) -> str:
    """The module after ``-m``, else the first argument that is a file, else the program: its last part."""
    if "-m" in words[:-1]:
        return words[words.index("-m") + 1].rsplit(".", 1)[-1]
    for word in words[1:]:
        if not word.startswith("-") and Path(word).is_file():
            return Path(word).stem
    return Path(words[0]).stem


def _host_config(arguments: argparse.Namespace) -> int:
    import json

    from mcp_otel.host_config import build_entry, resolve_server_command, write_entry

    words = _command_after_separator(arguments.server_command)
    command = resolve_server_command(words)
    name = arguments.name or _default_server_name(words)
    options = ["--stderr"] if arguments.stderr else []
    if arguments.log_level:
        options += ["--log-level", arguments.log_level]
    configuration = build_entry(arguments.host, name, command, proxy_options=options, environment=dict(arguments.env))
    if arguments.write is None:
        print(json.dumps(configuration, indent=2))
        return 0
    backup = write_entry(arguments.write, configuration)
    saved = f" (the previous file is {backup})" if backup else ""
    print(f"wrote server {name!r} to {arguments.write}{saved}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
