"""``mcp-otel proxy``: a transparent stdio wrapper around an MCP server command that exports its logs.

For hosts you cannot add a logging callback to (desktop chat apps, IDEs, agent runners), put
``mcp-otel proxy [options] -- <server command>`` in the host's configuration instead of the
server command. The contract:

* **Relay.** The command runs as the proxy's child. The host's standard input goes to the child
  and the child's standard output to the host, one line at a time (MCP's stdio framing is one
  JSON-RPC message per line): the same bytes, in the same order, nothing added, dropped or
  re-encoded, except what the level opt-in below adds. A line can be of any length; each
  direction runs on its own thread, so neither can stall the other. A line is parsed only when a
  substring check says it can matter (a log notification, the initialize or 2026-07-28
  envelope exchange, the answer to the proxy's own request).
* **Export.** Each ``notifications/message`` from the server also goes to one
  :class:`~mcp_otel.handler.OTelLogHandler`: the library's conversion and ``OTEL_*`` pipeline,
  plus the attributes ``mcp.server.name`` (``--server-name``, else the name the server reports),
  ``mcp.server.version``, ``mcp.protocol.version`` and ``network.transport = "pipe"``.
* **Level opt-in** (on by default, level ``--log-level``, default ``debug``). A 2026-07-28 request
  (one whose ``params._meta`` carries ``io.modelcontextprotocol/protocolVersion``) without
  ``io.modelcontextprotocol/logLevel`` gets that key added; that line alone is re-encoded. After a
  legacy ``initialize`` whose result declares the ``logging`` capability, the proxy sends its own
  ``logging/setLevel`` right after the host's ``notifications/initialized``, under a string id no
  host uses, holds the host's next lines until the server answered it (at most
  ``SET_LEVEL_ANSWER_TIMEOUT_SECONDS``), and never forwards the answer. A level the host asks for
  itself wins: its key is left alone, its ``logging/setLevel`` reaches the server after the
  proxy's. The log notifications this makes the server send reach the host as well. With
  ``--no-log-opt-in`` the proxy is strictly byte-transparent and exports what the host asked for.
* **--stderr.** Each line of the child's standard error is passed through unchanged and also
  exported: Body the line (decoded as UTF-8, newline removed), attribute ``log.iostream =
  "stderr"``, severity from a leading level word (``level_of_stderr_line``), else ``info``.
  Blank lines are not exported.
* **Exit.** The proxy exits with the child's exit status (128 + N when signal N killed it, as a
  shell reports it). SIGTERM, SIGINT and SIGHUP are forwarded to the child; end of the host's
  input closes the child's input. After the child exited, the pipeline is flushed for at most
  ``--flush-timeout`` seconds (default ``DEFAULT_FLUSH_TIMEOUT_SECONDS``); past that, the proxy
  exits anyway and says so on standard error. On Linux the child gets SIGKILL if the proxy itself
  is killed (``PR_SET_PDEATHSIG``); it stays in the proxy's process group, so a host that
  signals the group reaches it directly as well.
* **Standard output is the protocol channel.** The proxy keeps a private duplicate of it and
  points descriptor 1 at standard error before anything else runs, so nothing the proxy, the SDK
  or an exporter prints (``OTEL_LOGS_EXPORTER=console`` included) can reach the host.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from mcp_otel.handler import OTelLogHandler
from mcp_otel.pipeline import ConfigurationError

__all__ = [
    "DEFAULT_FLUSH_TIMEOUT_SECONDS",
    "DEFAULT_LOG_LEVEL",
    "LOG_LEVEL_META_KEY",
    "PROTOCOL_VERSION_META_KEY",
    "SERVER_INFO_META_KEY",
    "SET_LEVEL_ANSWER_TIMEOUT_SECONDS",
    "ProxySession",
    "level_of_stderr_line",
    "run_proxy",
]

# Reserved `_meta` keys of MCP 2026-07-28, as mcp 2.x's mcp_types names them. Spelled out because
# mcp 1.x has no such names and the proxy imports no mcp at all (it starts faster without).
PROTOCOL_VERSION_META_KEY = "io.modelcontextprotocol/protocolVersion"
LOG_LEVEL_META_KEY = "io.modelcontextprotocol/logLevel"
SERVER_INFO_META_KEY = "io.modelcontextprotocol/serverInfo"

DEFAULT_LOG_LEVEL = "debug"
# Hosts close the server's input, wait about 2 s, send SIGTERM, wait about 2 s more, then SIGKILL
# (the MCP lifecycle's shutdown order; the mcp Python and TypeScript SDKs both use 2 s steps).
# 3 s lets the proxy finish on its own before the SIGKILL in the worst case.
DEFAULT_FLUSH_TIMEOUT_SECONDS = 3.0
# A setLevel is answered at once by any server that declares logging; the bound only keeps a
# broken server from freezing the host's traffic.
SET_LEVEL_ANSWER_TIMEOUT_SECONDS = 2.0
# How long the server's last output may take to reach the host after the server exited (only a
# grandchild still holding the pipe, or a host that stopped reading, makes it run out).
_DRAIN_TIMEOUT_SECONDS = 2.0
_READ_SIZE = 1 << 16  # a Linux pipe's capacity; one read never returns more


def _needles(*texts: str) -> tuple[bytes, ...]:
    """The quoted JSON spellings of ``texts`` a line may carry: plain, and with ``\\/`` escapes
    (legal JSON that some encoders, PHP's among them, write for every slash)."""
    spellings: list[bytes] = []
    for text in texts:
        plain = json.dumps(text).encode()
        spellings.append(plain)
        if b"/" in plain:
            spellings.append(plain.replace(b"/", b"\\/"))
    return tuple(spellings)


_LOG_NOTIFICATION = _needles("notifications/message")
_HANDSHAKE_METHODS = _needles("initialize", "notifications/initialized")
_ENVELOPE = _needles(PROTOCOL_VERSION_META_KEY)
_LOG_LEVEL_KEY = _needles(LOG_LEVEL_META_KEY)
_SERVER_INFO = _needles("serverInfo", SERVER_INFO_META_KEY)
_RESPONSE_MEMBERS = _needles("result", "error")


def _mentions(line: bytes, needles: tuple[bytes, ...]) -> bool:
    return any(needle in line for needle in needles)


def _parse(line: bytes) -> Any:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):  # not JSON (UnicodeDecodeError is a ValueError): relay as is
        return None


