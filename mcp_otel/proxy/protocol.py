"""The proxy's protocol logic, without I/O: the level opt-in, the server's identity, and what each line means.

* :class:`LegacyOptIn` is the opt-in on handshake-era connections, as an explicit state machine
  that owns its two waits (each bounded by ``SET_LEVEL_ANSWER_TIMEOUT_SECONDS``):

  ===================  ==============================================  ======================
  state                entered when                                    the host's next line
  ===================  ==============================================  ======================
  ``IDLE``             start; no ``initialize`` seen                   passes
  ``INITIALIZING``     the host sent ``initialize``                    ``initialized`` waits
                                                                       for the answer
  ``INITIALIZED``      the server answered it                          passes
  ``SET_LEVEL_SENT``   the proxy sent its own ``logging/setLevel``     waits for its answer
                       after the host's ``notifications/initialized``  (once)
  ``DONE``             the answer came, the wait ran out (a late       passes
                       answer is still swallowed), no setLevel was
                       due, or the server's output ended
  ===================  ==============================================  ======================

* :class:`ServerIdentity` learns the server's name, version and protocol version from the
  ``initialize`` answer, or from the ``io.modelcontextprotocol/serverInfo`` that 2026-07-28
  servers stamp on results, and reports them as attributes.
* :class:`ProxyProtocol` decides, for each line, what to forward and what to export. A line is
  parsed only when a substring test says it can matter; a log notification that matters for
  nothing else is forwarded first and parsed later, on the export thread.
* Request attribution (``mcp_otel.attribution``): every host line that names a method is parsed
  and its request (or cancellation) tracked before it reaches the server; a server response ends
  its request (its id is read by a prefix match on the usual ``{"jsonrpc":"2.0","id":...,
  "result"`` spelling, else by parsing the line); each server log line gets the tracker's
  decision as it is relayed, so the export thread applies the request state of that moment.
"""

from __future__ import annotations

import enum
import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from mcp_otel.attributes import server_attributes
from mcp_otel.attribution import LOG_LEVEL_META_KEY, Attribution, RequestTracker
from mcp_otel.levels import LoggingLevel
from mcp_otel.proxy.framing import id_key, mentions, needles, parse, reencode

__all__ = [
    "LOG_LEVEL_META_KEY",
    "LOG_NOTIFICATION",
    "PROTOCOL_VERSION_META_KEY",
    "SERVER_INFO_META_KEY",
    "SET_LEVEL_ANSWER_TIMEOUT_SECONDS",
    "LegacyOptIn",
    "OptInState",
    "ProxyProtocol",
    "ServerIdentity",
    "ServerLine",
]

# Reserved `_meta` keys of MCP 2026-07-28, as mcp 2.x's mcp_types names them. Spelled out because
# mcp 1.x has no such names and the proxy imports no mcp at all (it starts faster without).
PROTOCOL_VERSION_META_KEY = "io.modelcontextprotocol/protocolVersion"
SERVER_INFO_META_KEY = "io.modelcontextprotocol/serverInfo"

# A setLevel is answered at once by any server that declares logging; the bound only keeps a
# broken server from freezing the host's traffic.
SET_LEVEL_ANSWER_TIMEOUT_SECONDS = 2.0

LOG_NOTIFICATION = needles("notifications/message")
_HANDSHAKE_METHODS = needles("initialize", "notifications/initialized")
_ENVELOPE = needles(PROTOCOL_VERSION_META_KEY)
_LOG_LEVEL_KEY = needles(LOG_LEVEL_META_KEY)
_SERVER_INFO = needles("serverInfo", SERVER_INFO_META_KEY)
_RESPONSE_MEMBERS = needles("result", "error")
_METHOD = needles("method")
# A response as the SDKs spell it: the id is the top level's first or second member, so a match
# is exact; any other spelling is parsed.
_RESPONSE_PREFIX = re.compile(
    rb'\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")\s*,\s*"(?:result|error)"\s*:'
)


class OptInState(enum.Enum):
    IDLE = "idle"
    INITIALIZING = "initializing"
    INITIALIZED = "initialized"
    SET_LEVEL_SENT = "set level sent"
    DONE = "done"


