"""The proxy's threads: relay first, export after, never the other way round.

* **host -> server**: each host line goes to the server at once (``ProxyProtocol.from_host`` may add
  the opt-in); end of the host's input closes the server's input.
* **server -> host**: each server line goes to the host at once; its log messages are handed to the
  export queue afterwards. A line that matters for the protocol (an ``initialize`` answer, the
  answer to the proxy's own request) is parsed before it is forwarded; a log notification is
  forwarded first and parsed on the export thread.
* **standard error** (``--stderr``): every byte goes to the proxy's own standard error first, then
  the line is handed to the export queue.
* **attribution**: the request a log belongs to is decided on the server -> host thread as the
  line is relayed (``mcp_otel.attribution``, a few dictionary lookups), and handed over with it;
  the export thread only applies that decision, so a request answered meanwhile changes nothing.
* **export**: one thread takes what the relays handed over, parses and converts it, and emits it.
  The queue between them is bounded (``MAX_PENDING_EXPORTS`` items, ``MAX_PENDING_EXPORT_BYTES``
  bytes): when it is full the relays do not wait, the item is dropped and counted
  (``dropped["queue_full"]``). A log line that is not JSON is counted as ``dropped["unparseable"]``.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from mcp_otel.attribution import Attribution
from mcp_otel.connection import ConnectionLog
from mcp_otel.errors import ConfigurationError
from mcp_otel.handler import OTelLogHandler
from mcp_otel.levels import LoggingLevel
from mcp_otel.proxy.framing import parse, read_lines, write_all
from mcp_otel.proxy.process import (
    CommandNotStarted,
    exit_status,
    forward_signals,
    say,
    start_server,
    take_protocol_channel,
)
from mcp_otel.proxy.protocol import ProxyProtocol

__all__ = ["DEFAULT_FLUSH_TIMEOUT_SECONDS", "MAX_PENDING_EXPORTS", "ExportQueue", "level_of_stderr_line", "run_proxy"]

# Hosts close the server's input, wait about 2 s, send SIGTERM, wait about 2 s more, then SIGKILL
# (the MCP lifecycle's shutdown order; the mcp Python and TypeScript SDKs both use 2 s steps).
# 3 s lets the proxy finish on its own before the SIGKILL in the worst case.
DEFAULT_FLUSH_TIMEOUT_SECONDS = 3.0
# How long the server's last output may take to reach the host after the server exited (only a
# grandchild still holding the pipe, or a host that stopped reading, makes it run out).
_DRAIN_TIMEOUT_SECONDS = 2.0
MAX_PENDING_EXPORTS = 16_384
MAX_PENDING_EXPORT_BYTES = 32 * 1024 * 1024

ExportKind = Literal["params", "line", "stderr"]


class ExportQueue:
    """The bounded hand-over from the relay threads to the one export thread; see the module docstring."""

    def __init__(self, connection: ConnectionLog) -> None:
        self._connection = connection
        self._items: deque[tuple[ExportKind, Any, int, Attribution | None]] = deque()
        self._bytes = 0
        self._closed = False
        self._condition = threading.Condition()
        self._thread = threading.Thread(target=self._work, name="mcp_otel-proxy-export", daemon=True)
        self._thread.start()

    def put(self, kind: ExportKind, item: Any, size: int, attribution: Attribution | None = None) -> None:
        """Hand over one item (with the attribution decided for its logs); never waits. Dropped and counted when full."""
        with self._condition:
            if len(self._items) < MAX_PENDING_EXPORTS and self._bytes + size <= MAX_PENDING_EXPORT_BYTES:
                self._items.append((kind, item, size, attribution))
                self._bytes += size
                self._condition.notify()
                return
        self._connection.handler._count_dropped("queue_full")

    def close(self, timeout_seconds: float) -> None:
        """Export what is pending (for at most ``timeout_seconds``), then stop the thread."""
        with self._condition:
            self._closed = True
            self._condition.notify()
        self._thread.join(timeout_seconds)

    def _work(self) -> None:
        while True:
            with self._condition:
                while not self._items and not self._closed:
                    self._condition.wait()
                if not self._items:
                    return
                kind, item, size, attribution = self._items.popleft()
                self._bytes -= size
            try:
                self._export(kind, item, attribution)
            except Exception as error:  # the export must go on whatever one item meets
                self._connection.handler._count_internal_error(error)

    def _export(self, kind: ExportKind, item: Any, attribution: Attribution | None) -> None:
        connection = self._connection
        if kind == "params":
            connection.handle(item, attribution)
        elif kind == "line":
            parsed = parse(item)
            messages = parsed if isinstance(parsed, list) else [parsed]
            if parsed is None:
                connection.handler._count_dropped("unparseable")
                return
            for message in messages:
                if isinstance(message, dict) and message.get("method") == "notifications/message":
                    params = message.get("params")
                    if isinstance(params, Mapping):
                        connection.handle(params, attribution)
                    else:
                        connection.handler._count_dropped("unparseable")
        else:
            text = item.decode("utf-8", "replace").rstrip("\r\n")
            if text.strip():
                connection.handler.bind(**{"log.iostream": "stderr"}).handle(
                    {"level": level_of_stderr_line(text), "data": text}
                )


_LEVEL_BY_WORD = {
    "debug": "debug",
    "info": "info",
    "notice": "notice",
    "warn": "warning",
    "warning": "warning",
    "error": "error",
    "critical": "critical",
    "alert": "alert",
    "emergency": "emergency",
}
_WORD = r"([A-Za-z]+)"
_LEADING_LEVEL = re.compile(rf"\s*(?:\[\s*{_WORD}\s*\]|\(\s*{_WORD}\s*\)|{_WORD}(?=[\s:]|$))")


def level_of_stderr_line(text: str) -> str:
    """The MCP level a standard error line states with a leading level word; ``info`` without one."""
    match = _LEADING_LEVEL.match(text)
    if match is None:
        return "info"
    word = next(group for group in match.groups() if group is not None)
    return _LEVEL_BY_WORD.get(word.lower(), "info")


def _relay_host_to_server(protocol: ProxyProtocol, host_fd: int, child_stdin: Any, failures: _OnceReporter) -> None:
    child_fd = child_stdin.fileno()
    try:
        for line in read_lines(host_fd):
            try:
                for piece in failures.call(protocol.from_host, line, [line]):
                    write_all(child_fd, piece)
            except OSError:
                return  # the server closed its input or exited: nothing more can reach it
            protocol.opt_in.before_next_host_line()
    finally:
        try:
            child_stdin.close()  # end of the host's input is end of the server's input
        except OSError:
            pass


def _relay_server_to_host(
    protocol: ProxyProtocol, child_fd: int, host_fd: int, exports: ExportQueue, failures: _OnceReporter
) -> None:
    host_reads = True
    for line in read_lines(child_fd):
        decision = failures.call(protocol.from_server, line, None)
        outgoing = line if decision is None else decision.forward
        if outgoing is not None and host_reads:
            try:
                write_all(host_fd, outgoing)
            except OSError:
                host_reads = False  # the host stopped reading; keep draining so the server never blocks
        if decision is not None:
            for params in decision.logs:
                exports.put("params", params, len(line) // max(len(decision.logs), 1), decision.attribution)
            if decision.unparsed_log_line is not None:
                exports.put("line", decision.unparsed_log_line, len(decision.unparsed_log_line), decision.attribution)
    protocol.server_gone()  # nothing will answer any more: release the other thread if it waits
    try:
        os.close(host_fd)  # end of the server's output is end of the host's input
    except OSError:
        pass


def _relay_stderr(child_fd: int, exports: ExportQueue) -> None:
    for line in read_lines(child_fd):
        try:
            write_all(2, line)  # pass-through first: the host's log must not wait for the export
        except OSError:
            pass
        exports.put("stderr", line, len(line))


class _OnceReporter:
    """Reports an internal failure once (with its kind) and never lets it stop the relay."""

    def __init__(self) -> None:
        self._reported = False

    def call(self, function: Callable[[bytes], Any], line: bytes, fallback: Any) -> Any:
        try:
            return function(line)
        except Exception as error:  # the relay must go on whatever the inspection meets
            if not self._reported:
                self._reported = True
                say(f"inspecting a line failed ({type(error).__name__}); relaying it unchanged")
            return fallback


def _flush_within(handler: OTelLogHandler, seconds: float) -> bool:
    """Export what is left and shut the pipeline down, in at most ``seconds``; whether it finished."""
    deadline = time.monotonic() + max(seconds, 0.0)
    flushed = handler.force_flush(timeout_millis=int(max(seconds, 0.0) * 1000))
    handler.shutdown(timeout_millis=int(max(deadline - time.monotonic(), 0.0) * 1000))
    return flushed


def run_proxy(
    command: Sequence[str],
    *,
    server_name: str | None = None,
    log_level: LoggingLevel | None = "debug",
    export_stderr: bool = False,
    flush_timeout: float = DEFAULT_FLUSH_TIMEOUT_SECONDS,
) -> int:
    """Run ``command`` behind the relay until it exits; return the exit status for the proxy.

    ``log_level=None`` turns the level opt-in off. Meant to be the whole process: it takes over
    descriptor 1 and the SIGTERM, SIGINT and SIGHUP handlers, and when the flush overruns
    ``flush_timeout`` it ends the process itself (``os._exit``) rather than wait for the exporter.
    Returns 2 for a configuration error (before anything is started) and 127 (126) when the
    command cannot be found (run).
    """
    if not command:
        say("no server command: usage is mcp-otel proxy [options] -- COMMAND [ARGUMENT ...]")
        return 2
    host_fd = take_protocol_channel()
    try:
        handler = OTelLogHandler()
    except ConfigurationError as error:
        say(f"configuration error: {error}")
        return 2
    if server_name:
        handler = handler.bind(**{"mcp.server.name": server_name})
    try:
        child = start_server(command, capture_stderr=export_stderr)
    except CommandNotStarted as error:
        say(str(error))
        _flush_within(handler, flush_timeout)
        return error.status
    forward_signals(child)
    connection = ConnectionLog(handler)
    protocol = ProxyProtocol(log_level=log_level, on_identity=connection.learn, report=say)
    exports = ExportQueue(connection)
    failures = _OnceReporter()
    assert child.stdin is not None and child.stdout is not None
    # Daemon threads: the host's input may stay open after the server exited, and the proxy must
    # not wait for it; the threads never hold a lock that interpreter shutdown needs (read_lines).
    threads = [
        threading.Thread(
            target=_relay_host_to_server, args=(protocol, 0, child.stdin, failures), name="host-to-server", daemon=True
        ),
        threading.Thread(
            target=_relay_server_to_host,
            args=(protocol, child.stdout.fileno(), host_fd, exports, failures),
            name="server-to-host",
            daemon=True,
        ),
    ]
    if child.stderr is not None:
        threads.append(threading.Thread(target=_relay_stderr, args=(child.stderr.fileno(), exports), name="stderr", daemon=True))
    for thread in threads:
        thread.start()

    status = exit_status(child.wait())
    deadline = time.monotonic() + _DRAIN_TIMEOUT_SECONDS
    for thread in threads[1:]:
        thread.join(max(deadline - time.monotonic(), 0.0))
    flush_deadline = time.monotonic() + flush_timeout
    exports.close(flush_timeout)
    if not _flush_within(handler, flush_deadline - time.monotonic()):
        say(f"the export pipeline did not finish within {flush_timeout:g} s; exiting without it")
        os._exit(status)  # a stuck exporter must not keep the host waiting, nor an atexit hook
    return status