def _reencode(message: Any, line: bytes) -> bytes:
    """``message`` as one compact JSON line ending the way ``line`` ended."""
    ending = line[len(line.rstrip(b"\r\n")) :]
    try:
        try:
            encoded = json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a "\ud800" escape: keep it escaped
            encoded = json.dumps(message, separators=(",", ":"), allow_nan=False).encode("ascii")
    except ValueError:  # 1e999 parsed as infinity has no JSON spelling: relay the line as it came
        return line
    return encoded + ending


def _id_key(request_id: Any) -> tuple[str, Any] | None:
    """A set key for a JSON-RPC id that keeps 1 and "1" apart; None for what cannot be an id."""
    if isinstance(request_id, (str, int)) and not isinstance(request_id, bool):
        return (type(request_id).__name__, request_id)
    return None


# --------------------------------------------------------------------------- standard error levels

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
# A level word opening the line: in brackets ("[ERROR] x", "(warn) x") or bare and followed by a
# colon, a space or the end ("WARNING:root:x", "info x", "Error: x"). "Information" or "errors"
# are not level words.
_LEADING_LEVEL = re.compile(rf"\s*(?:\[\s*{_WORD}\s*\]|\(\s*{_WORD}\s*\)|{_WORD}(?=[\s:]|$))")


def level_of_stderr_line(text: str) -> str:
    """The MCP level a standard error line states with a leading level word; ``info`` without one."""
    match = _LEADING_LEVEL.match(text)
    if match is None:
        return "info"
    word = next(group for group in match.groups() if group is not None)
    return _LEVEL_BY_WORD.get(word.lower(), "info")


# --------------------------------------------------------------------------- the protocol logic