class LegacyOptIn:
    """The handshake-era opt-in; see the module docstring's table. Thread-safe."""

    def __init__(
        self,
        level: LoggingLevel | None,
        *,
        timeout_seconds: float = SET_LEVEL_ANSWER_TIMEOUT_SECONDS,
        report: Callable[[str], None] = lambda note: None,
    ) -> None:
        self.level = level
        self.state = OptInState.IDLE if level is not None else OptInState.DONE
        self._timeout = timeout_seconds
        self._report = report
        self._changed = threading.Condition()
        self._initialize_ids: set[tuple[str, Any]] = set()
        self._declares_logging = False
        # A string id with a uuid: hosts number their requests, and none could guess this one.
        self.own_request_id = f"mcp-otel-proxy-{uuid.uuid4().hex}"
        self._own_request_id_bytes = self.own_request_id.encode()
        self._own_answer_due = False

    def _enter(self, state: OptInState) -> None:
        self.state = state
        self._changed.notify_all()

    def initialize_sent(self, request_id: Any) -> None:
        """The host sent ``initialize`` with ``request_id`` (host thread)."""
        key = id_key(request_id)
        with self._changed:
            if key is not None:
                self._initialize_ids.add(key)
                if self.state is OptInState.IDLE:
                    self._enter(OptInState.INITIALIZING)

    def awaits_initialize_answer(self) -> bool:
        return bool(self._initialize_ids)

    def initialize_answered(self, request_id: Any, result: Any) -> bool:
        """The server answered a request; True when it was an ``initialize`` (server thread)."""
        key = id_key(request_id)
        with self._changed:
            if key is None or key not in self._initialize_ids:
                return False
            self._initialize_ids.discard(key)
            capabilities = result.get("capabilities") if isinstance(result, dict) else None
            self._declares_logging = isinstance(capabilities, dict) and capabilities.get("logging") is not None
            if self.state is OptInState.INITIALIZING:
                self._enter(OptInState.INITIALIZED)
            return True

    def before_initialized(self) -> bytes | None:
        """The host is about to send ``notifications/initialized``: the proxy's setLevel line, when due.

        A host that pipelined ``initialized`` before the ``initialize`` answer came is held here
        until it came (the answer says whether the server declares logging).
        """
        with self._changed:
            if self.state is OptInState.INITIALIZING:
                self._changed.wait_for(lambda: self.state is not OptInState.INITIALIZING, self._timeout)
            if self.state not in (OptInState.INITIALIZING, OptInState.INITIALIZED):
                return None
            if not self._declares_logging:
                # The capability is the spec's precondition for logging/setLevel; a server without
                # it (the mcp SDK's own servers, by default) already sends every level unasked.
                self._enter(OptInState.DONE)
                return None
            self._own_answer_due = True
            self._enter(OptInState.SET_LEVEL_SENT)
        request = {"jsonrpc": "2.0", "id": self.own_request_id, "method": "logging/setLevel", "params": {"level": self.level}}
        return json.dumps(request, separators=(",", ":")).encode() + b"\n"

    def before_next_host_line(self) -> None:
        """Hold the host's traffic until the proxy's setLevel was answered, once, for a bounded time."""
        with self._changed:
            if self.state is OptInState.SET_LEVEL_SENT:
                self._changed.wait_for(lambda: self.state is not OptInState.SET_LEVEL_SENT, self._timeout)
                if self.state is OptInState.SET_LEVEL_SENT:
                    self._enter(OptInState.DONE)  # gave up waiting; a late answer is still swallowed

    def own_answer_may_be_in(self, line: bytes) -> bool:
        return self._own_answer_due and self._own_request_id_bytes in line

    def take_own_answer(self, message: Mapping[str, Any]) -> bool:
        """True (and the message is not forwarded) when ``message`` answers the proxy's own request."""
        if not self._own_answer_due or message.get("id") != self.own_request_id:
            return False
        with self._changed:
            self._own_answer_due = False
            self._enter(OptInState.DONE)
        error = message.get("error")
        if error is not None:
            self._report(
                f"the server refused the proxy's logging/setLevel ({json.dumps(error)[:200]}); "
                "it sends the log messages it sends by default"
            )
        return True

    def server_gone(self) -> None:
        """Nothing will answer any more: release every wait."""
        with self._changed:
            self._initialize_ids.clear()
            self._enter(OptInState.DONE)


