"""The proxy's threads: relay first, export after, never the other way round.

* **host -> server**: each host line goes to the server at once (``ProxyProtocol.from_host`` may add
  the opt-in); end of the host's input closes the server's input.
* **server -> host**: what one read brings (whole lines) goes to the host at once, in one write;
  its log messages are handed to the export queue afterwards, in one piece. A block holding a line
  that matters for the protocol (an ``initialize`` answer, the answer to the proxy's own request)
  is read line by line before it is forwarded; log notifications are forwarded first and parsed on
  the export thread.
* **standard error** (``--stderr``): every byte goes to the proxy's own standard error first, as it
  is read (a partial line too), then the complete lines read so far are handed to the export queue
  as one item (a line longer than ``MAX_STDERR_PIECE_BYTES`` in pieces of that size, and an
  unfinished line once nothing more came for ``QUIET_SECONDS``). The export
  thread feeds them to the shared reader (``mcp_otel.stderr_reader``), which turns them into
  records and emits them with the server's identity.
* **attribution**: the request a log belongs to is decided on the server -> host thread as the
  line is relayed (``mcp_otel.attribution``, a few dictionary lookups), and handed over with it;
  the export thread only applies that decision, so a request answered meanwhile changes nothing.
* **export**: one thread takes what the relays handed over, parses and converts it, and emits it.
  The queue between them is bounded (``MAX_PENDING_EXPORTS`` items, ``MAX_PENDING_EXPORT_BYTES``
  bytes): when it is full the relays do not wait, the item is dropped and counted
  (``dropped["queue_full"]``, one per log line, or standard-error line, in what was dropped). A log line that is not JSON is
  counted as ``dropped["unparseable"]``. The export thread runs at a lower OS priority (nice 10) and
  the process's GIL switch interval is 0.1 ms, so a relay thread woken by its read gets a core and
  the GIL within a fraction of a millisecond while the export thread converts a flood: with the
  defaults (5 ms, same priority) a 200k-notification flood took 6.8 s instead of 0.07 s direct,
  and the host's pings 322 ms at p99 (``bench/bench_proxy_flood.py``; the README has the figures).
"""

from __future__ import annotations

import os
import select
import sys
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
from mcp_otel.proxy.framing import lines_of, mentions, parse, read_blocks, read_lines, write_all
from mcp_otel.proxy.process import (
    CommandNotStarted,
    exit_status,
    forward_signals,
    say,
    start_server,
    take_protocol_channel,
)
from mcp_otel.proxy.protocol import LOG_NOTIFICATION, ProxyProtocol
from mcp_otel.stderr_reader import QUIET_SECONDS, StderrReader, fallback_server_name

__all__ = ["DEFAULT_FLUSH_TIMEOUT_SECONDS", "MAX_PENDING_EXPORTS", "MAX_STDERR_PIECE_BYTES", "ExportQueue", "run_proxy"]

# Hosts close the server's input, wait about 2 s, send SIGTERM, wait about 2 s more, then SIGKILL
# (the MCP lifecycle's shutdown order; the mcp Python and TypeScript SDKs both use 2 s steps).
# 3 s lets the proxy finish on its own before the SIGKILL in the worst case.
DEFAULT_FLUSH_TIMEOUT_SECONDS = 3.0
# How long the server's last output may take to reach the host after the server exited (only a
# grandchild still holding the pipe, or a host that stopped reading, makes it run out).
_DRAIN_TIMEOUT_SECONDS = 2.0
MAX_PENDING_EXPORTS = 16_384
MAX_PENDING_EXPORT_BYTES = 32 * 1024 * 1024
SWITCH_INTERVAL_SECONDS = 0.0001
# A standard-error line without a newline is handed over in pieces of this size, so the relay
# holds no more of it; the reader keeps only the start of a line that long anyway.
MAX_STDERR_PIECE_BYTES = 1 << 20
_READ_SIZE = 1 << 16

ExportKind = Literal["params", "lines", "stderr"]