class ProxySession:
    """The proxy's protocol logic without any I/O: what to forward for each line, what to export.

    ``from_host`` runs on the host-to-server thread, ``from_server`` on the server-to-host thread,
    ``export_stderr_line`` on the standard error thread. What one learns and the other needs is
    ordered by the protocol itself: an id is recorded before its request is forwarded, and an
    answer is read before it is forwarded. The one wait: ``from_host`` holds a
    ``notifications/initialized`` that overtook the initialize answer until that answer came
    (at most ``SET_LEVEL_ANSWER_TIMEOUT_SECONDS``), since the answer decides the opt-in.
    """

    def __init__(
        self,
        handler: OTelLogHandler,
        *,
        server_name: str | None = None,
        log_level: str | None = DEFAULT_LOG_LEVEL,
        report: Callable[[str], None] = lambda note: None,
    ) -> None:
        self._handler = handler
        self._configured_server_name = server_name
        self._log_level = log_level
        self._report = report
        self._lock = threading.Lock()
        self._initialize_ids: set[tuple[str, Any]] = set()
        self._server_name: str | None = None
        self._server_version: str | None = None
        self._protocol_version: str | None = None
        self._server_info_known = False
        self._server_declares_logging = False
        # A string id with a uuid: hosts number their requests, and none could guess this one.
        self._own_request_id = f"mcp-otel-proxy-{uuid.uuid4().hex}"
        self._own_request_id_bytes = self._own_request_id.encode()
        self._own_request_sent = False
        self._own_answer_seen = False
        # Set when the answer came, or when the relay stopped waiting for it (then a late answer
        # is still swallowed, but no further host line waits).
        self.own_request_answered = threading.Event()
        self.initialize_answered = threading.Event()
        self._message_handler = handler
        self._stderr_handler = handler
        self._rebind()

    @property
    def attributes(self) -> dict[str, str]:
        """What every exported record carries about the server and the connection."""
        attributes = {"network.transport": "pipe"}
        name = self._configured_server_name or self._server_name
        if name:
            attributes["mcp.server.name"] = name
        if self._server_version:
            attributes["mcp.server.version"] = self._server_version
        if self._protocol_version:
            attributes["mcp.protocol.version"] = self._protocol_version
        return attributes

    def own_request_pending(self) -> bool:
        """Whether the proxy's logging/setLevel went out and is not answered yet."""
        return self._own_request_sent and not self.own_request_answered.is_set()

    # ----------------------------------------------------------------------- host -> server

    def from_host(self, line: bytes) -> list[bytes]:
        """What to write to the server for one line from the host: the line (re-encoded only to add
        the 2026-07-28 log-level key), then the proxy's own logging/setLevel when it is due."""
        if not self._host_line_may_matter(line):
            return [line]
        message = _parse(line)
        if not isinstance(message, dict) or not isinstance(message.get("method"), str):
            return [line]
        method = message["method"]
        if method == "initialize":
            key = _id_key(message.get("id"))
            if key is not None:
                with self._lock:
                    self._initialize_ids.add(key)
            return [line]
        if method == "notifications/initialized" and "id" not in message:
            # The initialize answer says whether the server declares logging. A host should wait
            # for it before this notification; one that pipelines is held here until it came.
            if self._initialize_ids and self._log_level is not None:
                self.initialize_answered.wait(SET_LEVEL_ANSWER_TIMEOUT_SECONDS)
            own_request = self._own_set_level_request()
            return [line] if own_request is None else [line, own_request]
        return [self._with_log_level(message, line)]

    def _host_line_may_matter(self, line: bytes) -> bool:
        if _mentions(line, _HANDSHAKE_METHODS):
            return True
        if not _mentions(line, _ENVELOPE):
            return False
        if self._protocol_version is None:
            return True
        return self._log_level is not None and not _mentions(line, _LOG_LEVEL_KEY)

    def _with_log_level(self, message: dict[str, Any], line: bytes) -> bytes:
        params = message.get("params")
        meta = params.get("_meta") if isinstance(params, dict) else None
        if not isinstance(meta, dict) or PROTOCOL_VERSION_META_KEY not in meta:
            return line
        # server/discover is the era probe: its version is a proposal, and it emits no logs.
        if message["method"] == "server/discover":
            return line
        version = meta[PROTOCOL_VERSION_META_KEY]
        if isinstance(version, str) and version != self._protocol_version:
            self._learn(protocol_version=version)
        # Notifications (no id) have no log scope; a key the host set is the host's choice.
        if self._log_level is None or "id" not in message or LOG_LEVEL_META_KEY in meta:
            return line
        meta[LOG_LEVEL_META_KEY] = self._log_level
        return _reencode(message, line)

    def _own_set_level_request(self) -> bytes | None:
        with self._lock:
            # The capability is the spec's precondition for logging/setLevel; a server without it
            # (the mcp SDK's own servers, by default) already sends every level unasked.
            if self._log_level is None or not self._server_declares_logging or self._own_request_sent:
                return None
            self._own_request_sent = True
        request = {
            "jsonrpc": "2.0",
            "id": self._own_request_id,
            "method": "logging/setLevel",
            "params": {"level": self._log_level},
        }
        return json.dumps(request, separators=(",", ":")).encode() + b"\n"

    # ----------------------------------------------------------------------- server -> host

    def from_server(self, line: bytes) -> bytes | None:
        """What to write to the host for one line from the server: the line, or None for the answer
        to the proxy's own request. Log notifications are exported on the way."""
        if not self._server_line_may_matter(line):
            return line
        parsed = _parse(line)
        messages = parsed if isinstance(parsed, list) else [parsed]  # a JSON-RPC batch (2025-03-26)
        for message in messages:
            if not isinstance(message, dict):
                continue
            method = message.get("method")
            if method == "notifications/message":
                params = message.get("params")
                if isinstance(params, Mapping):
                    self._message_handler.handle(params)
            elif method is None and "id" in message:
                if message is parsed and self._own_request_sent and message["id"] == self._own_request_id:
                    self._own_answer_seen = True
                    self._own_request_answer(message)
                    return None
                self._learn_from_response(message)
        return line

    def _server_line_may_matter(self, line: bytes) -> bool:
        if _mentions(line, _LOG_NOTIFICATION):
            return True
        if self._own_request_sent and not self._own_answer_seen and self._own_request_id_bytes in line:
            return True
        if self._initialize_ids and _mentions(line, _RESPONSE_MEMBERS):
            return True
        return not self._server_info_known and _mentions(line, _SERVER_INFO)

    def _own_request_answer(self, message: dict[str, Any]) -> None:
        error = message.get("error")
        if error is not None:
            self._report(
                f"the server refused the proxy's logging/setLevel ({json.dumps(error)[:200]}); "
                "it sends the log messages it sends by default"
            )
        self.own_request_answered.set()

    def _learn_from_response(self, message: dict[str, Any]) -> None:
        key = _id_key(message.get("id"))
        with self._lock:
            answers_initialize = key is not None and key in self._initialize_ids
            if answers_initialize:
                self._initialize_ids.discard(key)  # type: ignore[arg-type]
        result = message.get("result")
        if answers_initialize and not isinstance(result, dict):
            self.initialize_answered.set()
        if not isinstance(result, dict):
            return
        if answers_initialize:
            capabilities = result.get("capabilities")
            self._server_declares_logging = isinstance(capabilities, dict) and capabilities.get("logging") is not None
            self._learn(server_info=result.get("serverInfo"), protocol_version=result.get("protocolVersion"))
            self.initialize_answered.set()
            return
        # 2026-07-28: servers SHOULD stamp their identity on every result (server/discover's first).
        meta = result.get("_meta")
        if isinstance(meta, dict) and isinstance(meta.get(SERVER_INFO_META_KEY), dict):
            self._learn(server_info=meta[SERVER_INFO_META_KEY])

    # ----------------------------------------------------------------------- standard error

    def export_stderr_line(self, line: bytes) -> None:
        """Export one line of the server's standard error (blank lines are skipped)."""
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if text.strip():
            self._stderr_handler.handle({"level": level_of_stderr_line(text), "data": text})

    # ----------------------------------------------------------------------- attributes

    def _learn(self, *, server_info: Any = None, protocol_version: Any = None) -> None:
        with self._lock:
            if isinstance(server_info, dict):
                self._server_info_known = True
                if isinstance(server_info.get("name"), str):
                    self._server_name = server_info["name"]
                if isinstance(server_info.get("version"), str):
                    self._server_version = server_info["version"]
            if isinstance(protocol_version, str):
                self._protocol_version = protocol_version
            self._rebind()

    def _rebind(self) -> None:
        # bind() is cheap and shares the pipeline; swapping the reference is atomic for the
        # threads that read it.
        message_handler = self._handler.bind(**self.attributes)
        self._stderr_handler = message_handler.bind(**{"log.iostream": "stderr"})
        self._message_handler = message_handler