class ServerIdentity:
    """What the server said about itself, as attributes; ``on_change`` hears each update."""

    def __init__(self, on_change: Callable[[dict[str, Any]], None]) -> None:
        self._on_change = on_change
        self._lock = threading.Lock()
        self.name: str | None = None
        self.version: str | None = None
        self.protocol_version: str | None = None
        self.server_info_known = False

    @property
    def attributes(self) -> dict[str, Any]:
        return server_attributes(
            name=self.name, version=self.version, protocol_version=self.protocol_version, transport="pipe"
        )

    def learn(self, *, server_info: Any = None, protocol_version: Any = None) -> None:
        with self._lock:
            if isinstance(server_info, dict):
                self.server_info_known = True
                if isinstance(server_info.get("name"), str):
                    self.name = server_info["name"]
                if isinstance(server_info.get("version"), str):
                    self.version = server_info["version"]
            if isinstance(protocol_version, str):
                self.protocol_version = protocol_version
            attributes = self.attributes
        self._on_change(attributes)


class ServerLine(NamedTuple):
    """What to do with one line from the server."""

    forward: bytes | None  # None: the answer to the proxy's own request, not for the host
    logs: list[Mapping[str, Any]]  # log notification params already parsed here
    unparsed_log_line: bytes | None  # a log notification line to parse on the export thread
    attribution: Attribution | None = None  # the request tracker's decision for the line's logs
    malformed_logs: int = 0  # log notifications whose params is not an object: counted unparseable


