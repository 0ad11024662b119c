"""``mcp_otel.proxy.protocol``: the opt-in state machine and the per-line decisions, without processes."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from mcp_otel.proxy.protocol import (
    LOG_LEVEL_META_KEY,
    PROTOCOL_VERSION_META_KEY,
    SERVER_INFO_META_KEY,
    LegacyOptIn,
    OptInState,
    ProxyProtocol,
)

INITIALIZE = b'{"jsonrpc":"2.0","id":7,"method":"initialize","params":{}}\n'
INITIALIZED = b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n'


def _answer(capabilities: dict[str, Any], request_id: int = 7) -> bytes:
    result = {"protocolVersion": "2025-06-18", "capabilities": capabilities, "serverInfo": {"name": "s", "version": "2"}}
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}).encode() + b"\n"


def _protocol(log_level: Any = "debug", timeout: float = 2.0) -> tuple[ProxyProtocol, list[dict[str, Any]]]:
    learnt: list[dict[str, Any]] = []
    return ProxyProtocol(log_level=log_level, on_identity=learnt.append, set_level_timeout_seconds=timeout), learnt


def _modern(method: str, *, request_id: Any = 1, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method,
                               "params": {"_meta": {PROTOCOL_VERSION_META_KEY: "2026-07-28", **(meta or {})}}}
    if request_id is not None:
        message["id"] = request_id
    return message


HOST_LINES: list[tuple[str, Any, str | None, bool]] = [
    # (row id, message from the host, opt-in level, whether the log-level key gets added)
    ("2026-07-28 request without the key", _modern("tools/call"), "debug", True),
    ("2026-07-28 request, opt-in off", _modern("tools/call"), None, False),
    ("2026-07-28 request with the host's own key", _modern("tools/call", meta={LOG_LEVEL_META_KEY: "error"}),
     "debug", False),
    ("server/discover probe", _modern("server/discover"), "debug", False),
    ("2026-07-28 notification", _modern("notifications/cancelled", request_id=None), "debug", False),
    ("legacy request", {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"_meta": {"progressToken": 1}}},
     "debug", False),
]


@pytest.mark.parametrize(("message", "log_level", "gets_key"), [row[1:] for row in HOST_LINES],
                         ids=[row[0] for row in HOST_LINES])
def test_host_line(message: dict[str, Any], log_level: str | None, gets_key: bool) -> None:
    line = json.dumps(message, indent=1).replace("\n", " ").encode() + b"\r\n"  # a spelling of the host's own
    (forwarded,) = _protocol(log_level)[0].from_host(line)
    if not gets_key:
        assert forwarded == line
        return
    assert forwarded.endswith(b"}\r\n")
    expected = json.loads(line)
    expected["params"]["_meta"][LOG_LEVEL_META_KEY] = log_level
    assert json.loads(forwarded) == expected


def test_a_line_that_cannot_be_re_encoded_passes_unchanged() -> None:
    protocol, _ = _protocol()
    protocol.from_host(b'{"jsonrpc":"2.0","id":0,"method":"server/discover","params":{"_meta":{'
                       b'"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}\n')
    huge = (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","arguments":{"x":1e999},'
            b'"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}\n')
    assert protocol.from_host(huge) == [huge]  # 1e999 has no JSON spelling once parsed


# The state machine, row by row (the table in mcp_otel.proxy.protocol's docstring).
def test_state_idle_to_initializing_to_initialized_to_set_level_sent_to_done() -> None:
    protocol, learnt = _protocol("warning")
    assert protocol.opt_in.state is OptInState.IDLE
    assert protocol.from_host(INITIALIZE) == [INITIALIZE]
    assert protocol.opt_in.state is OptInState.INITIALIZING
    answer = _answer({"logging": {}})
    assert protocol.from_server(answer).forward == answer
    assert protocol.opt_in.state is OptInState.INITIALIZED
    forwarded, own_request = protocol.from_host(INITIALIZED)
    assert forwarded == INITIALIZED
    assert protocol.opt_in.state is OptInState.SET_LEVEL_SENT
    request = json.loads(own_request)
    assert (request["method"], request["params"]) == ("logging/setLevel", {"level": "warning"})
    own_answer = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": {}}).encode() + b"\n"
    assert protocol.from_server(own_answer).forward is None  # consumed, never forwarded
    assert protocol.opt_in.state is OptInState.DONE
    assert learnt[-1] == {"mcp.server.name": "s", "mcp.server.version": "2",
                          "mcp.protocol.version": "2025-06-18", "network.transport": "pipe"}


def test_state_initialized_to_done_without_the_logging_capability() -> None:
    protocol, _ = _protocol()
    protocol.from_host(INITIALIZE)
    protocol.from_server(_answer({}))
    assert protocol.from_host(INITIALIZED) == [INITIALIZED]
    assert protocol.opt_in.state is OptInState.DONE


def test_state_set_level_sent_to_done_when_the_wait_runs_out_and_a_late_answer_is_still_swallowed() -> None:
    protocol, _ = _protocol(timeout=0.2)
    protocol.from_host(INITIALIZE)
    protocol.from_server(_answer({"logging": {}}))
    _, own_request = protocol.from_host(INITIALIZED)
    started = time.monotonic()
    protocol.opt_in.before_next_host_line()
    assert 0.15 < time.monotonic() - started < 1.0
    assert protocol.opt_in.state is OptInState.DONE
    started = time.monotonic()
    protocol.opt_in.before_next_host_line()  # waited once: never again
    assert time.monotonic() - started < 0.05
    late = json.dumps({"jsonrpc": "2.0", "id": json.loads(own_request)["id"], "result": {}}).encode() + b"\n"
    assert protocol.from_server(late).forward is None


def test_state_initializing_holds_a_pipelined_initialized_until_the_answer() -> None:
    protocol, _ = _protocol()
    protocol.from_host(INITIALIZE)
    threading.Timer(0.2, protocol.from_server, args=(_answer({"logging": {}}),)).start()
    started = time.monotonic()
    forwarded = protocol.from_host(INITIALIZED)
    assert 0.15 < time.monotonic() - started < 1.5
    assert len(forwarded) == 2  # the answer came: the setLevel request follows


def test_no_log_opt_in_never_holds_a_pipelined_initialized() -> None:
    protocol, _ = _protocol(None)
    protocol.from_host(INITIALIZE)
    started = time.monotonic()
    assert protocol.from_host(INITIALIZED) == [INITIALIZED]  # the initialize answer has not come
    assert time.monotonic() - started < 0.5
    assert protocol.opt_in.state is OptInState.DONE


def test_server_gone_releases_every_wait() -> None:
    opt_in = LegacyOptIn("debug", timeout_seconds=30)
    opt_in.initialize_sent(1)
    threading.Timer(0.1, opt_in.server_gone).start()
    started = time.monotonic()
    assert opt_in.before_initialized() is None
    assert time.monotonic() - started < 5


SERVER_LINES: list[tuple[str, bytes, bool, int, bool]] = [
    # (row id, line, forwarded unchanged, logs parsed here, handed over unparsed)
    ("ordinary result", b'{"jsonrpc":"2.0","id":3,"result":{}}\n', True, 0, False),
    ("log notification: forwarded first, parsed on the export thread",
     b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}\n', True, 0, True),
    ("log notification mentioning serverInfo before the identity is known: parsed here",
     b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"serverInfo"}}\n',
     True, 1, False),
    ("not JSON but mentions notifications/message", b'{"method":"notifications/message", oops\n', True, 0, True),
]


@pytest.mark.parametrize(("line", "forwarded", "parsed_logs", "handed_over"), [row[1:] for row in SERVER_LINES],
                         ids=[row[0] for row in SERVER_LINES])
def test_server_line(line: bytes, forwarded: bool, parsed_logs: int, handed_over: bool) -> None:
    decision = _protocol()[0].from_server(line)
    assert (decision.forward == line) is forwarded
    assert len(decision.logs) == parsed_logs
    assert (decision.unparsed_log_line == line) is handed_over


def test_server_info_stamped_on_a_2026_result_is_learnt() -> None:
    protocol, learnt = _protocol()
    result = {"jsonrpc": "2.0", "id": 2, "result": {"_meta": {SERVER_INFO_META_KEY: {"name": "modern", "version": "9"}}}}
    protocol.from_server(json.dumps(result).encode() + b"\n")
    assert learnt[-1]["mcp.server.name"] == "modern"
    assert learnt[-1]["mcp.server.version"] == "9"


def test_meta_keys_are_mcp_types_own() -> None:
    import mcp_types  # mcp 2.x's own protocol names

    assert (PROTOCOL_VERSION_META_KEY, LOG_LEVEL_META_KEY, SERVER_INFO_META_KEY) == (
        mcp_types.PROTOCOL_VERSION_META_KEY, mcp_types.LOG_LEVEL_META_KEY, mcp_types.SERVER_INFO_META_KEY
    )


def _line(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode() + b"\n"


LOG_LINE = b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}\n'
# (row id, host lines, server lines before the log, expected basis, expected request id)
ATTRIBUTION_ROWS: list[tuple[str, list[bytes], list[bytes], str, Any]] = [
    ("a 2026 request opted in by the proxy is the only one in flight",
     [_line(_modern("tools/call", request_id=5))], [], "only_in_flight", 5),
    ("the host's own opt-in counts the same",
     [_line(_modern("tools/call", request_id="a", meta={LOG_LEVEL_META_KEY: "info"}))], [], "only_in_flight", "a"),
    ("two in flight: ambiguous",
     [_line(_modern("tools/call", request_id=1)), _line(_modern("tools/call", request_id=2))], [], "ambiguous", None),
    ("answered (the usual spelling) leaves",
     [_line(_modern("tools/call", request_id=1)), _line(_modern("tools/call", request_id=2))],
     [b'{"jsonrpc":"2.0","id":1,"result":{"content":[]}}\n'], "only_in_flight", 2),
    ("answered (another spelling, read by parsing) leaves",
     [_line(_modern("tools/call", request_id=1)), _line(_modern("tools/call", request_id=2))],
     [b'{"result": {"id": 2}, "jsonrpc": "2.0", "id": 1}\n'], "only_in_flight", 2),
    ("an error answer with a string id leaves",
     [_line(_modern("tools/call", request_id="x\"y")), _line(_modern("tools/call", request_id=2))],
     [b'{"jsonrpc":"2.0","id":"x\\"y","error":{"code":-32603,"message":"m"}}\n'], "only_in_flight", 2),
    ("cancelled by the host leaves",
     [_line(_modern("tools/call", request_id=1)), _line(_modern("tools/call", request_id=2)),
      _line({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2}})],
     [], "only_in_flight", 1),
    ("a legacy request is not opted in: unasked",
     [_line({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "t"}})], [], "unasked", None),
    ("nothing in flight: unasked", [], [], "unasked", None),
]


@pytest.mark.parametrize(("host_lines", "server_lines", "basis", "request_id"),
                         [row[1:] for row in ATTRIBUTION_ROWS], ids=[row[0] for row in ATTRIBUTION_ROWS])
def test_log_lines_carry_the_attribution_of_the_moment_they_were_relayed(
    host_lines: list[bytes], server_lines: list[bytes], basis: str, request_id: Any
) -> None:
    protocol, _ = _protocol()
    for line in host_lines:
        protocol.from_host(line)
    for line in server_lines:
        protocol.from_server(line)
    decision = protocol.from_server(LOG_LINE)
    assert decision.attribution is not None
    assert decision.attribution.basis == basis
    if request_id is None:
        assert decision.attribution.request is None
    else:
        assert decision.attribution.request is not None and decision.attribution.request.request_id == request_id
    # The decision was taken now: the answer that follows does not change it.
    protocol.from_server(b'{"jsonrpc":"2.0","id":5,"result":{}}\n')
    assert decision.attribution.basis == basis