# --------------------------------------------------------------------------- I/O


def _say(note: str) -> None:
    """One line for the host's log of the server (standard error, never the protocol channel)."""
    try:
        os.write(2, f"mcp-otel proxy: {note}\n".encode("utf-8", "replace"))
    except OSError:
        pass


def _lines(fd: int) -> Iterator[bytes]:
    """Each line read from ``fd`` with its newline, and at the end an unterminated rest if any.

    Raw ``os.read``, no buffered file object: no length limit (a long line's chunks are joined
    once), and a thread blocked here holds no lock that interpreter shutdown would wait for.
    """
    pending: list[bytes] = []
    while True:
        try:
            chunk = os.read(fd, _READ_SIZE)
        except BlockingIOError:  # a host that handed over a non-blocking pipe: wait for data
            select.select([fd], [], [])
            continue
        except OSError:  # the other end vanished in a way that is not a clean EOF
            chunk = b""
        if not chunk:
            if pending:
                yield b"".join(pending)
            return
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                if start < len(chunk):
                    pending.append(chunk[start:] if start else chunk)
                break
            piece = chunk[start : end + 1]
            if pending:
                pending.append(piece)
                piece = b"".join(pending)
                pending = []
            yield piece
            start = end + 1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


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
                _say(f"inspecting a line failed ({type(error).__name__}: {error}); relaying it unchanged")
            return fallback