class ProxyProtocol:
    """For each line: what to forward, and which log messages to export. No I/O."""

    def __init__(
        self,
        *,
        log_level: LoggingLevel | None,
        on_identity: Callable[[dict[str, Any]], None],
        report: Callable[[str], None] = lambda note: None,
        set_level_timeout_seconds: float = SET_LEVEL_ANSWER_TIMEOUT_SECONDS,
    ) -> None:
        self.log_level = log_level
        self.opt_in = LegacyOptIn(log_level, timeout_seconds=set_level_timeout_seconds, report=report)
        self.identity = ServerIdentity(on_identity)
        self.tracker = RequestTracker()
        on_identity(self.identity.attributes)

    # ---------------------------------------------------------------- host -> server

    def from_host(self, line: bytes) -> list[bytes]:
        """What to write to the server for one host line: the line (re-encoded only to add the
        2026-07-28 log-level key), then the proxy's own ``logging/setLevel`` when it is due.
        A request (or cancellation) is tracked as the server will receive it."""
        if not mentions(line, _METHOD):
            return [line]  # a response to a server's request: nothing to track or change
        parsed = parse(line)
        forward = self._forward_host_message(parsed, line)
        for message in parsed if isinstance(parsed, list) else [parsed]:
            if isinstance(message, dict):
                self.tracker.sent(message)
        return forward

    def _forward_host_message(self, message: Any, line: bytes) -> list[bytes]:
        if not self._host_line_may_matter(line):
            return [line]
        if not isinstance(message, dict) or not isinstance(message.get("method"), str):
            return [line]
        method = message["method"]
        if method == "initialize":
            self.opt_in.initialize_sent(message.get("id"))
            return [line]
        if method == "notifications/initialized" and "id" not in message:
            own_request = self.opt_in.before_initialized()
            return [line] if own_request is None else [line, own_request]
        return [self._with_log_level(message, line)]

    def _host_line_may_matter(self, line: bytes) -> bool:
        if mentions(line, _HANDSHAKE_METHODS):
            return True
        if not mentions(line, _ENVELOPE):
            return False
        if self.identity.protocol_version is None:
            return True
        return self.log_level is not None and not mentions(line, _LOG_LEVEL_KEY)

    def _with_log_level(self, message: dict[str, Any], line: bytes) -> bytes:
        params = message.get("params")
        meta = params.get("_meta") if isinstance(params, dict) else None
        if not isinstance(meta, dict) or PROTOCOL_VERSION_META_KEY not in meta:
            return line
        # server/discover is the era probe: its version is a proposal, and it emits no logs.
        if message["method"] == "server/discover":
            return line
        version = meta[PROTOCOL_VERSION_META_KEY]
        if isinstance(version, str) and version != self.identity.protocol_version:
            self.identity.learn(protocol_version=version)
        # Notifications (no id) have no log scope; a key the host set is the host's choice.
        if self.log_level is None or "id" not in message or LOG_LEVEL_META_KEY in meta:
            return line
        meta[LOG_LEVEL_META_KEY] = self.log_level
        return reencode(message, line)

    # ---------------------------------------------------------------- server -> host

    def from_server(self, line: bytes) -> ServerLine:
        """What to write to the host for one server line, and the log messages in it."""
        if not self._server_line_needs_parsing(line):
            if mentions(line, LOG_NOTIFICATION):
                return ServerLine(line, [], line, self.tracker.attribute())
            if len(self.tracker) and mentions(line, _RESPONSE_MEMBERS):
                self._track_response(line)
            return ServerLine(line, [], None)
        parsed = parse(line)
        messages = parsed if isinstance(parsed, list) else [parsed]  # a JSON-RPC batch (2025-03-26)
        logs: list[Mapping[str, Any]] = []
        malformed = 0
        forward: bytes | None = line
        for message in messages:
            if not isinstance(message, dict):
                continue
            method = message.get("method")
            if method == "notifications/message":
                params = message.get("params")
                if isinstance(params, Mapping):
                    logs.append(params)
                else:
                    malformed += 1
            elif method is None and "id" in message:
                if message is parsed and self.opt_in.take_own_answer(message):
                    forward = None
                    continue
                self._learn_from_response(message)
        attribution = self.tracker.attribute() if logs or mentions(line, LOG_NOTIFICATION) else None
        for message in messages:  # after the decision: a batch's logs belong to requests it answers
            if isinstance(message, dict):
                self.tracker.received(message)
        if parsed is None and mentions(line, LOG_NOTIFICATION):
            return ServerLine(forward, logs, line, attribution)  # not JSON: the export thread counts it unparseable
        return ServerLine(forward, logs, None, attribution, malformed)

    def _track_response(self, line: bytes) -> None:
        """End the request a response line answers, reading as little of the line as it can."""
        match = _RESPONSE_PREFIX.match(line)
        if match is not None:
            self.tracker.finished(json.loads(match.group(1)))
            return
        parsed = parse(line)
        for message in parsed if isinstance(parsed, list) else [parsed]:
            if isinstance(message, dict):
                self.tracker.received(message)

    def block_needs_reading(self, block: bytes) -> bool:
        """Whether any line of ``block`` (whole lines from the server) must be read before it is
        forwarded; when not, the block goes to the host as it is, and one attribution holds for all
        of its logs (``block_attribution``). The same substring tests as for one line (a needle in
        any line of the block is in the block), plus: a response while requests are tracked, which
        ends a request and so changes the attribution of the lines after it."""
        if self._server_line_needs_parsing(block):
            return True
        return bool(len(self.tracker)) and mentions(block, _RESPONSE_MEMBERS)

    def block_attribution(self) -> Attribution:
        """The attribution of the logs in a block that ``block_needs_reading`` let through."""
        return self.tracker.attribute()

    def _server_line_needs_parsing(self, line: bytes) -> bool:
        """Whether the line can matter for anything but export: the relay must read it before forwarding."""
        if self.opt_in.own_answer_may_be_in(line):
            return True
        if self.opt_in.awaits_initialize_answer() and mentions(line, _RESPONSE_MEMBERS):
            return True
        return not self.identity.server_info_known and mentions(line, _SERVER_INFO)

    def _learn_from_response(self, message: dict[str, Any]) -> None:
        result = message.get("result")
        if self.opt_in.initialize_answered(message.get("id"), result):
            if isinstance(result, dict):
                self.identity.learn(server_info=result.get("serverInfo"), protocol_version=result.get("protocolVersion"))
            return
        # 2026-07-28: servers SHOULD stamp their identity on every result (server/discover's first).
        meta = result.get("_meta") if isinstance(result, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get(SERVER_INFO_META_KEY), dict):
            self.identity.learn(server_info=meta[SERVER_INFO_META_KEY])

    def server_gone(self) -> None:
        self.opt_in.server_gone()