class ExportQueue:
    """The bounded hand-over from the relay threads to the one export thread; see the module docstring."""

    def __init__(self, connection: ConnectionLog, stderr_reader: StderrReader | None = None) -> None:
        self._connection = connection
        self._stderr_reader = stderr_reader
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
        # Each log line of a dropped block is a message that will never be exported; each line of
        # standard error is one (the reader's unit of a record).
        if kind == "lines":
            count = sum(1 for line in lines_of(item) if mentions(line, LOG_NOTIFICATION))
        elif kind == "stderr":
            count = max(item.count(b"\n"), 1)
        else:
            count = 1
        self._connection.handler._count_dropped("queue_full", count)

    def count_unparseable(self, count: int) -> None:
        """Log notifications the relay read and found malformed (their params not an object)."""
        self._connection.handler._count_dropped("unparseable", count)

    def close(self, timeout_seconds: float) -> None:
        """Export what is pending (for at most ``timeout_seconds``), then stop the thread."""
        with self._condition:
            self._closed = True
            self._condition.notify()
        self._thread.join(timeout_seconds)
        if self._stderr_reader is not None and not self._thread.is_alive():
            self._stderr_reader.close()  # the last record, and any held for a name that never came

    def _work(self) -> None:
        # The relays share this process's GIL with this thread, which converts without pause under
        # a flood: a relay thread woken by its read waits for the GIL up to the switch interval
        # (5 ms by default), once per hop, and for a core while this thread has one. A shorter
        # interval and a lower priority for this thread bound both waits (module docstring).
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        except (AttributeError, OSError):
            pass
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

    def _export_line(self, line: bytes, attribution: Attribution | None) -> None:
        connection = self._connection
        parsed = parse(line)
        if parsed is None:
            connection.handler._count_dropped("unparseable")
            return
        for message in parsed if isinstance(parsed, list) else [parsed]:
            if isinstance(message, dict) and message.get("method") == "notifications/message":
                params = message.get("params")
                if isinstance(params, Mapping):
                    connection.handle(params, attribution)
                else:
                    connection.handler._count_dropped("unparseable")

    def _export(self, kind: ExportKind, item: Any, attribution: Attribution | None) -> None:
        connection = self._connection
        if kind == "params":
            connection.handle(item, attribution)
        elif kind == "lines":
            for line in lines_of(item):
                if mentions(line, LOG_NOTIFICATION):
                    self._export_line(line, attribution)
        elif self._stderr_reader is not None:
            self._stderr_reader.feed(item)


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
    for block in read_blocks(child_fd):
        logs: list[tuple[Mapping[str, Any], Attribution | None]] = []
        unparsed: list[tuple[bytes, Attribution | None]] = []
        malformed = 0
        if not failures.call(protocol.block_needs_reading, block, True):
            # The common case, a flood of log notifications included: nothing in these lines
            # matters before they reach the host, so they go at once, in one write, and the log
            # lines in them are handed over in one piece, with one attribution (no response in the
            # block ends a request), to be read on the export thread.
            outgoing = block
            if mentions(block, LOG_NOTIFICATION):
                unparsed.append((block, failures.call(lambda _: protocol.block_attribution(), block, None)))
        else:
            pieces: list[bytes] = []
            for line in lines_of(block):
                decision = failures.call(protocol.from_server, line, None)
                if decision is None:
                    pieces.append(line)
                    continue
                if decision.forward is not None:
                    pieces.append(decision.forward)
                logs.extend((params, decision.attribution) for params in decision.logs)
                malformed += decision.malformed_logs
                if decision.unparsed_log_line is not None:
                    unparsed.append((decision.unparsed_log_line, decision.attribution))
            outgoing = b"".join(pieces)
        if outgoing and host_reads:
            try:
                write_all(host_fd, outgoing)
            except OSError:
                host_reads = False  # the host stopped reading; keep draining so the server never blocks
        for params, attribution in logs:
            exports.put("params", params, len(block) // len(logs), attribution)
        if malformed:
            exports.count_unparseable(malformed)
        for lines, attribution in unparsed:
            exports.put("lines", lines, len(lines), attribution)
    protocol.server_gone()  # nothing will answer any more: release the other thread if it waits
    try:
        os.close(host_fd)  # end of the server's output is end of the host's input
    except OSError:
        pass


def _relay_stderr(child_fd: int, exports: ExportQueue, host_fd: int = 2) -> None:
    host_reads = True
    unfinished = bytearray()  # the start of a line not ended yet: relayed already, handed over once complete
    while True:
        if unfinished and not _readable_within(child_fd, QUIET_SECONDS):
            # A line that stays unfinished (a prompt, a crash mid-write) reaches the reader too,
            # which then takes it as complete after its own quiet period.
            exports.put("stderr", bytes(unfinished), len(unfinished))
            unfinished.clear()
        try:
            data = os.read(child_fd, _READ_SIZE)
        except (InterruptedError, BlockingIOError):
            _readable_within(child_fd, None)
            continue
        except OSError:
            break
        if not data:
            break
        if host_reads:
            try:
                write_all(host_fd, data)  # pass-through first: the host's log must not wait for the export
            except OSError:
                host_reads = False  # keep draining, so the server never blocks on a full pipe
        end = data.rfind(b"\n")
        if end < 0:
            unfinished += data
            if len(unfinished) >= MAX_STDERR_PIECE_BYTES:
                exports.put("stderr", bytes(unfinished), len(unfinished))
                unfinished.clear()
            continue
        if unfinished:
            unfinished += data[: end + 1]
            lines = bytes(unfinished)
            unfinished.clear()
        else:
            lines = data[: end + 1]
        unfinished += data[end + 1 :]
        exports.put("stderr", lines, len(lines))
    if unfinished:
        exports.put("stderr", bytes(unfinished), len(unfinished))


def _readable_within(fd: int, seconds: float | None) -> bool:
    try:
        return bool(select.select([fd], [], [], seconds)[0])
    except (OSError, ValueError):
        return True  # let the read itself report what is wrong


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
    # The stderr reader has its own connection (same handler, same explicit name) that learns the
    # same identity; it holds early records until then (``mcp_otel.stderr_reader``).
    stderr_reader = (
        StderrReader(ConnectionLog(handler), fallback_name=fallback_server_name(command)) if export_stderr else None
    )

    def on_identity(attributes: dict[str, Any]) -> None:
        connection.learn(attributes)
        if stderr_reader is not None:
            stderr_reader.learn(attributes)

    protocol = ProxyProtocol(log_level=log_level, on_identity=on_identity, report=say)
    exports = ExportQueue(connection, stderr_reader)
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