def _relay_host_to_server(session: ProxySession, host_fd: int, child_stdin: Any, failures: _OnceReporter) -> None:
    child_fd = child_stdin.fileno()
    try:
        for line in _lines(host_fd):
            try:
                for piece in failures.call(session.from_host, line, [line]):
                    _write_all(child_fd, piece)
            except OSError:
                return  # the server closed its input or exited: nothing more can reach it
            if session.own_request_pending() and not session.own_request_answered.wait(SET_LEVEL_ANSWER_TIMEOUT_SECONDS):
                session.own_request_answered.set()  # waited once; later lines do not wait again
    finally:
        try:
            child_stdin.close()  # end of the host's input is end of the server's input
        except OSError:
            pass


def _relay_server_to_host(session: ProxySession, child_fd: int, host_fd: int, failures: _OnceReporter) -> None:
    host_reads = True
    for line in _lines(child_fd):
        outgoing = failures.call(session.from_server, line, line)
        if outgoing is None or not host_reads:
            continue
        try:
            _write_all(host_fd, outgoing)
        except OSError:
            host_reads = False  # the host stopped reading; keep draining so the server never blocks
    # Nothing will answer any more: release the other thread if it waits for an answer.
    session.initialize_answered.set()
    session.own_request_answered.set()
    try:
        os.close(host_fd)  # end of the server's output is end of the host's input
    except OSError:
        pass


def _relay_stderr(session: ProxySession, child_fd: int, failures: _OnceReporter) -> None:
    for line in _lines(child_fd):
        try:
            _write_all(2, line)  # pass-through first: the host's log must not wait for the export
        except OSError:
            pass
        failures.call(session.export_stderr_line, line, None)


def _take_protocol_channel() -> int:
    """A private descriptor for standard output; descriptor 1 then points at standard error.

    Whatever else in this process writes to descriptor 1 (``print``, the console exporter, whose
    default stream was bound at import, a C library) lands on standard error instead of
    corrupting the protocol. ``os.dup`` descriptors are not inherited, so the child never gets it.
    """
    try:
        sys.stdout.flush()
    except (AttributeError, OSError, ValueError):
        pass
    protocol_fd = os.dup(1)
    try:
        os.dup2(2, 1)
    except OSError:  # no standard error at all: discard instead
        null_fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null_fd, 1)
        os.close(null_fd)
    return protocol_fd


# Linux: exec the server through a few lines that ask the kernel to SIGKILL it when the proxy
# dies (prctl PR_SET_PDEATHSIG = 1), so a proxy killed with SIGKILL leaves no server behind.
# Not a preexec_fn: after fork, a preexec_fn runs the SDK's at-fork hooks (the batch processor
# starts a thread in the child) in a process that already has gRPC and exporter threads.
_EXEC_WITH_PARENT_DEATH_SIGNAL = """\
import os, signal, sys
# Python ignores these two at startup, and an ignored signal stays ignored across exec.
for name in ("SIGPIPE", "SIGXFSZ"):
    signal.signal(getattr(signal, name), signal.SIG_DFL)
try:
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
except Exception:
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit(1)
try:
    os.execv(sys.argv[2], sys.argv[3:])
except OSError as error:
    sys.stderr.write(f"mcp-otel proxy: cannot start {sys.argv[3]!r}: {error.strerror}\\n")
    sys.exit(126 if isinstance(error, PermissionError) else 127)
"""


def _child_arguments(executable: str, command: Sequence[str]) -> list[str]:
    if sys.platform.startswith("linux") and sys.executable:
        # -I -S: no environment, user site or site import; the start costs about 30 ms.
        wrapper = [sys.executable, "-I", "-S", "-c", _EXEC_WITH_PARENT_DEATH_SIGNAL, str(os.getpid())]
        return [*wrapper, executable, *command]
    return [executable, *command[1:]]


def _exit_status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _flush_within(handler: OTelLogHandler, seconds: float) -> bool:
    """Export what is left and shut the pipeline down, in at most ``seconds``; whether it finished.

    Both handler calls are bounded themselves (the SDK's own flush ignores its timeout,
    opentelemetry-python#4568, and an exporter may retry for OTEL_EXPORTER_OTLP_TIMEOUT).
    """
    deadline = time.monotonic() + max(seconds, 0.0)
    flushed = handler.force_flush(timeout_millis=int(max(seconds, 0.0) * 1000))
    handler.shutdown(timeout_millis=int(max(deadline - time.monotonic(), 0.0) * 1000))
    return flushed


def run_proxy(
    command: Sequence[str],
    *,
    server_name: str | None = None,
    log_level: str | None = DEFAULT_LOG_LEVEL,
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
        _say("no server command: usage is mcp-otel proxy [options] -- COMMAND [ARGUMENT ...]")
        return 2
    host_fd = _take_protocol_channel()
    try:
        handler = OTelLogHandler()
    except ConfigurationError as error:
        _say(f"configuration error: {error}")
        return 2
    executable = shutil.which(command[0])
    if executable is None:
        _say(f"cannot start {command[0]!r}: command not found")
        _flush_within(handler, flush_timeout)
        return 127
    try:
        child = subprocess.Popen(
            _child_arguments(executable, command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if export_stderr else None,
            bufsize=0,
        )
    except OSError as error:
        _say(f"cannot start {command[0]!r}: {error.strerror or error}")
        _flush_within(handler, flush_timeout)
        return 126 if isinstance(error, PermissionError) else 127

    def forward(signal_number: int, frame: Any) -> None:
        try:
            child.send_signal(signal_number)
        except (OSError, ValueError):
            pass  # already gone, or a signal this platform cannot send (Windows sends only SIGTERM)

    for name in ("SIGTERM", "SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), forward)

    session = ProxySession(handler, server_name=server_name, log_level=log_level, report=_say)
    failures = _OnceReporter()
    assert child.stdin is not None and child.stdout is not None
    # Daemon threads: the host's input may stay open after the server exited, and the proxy must
    # not wait for it; the threads never hold a lock that interpreter shutdown needs (_lines).
    to_server = threading.Thread(
        target=_relay_host_to_server, args=(session, 0, child.stdin, failures), name="host-to-server", daemon=True
    )
    to_host = threading.Thread(
        target=_relay_server_to_host,
        args=(session, child.stdout.fileno(), host_fd, failures),
        name="server-to-host",
        daemon=True,
    )
    threads = [to_server, to_host]
    if child.stderr is not None:
        threads.append(
            threading.Thread(
                target=_relay_stderr, args=(session, child.stderr.fileno(), failures), name="stderr", daemon=True
            )
        )
    for thread in threads:
        thread.start()

    status = _exit_status(child.wait())
    for thread in threads[1:]:
        thread.join(_DRAIN_TIMEOUT_SECONDS)
    if not _flush_within(handler, flush_timeout):
        _say(f"the export pipeline did not finish within {flush_timeout:g} s; exiting without it")
        os._exit(status)  # a stuck exporter must not keep the host waiting, nor the SDK's atexit hook
    return status
