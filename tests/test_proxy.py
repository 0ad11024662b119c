"""``mcp-otel proxy``: real MCP clients and real stdio servers on either side, a real OTLP receiver.

What each part of the contract (``mcp_otel.proxy``'s docstring) is tested by:

* relay: the same tool results with and without the proxy (mcp's ClientSession, FastMCP's
  Client, mcp 2.x's Client); recorded traffic (``tests/data/proxy_host_session.jsonl``) and a
  fast pipelined stream compared byte for byte with the server run directly, including what the
  server received; 5 MB messages both ways;
* export: the server's logs at the receiver, with the server and connection attributes;
* level opt-in: the legacy path (a server that logs nothing until ``logging/setLevel``) and the
  2026-07-28 path (``_meta`` key), each with and without ``--no-log-opt-in``;
* ``--stderr`` (byte-for-byte pass-through, the shared reader's records, a 100,000-line flood:
  every byte to the host in order, every line exported or dropped and counted), exit statuses,
  forwarded signals, the bounded flush, the child dying with the proxy, a configuration error,
  and nothing but protocol on standard output.

CI runs this file in its newest-mcp environment (the 2026-07-28 path needs mcp 2.x's Client);
the proxy itself only relays bytes and imports no mcp client code. The signal and parent-death
tests are POSIX/Linux facts, like CI's machine.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from mcp_otel.proxy.protocol import SET_LEVEL_ANSWER_TIMEOUT_SECONDS
from tests.conftest import FASTMCP_SERVER, PYTHON, REPOSITORY, SDK_SERVER, SERVERS
from tests.support.otlp_receiver import OTLPReceiver, ReceivedRecord

STRICT_SERVER = str(SERVERS / "strict_logging_server.py")
RECORDED_SESSION = REPOSITORY / "tests" / "data" / "proxy_host_session.jsonl"
PROXY = ["-m", "mcp_otel.cli", "proxy"]
LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
ALL_LEVELS_MESSAGES = [{"level": level, "data": f"at {level}", "logger": "levels"} for level in LEVELS]
FIVE_MEGABYTES = 5 * 1024 * 1024


@pytest.fixture
def grpc_receiver() -> Iterator[OTLPReceiver]:
    """A gRPC receiver with grpcio's default 4 MiB limit on what it accepts, as collectors have."""
    with OTLPReceiver("grpc") as live_receiver:
        yield live_receiver


@pytest.fixture
def http_receiver() -> Iterator[OTLPReceiver]:
    with OTLPReceiver("http/protobuf") as live_receiver:
        yield live_receiver


def _otel_variables(receiver: OTLPReceiver | None, **variables: str) -> dict[str, str]:
    """What the host's config would put in ``env``: where to export (or not to)."""
    exporting = {"OTEL_LOGS_EXPORTER": "none"}
    if receiver is not None:
        exporting = {"OTEL_EXPORTER_OTLP_PROTOCOL": receiver.protocol, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
    return {"OTEL_BLRP_SCHEDULE_DELAY": "50", **exporting, **variables}


def _environment(receiver: OTLPReceiver | None = None, **variables: str) -> dict[str, str]:
    """A full environment for a proxy run with subprocess (the autouse fixture already removed OTEL_*)."""
    return {**os.environ, **_otel_variables(receiver, **variables)}


def _proxied(server_arguments: list[str], *options: str) -> list[str]:
    """The arguments after ``python`` that run ``python <server_arguments>`` behind the proxy."""
    return [*PROXY, *options, "--", PYTHON, *server_arguments]


def _run(arguments: list[str], stdin: bytes, environment: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [PYTHON, *arguments], input=stdin, capture_output=True, env=environment, timeout=60, cwd=REPOSITORY
    )


def _text(result: Any) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


async def _client_session_call(
    server: StdioServerParameters, tool: str, arguments: dict[str, Any]
) -> tuple[Any, Any]:
    """Legacy handshake with mcp's ClientSession; the host never asks for a log level."""
    async with stdio_client(server) as (read_stream, write_stream):
        async with ClientSession(read_stream, write_stream) as session:
            initialize_result = await session.initialize()
            result = await session.call_tool(tool, arguments)
    return initialize_result, result


def _wire(model: Any) -> dict[str, Any]:
    """A result as it was on the wire (mcp 1.x names fields in camelCase, 2.x in snake_case)."""
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


def _by_body(records: list[ReceivedRecord]) -> dict[Any, ReceivedRecord]:
    return {json.dumps(record.body): record for record in records}


# --------------------------------------------------------------------------- real clients


@pytest.mark.anyio
async def test_client_session_gets_the_same_results_and_the_receiver_the_logs(receiver: OTLPReceiver) -> None:
    arguments = {"messages": ALL_LEVELS_MESSAGES}
    direct = StdioServerParameters(command=PYTHON, args=[SDK_SERVER, "sdk-weather"])
    proxied = StdioServerParameters(
        command=PYTHON,
        args=_proxied([SDK_SERVER, "sdk-weather"], "--server-name", "weather-as-configured"),
        env=_otel_variables(receiver),
    )
    direct_initialize, direct_result = await _client_session_call(direct, "send_logs", arguments)
    proxied_initialize, proxied_result = await _client_session_call(proxied, "send_logs", arguments)

    assert _wire(proxied_result) == _wire(direct_result)
    initialize_result = _wire(proxied_initialize)
    assert initialize_result == _wire(direct_initialize)
    records = receiver.wait_for_records(len(LEVELS))
    assert sorted((record.severity_text, record.severity_number) for record in records) == sorted(
        zip(LEVELS, (5, 9, 10, 13, 17, 18, 19, 21), strict=True)
    )
    expected_attributes = {
        "mcp.server.name": "weather-as-configured",  # --server-name wins over the server's own name
        "mcp.protocol.version": initialize_result["protocolVersion"],
        "network.transport": "pipe",
        "mcp_otel.unattributed": "unasked",  # a legacy handshake: no log can be tied to a request for certain
    }
    if initialize_result["serverInfo"]["version"]:  # mcp 2.x's server reports an empty version
        expected_attributes["mcp.server.version"] = initialize_result["serverInfo"]["version"]
    for record in records:
        assert record.body == f"at {record.severity_text}"
        assert record.scope_name == "levels"
        assert record.attributes == expected_attributes


@pytest.mark.anyio
async def test_fastmcp_client_gets_the_same_results_and_the_receiver_the_logs(http_receiver: OTLPReceiver) -> None:
    from fastmcp import Client
    from fastmcp.client.transports import StdioTransport

    messages = [{"msg": f"fast {level}", "level": level, "logger": "fast", "extra": {"n": index}}
                for index, level in enumerate(("debug", "info", "warning", "error"))]

    async def call(transport: StdioTransport) -> Any:
        async with Client(transport) as client:
            return await client.call_tool("log_messages", {"messages": messages})

    direct = await call(StdioTransport(PYTHON, [FASTMCP_SERVER, "fast-weather"], keep_alive=False))
    proxied = await call(
        StdioTransport(PYTHON, _proxied([FASTMCP_SERVER, "fast-weather"]), env=_otel_variables(http_receiver),
                       keep_alive=False)
    )
    assert (_text(proxied), proxied.structured_content) == (_text(direct), direct.structured_content)
    records = _by_body(http_receiver.wait_for_records(len(messages)))
    for index, level in enumerate(("debug", "info", "warning", "error")):
        record = records[json.dumps(f"fast {level}")]
        assert record.severity_text == level
        assert record.attributes["n"] == index
        assert record.attributes["mcp.server.name"] == "fast-weather"  # the server's own name
        assert record.attributes["network.transport"] == "pipe"


@pytest.mark.anyio
@pytest.mark.parametrize("opt_in", [True, False], ids=["opt-in", "no-opt-in"])
async def test_legacy_opt_in_makes_a_strict_server_log(http_receiver: OTLPReceiver, opt_in: bool) -> None:
    # The host never sends logging/setLevel; this server then sends nothing (like the Go SDK's).
    options = [] if opt_in else ["--no-log-opt-in"]
    server = StdioServerParameters(
        command=PYTHON, args=_proxied([STRICT_SERVER], *options), env=_otel_variables(http_receiver)
    )
    initialize_result, result = await _client_session_call(server, "send_logs", {"messages": ALL_LEVELS_MESSAGES})
    if not opt_in:
        assert _text(result) == "sent 0 of 8"
        assert http_receiver.records() == []  # the proxy flushed before it exited: nothing is on its way
        return
    assert _text(result) == "sent 8 of 8"  # the proxy's logging/setLevel debug made the server log
    records = http_receiver.wait_for_records(len(LEVELS))
    assert sorted(record.severity_text for record in records) == sorted(LEVELS)
    assert records[0].attributes == {
        "mcp.server.name": "strict-logging-server",
        "mcp.server.version": "1.2.3",
        "mcp.protocol.version": _wire(initialize_result)["protocolVersion"],
        "network.transport": "pipe",
        "mcp_otel.unattributed": "unasked",  # legacy: the connection opted in, no request did
    }


@pytest.mark.anyio
@pytest.mark.parametrize("opt_in", [True, False], ids=["opt-in", "no-opt-in"])
async def test_modern_opt_in_makes_logs_arrive(http_receiver: OTLPReceiver, opt_in: bool) -> None:
    import mcp  # mcp 2.x: this file runs in CI's newest-mcp environment only

    async def call(server: StdioServerParameters) -> tuple[str | None, Any]:
        # No log_level: on 2026-07-28 this host asks for no logs (tests/test_mcp2_client.py).
        async with mcp.Client(server) as client:
            return client.protocol_version, await client.call_tool("log_all_levels", {"city": "Porto"})

    demo_server = ["-m", "mcp_otel.demo_server", "--name", "weather"]
    direct_version, direct = await call(StdioServerParameters(command=PYTHON, args=demo_server))
    options = [] if opt_in else ["--no-log-opt-in"]
    proxied_version, proxied = await call(
        StdioServerParameters(command=PYTHON, args=_proxied(demo_server, *options), env=_otel_variables(http_receiver))
    )
    assert proxied_version == direct_version == "2026-07-28"
    assert _text(proxied) == _text(direct) == "logged 8 messages for Porto"
    if not opt_in:
        assert http_receiver.records() == []  # the proxy flushed before it exited: nothing is on its way
        return
    records = http_receiver.wait_for_records(len(LEVELS))
    assert sorted(record.severity_text for record in records) == sorted(LEVELS)
    for record in records:
        assert record.body == f"{record.severity_text} report for Porto"
        assert record.attributes["city"] == "Porto"
        # The name from server/discover's serverInfo stamp, the version from the request envelope.
        assert record.attributes["mcp.server.name"] == "weather"
        assert record.attributes["mcp.protocol.version"] == "2026-07-28"
        assert record.attributes["network.transport"] == "pipe"


@pytest.mark.anyio
async def test_five_megabyte_messages_pass_both_ways() -> None:
    text = "é✓" * (FIVE_MEGABYTES // 5) + "end"  # 5 MB of UTF-8, non-ASCII throughout
    server = StdioServerParameters(command=PYTHON, args=_proxied([STRICT_SERVER]), env=_otel_variables(None))
    async with stdio_client(server) as (read_stream, write_stream):
        async with ClientSession(read_stream, write_stream) as session:
            await session.initialize()
            started = time.perf_counter()
            echoed = await session.call_tool("echo", {"text": text})  # a 5 MB request and a 5 MB result
            big = await session.call_tool("big", {"size": FIVE_MEGABYTES})
            elapsed = time.perf_counter() - started
    assert _text(echoed) == text
    assert _text(big) == "x" * FIVE_MEGABYTES
    assert elapsed < 10, f"15 MB through the proxy took {elapsed:.1f} s"  # about 0.4 s here: no stall


# --------------------------------------------------------------------------- bytes


def _records_of(session_bytes: bytes) -> list[bytes]:
    return session_bytes.splitlines(keepends=True)


def _method(line: bytes) -> Any:
    message = json.loads(line)
    return message.get("method") if isinstance(message, dict) else None


def test_recorded_session_passes_byte_for_byte(http_receiver: OTLPReceiver, tmp_path: Path) -> None:
    recorded = RECORDED_SESSION.read_bytes()
    assert b"\r\n" in recorded and not recorded.endswith(b"\n"), "the recording lost its CRLF or unterminated line"
    direct = _run([STRICT_SERVER, "--record", str(tmp_path / "direct.in")], recorded, _environment())
    proxied = _run(
        _proxied([STRICT_SERVER, "--record", str(tmp_path / "proxied.in")], "--no-log-opt-in"),
        recorded,
        _environment(http_receiver),
    )
    assert (direct.returncode, proxied.returncode) == (0, 0), proxied.stderr.decode()
    # What the server received, and what the host received, are the same bytes.
    assert (tmp_path / "proxied.in").read_bytes() == (tmp_path / "direct.in").read_bytes() == recorded
    assert proxied.stdout == direct.stdout
    assert len(_records_of(direct.stdout)) == 13  # answers and the 3 log messages at info and above
    # ... and the log messages the host asked for (info) were exported on the way.
    records = _by_body(http_receiver.wait_for_records(3))
    assert records[json.dumps('café 😀 "quoted" a/b')].scope_name == "wire"
    structured = records[json.dumps("structured")]
    assert structured.severity_text == "warning"
    assert structured.attributes["n"] == "12345678901234567890"  # outside int64: the decimal string
    assert structured.attributes["list"] == [True, None]
    assert records[json.dumps(["array", 1])].severity_number == 21


def test_legacy_opt_in_adds_only_its_request_and_the_logs_it_asked_for(tmp_path: Path) -> None:
    host_level = b'{"jsonrpc":"2.0","id":"host-level","method":"logging/setLevel","params":{"level":"info"}}\n'
    recorded = RECORDED_SESSION.read_bytes().replace(host_level, b"")  # this host never asks for logs
    direct = _run([STRICT_SERVER, "--record", str(tmp_path / "direct.in")], recorded, _environment())
    proxied = _run(
        _proxied([STRICT_SERVER, "--record", str(tmp_path / "proxied.in")], "--log-level", "notice"),
        recorded,
        _environment(),
    )
    assert (direct.returncode, proxied.returncode) == (0, 0), proxied.stderr.decode()
    received = _records_of((tmp_path / "proxied.in").read_bytes())
    own_request = received.pop(2)  # right after the host's notifications/initialized
    assert re.fullmatch(
        rb'\{"jsonrpc":"2.0","id":"mcp-otel-proxy-[0-9a-f]{32}","method":"logging/setLevel",'
        rb'"params":\{"level":"notice"\}\}\n',
        own_request,
    )
    assert b"".join(received) == recorded
    # The host gets every answer the direct run gave, unchanged and in order, none for the
    # proxy's request, plus the log messages at notice and above that the opt-in made the server send.
    proxied_lines = _records_of(proxied.stdout)
    added = [line for line in proxied_lines if _method(line) == "notifications/message"]
    assert [json.loads(line)["params"]["level"] for line in added] == ["warning", "emergency"]
    # (The tool's own answer counts what it sent: that is the server's doing, not the proxy's.)
    expected = direct.stdout.replace(b'"sent 0 of 4"', b'"sent 2 of 4"')
    assert [line for line in proxied_lines if line not in added] == _records_of(expected)
    assert b"mcp-otel-proxy-" not in proxied.stdout


def test_an_unanswered_set_level_is_waited_for_once_not_per_line() -> None:
    host_lines = [
        b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}\n',
        b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n',
        *(b'{"jsonrpc":"2.0","id":%d,"method":"ping"}\n' % number for number in range(2, 6)),
    ]
    started = time.monotonic()
    proxied = _run(_proxied([STRICT_SERVER, "--ignore-set-level"]), b"".join(host_lines), _environment())
    elapsed = time.monotonic() - started
    assert proxied.returncode == 0, proxied.stderr.decode()
    answered_ids = [json.loads(line)["id"] for line in _records_of(proxied.stdout)]
    assert answered_ids == [1, 2, 3, 4, 5]
    # One wait of SET_LEVEL_ANSWER_TIMEOUT_SECONDS in all; waiting per line would take four.
    assert elapsed < 2 * SET_LEVEL_ANSWER_TIMEOUT_SECONDS + 2


def test_fast_pipelined_stream_passes_byte_for_byte(http_receiver: OTLPReceiver) -> None:
    handshake = [
        {"jsonrpc": "2.0", "id": 0, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "fast", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": "level", "method": "logging/setLevel", "params": {"level": "debug"}},
    ]
    logs = [{"level": LEVELS[index % 8], "data": {"msg": f"message {index}", "extra": {"i": index}}}
            for index in range(2000)]
    traffic = [*handshake, *({"jsonrpc": "2.0", "id": index, "method": "ping"} for index in range(1, 3001)),
               {"jsonrpc": "2.0", "id": "logs", "method": "tools/call",
                "params": {"name": "send_logs", "arguments": {"messages": logs}}}]
    stream = b"".join(json.dumps(message).encode() + b"\n" for message in traffic)
    direct = _run([STRICT_SERVER], stream, _environment())
    proxied = _run(_proxied([STRICT_SERVER], "--no-log-opt-in"), stream, _environment(http_receiver))
    assert proxied.returncode == 0, proxied.stderr.decode()
    assert proxied.stdout == direct.stdout
    assert len(_records_of(proxied.stdout)) == 1 + 1 + 3000 + 2000 + 1
    records = http_receiver.wait_for_records(2000)
    assert sorted(record.attributes["i"] for record in records) == list(range(2000))


def test_nothing_the_proxy_prints_reaches_standard_output() -> None:
    # The console exporter writes to the sys.stdout it found at import: here, standard error.
    recorded = RECORDED_SESSION.read_bytes()
    direct = _run([STRICT_SERVER], recorded, _environment())
    console = {**os.environ, "OTEL_LOGS_EXPORTER": "console"}
    proxied = _run(_proxied([STRICT_SERVER], "--no-log-opt-in"), recorded, console)
    assert proxied.returncode == 0, proxied.stderr.decode()
    assert proxied.stdout == direct.stdout
    assert proxied.stderr.count(b'"severity_text": "') == 3  # the console exporter's records


# --------------------------------------------------------------------------- standard error

# (line written, severity number, severity text, scope): the shared reader's reading of each
# (tests/test_stderr_parsing.py holds every format; this is the proxy's route to it).
STDERR_LINES: list[tuple[str, int, str, str]] = [
    ("WARNING:root:disk almost full", 13, "WARNING", "root"),
    ("[error] boom", 17, "error", "mcp_otel"),
    ("Critical: meltdown", 21, "Critical", "mcp_otel"),
    ("plain text line", 9, "", "mcp_otel"),
    ("no newline at the end é", 9, "", "mcp_otel"),
]
STDERR_BODIES = {"WARNING:root:disk almost full": "disk almost full", "[error] boom": "boom", "Critical: meltdown": "meltdown"}


def test_stderr_lines_pass_through_and_are_exported(http_receiver: OTLPReceiver) -> None:
    lines = [line for line, *_ in STDERR_LINES]
    written = "".join(f"{line}\n" for line in lines[:-1]) + "\n" + lines[-1]
    child = f"import sys; sys.stderr.buffer.write({written.encode()!r}); sys.stderr.flush()"
    completed = _run([*PROXY, "--stderr", "--server-name", "noisy", "--", PYTHON, "-c", child], b"",
                     _environment(http_receiver))
    assert completed.returncode == 0
    assert completed.stderr == written.encode()  # passed through unchanged, and nothing else said
    records = {record.body: record for record in http_receiver.wait_for_records(len(STDERR_LINES))}
    assert len(records) == len(STDERR_LINES)  # the blank line is not a record
    for line, number, text, scope in STDERR_LINES:
        record = records[STDERR_BODIES.get(line, line)]
        assert (record.severity_number, record.severity_text, record.scope_name) == (number, text, scope)
        assert record.attributes == {"log.iostream": "stderr", "mcp.server.name": "noisy", "network.transport": "pipe"}


FLOOD_LINES = 100_000
STDERR_FLOOD = (
    "import sys\n"
    "out = sys.stderr.buffer\n"
    f"for start in range(0, {FLOOD_LINES}, 500):\n"
    "    out.write(b''.join(b'2026-07-28 12:00:00,000 INFO flood: line %d\\n' % i for i in range(start, start + 500)))\n"
)
DROP_SUMMARY = re.compile(rb"mcp_otel: (\d+) log record\(s\) dropped so far \([^)\n]*\)[^\n]*\n")


def test_a_stderr_flood_reaches_the_host_whole_and_the_export_counts_what_it_drops(
    http_receiver: OTLPReceiver,
) -> None:
    flood = b"".join(b"2026-07-28 12:00:00,000 INFO flood: line %d\n" % index for index in range(FLOOD_LINES))
    completed = _run([*PROXY, "--stderr", "--server-name", "flood", "--flush-timeout", "120", "--", PYTHON, "-c",
                      STDERR_FLOOD], b"", _environment(http_receiver))
    assert completed.returncode == 0
    # The proxy's own drop summaries share the host's standard error, and the first one is written
    # when the first drop happens: possibly in the middle of a relayed line. Without them, the host
    # got every byte, in order.
    assert DROP_SUMMARY.sub(b"", completed.stderr) == flood
    summaries = DROP_SUMMARY.findall(completed.stderr)
    dropped = int(summaries[-1]) if summaries else 0  # the last summary's total
    records = http_receiver.wait_for_records(FLOOD_LINES - dropped, timeout=120)
    assert len(records) == FLOOD_LINES - dropped  # exported + dropped (counted) = every line
    numbers = [int(str(record.body).rsplit(" ", 1)[1]) for record in records]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    print(f"proxy flood: {len(flood)} bytes relayed, {len(records)} records exported, {dropped} dropped")


# --------------------------------------------------------------------------- exit, signals, flush

SIGNAL_HANDLING_CHILD = """
import signal, sys, time
def stop(number, frame):
    sys.stderr.write(f"got {number}\\n")
    sys.stderr.flush()
    sys.exit(100 + number)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
sys.stderr.write("ready\\n")
sys.stderr.flush()
while True:
    time.sleep(0.05)
"""


@pytest.mark.parametrize(
    ("child", "status"),
    [("import sys; sys.exit(7)", 7), ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", 128 + 9)],
    ids=["exit 7", "killed by SIGKILL"],
)
def test_proxy_exits_with_the_server_status(child: str, status: int) -> None:
    completed = _run([*PROXY, "--", PYTHON, "-c", child], b"", _environment())
    assert completed.returncode == status
    assert completed.stdout == b""


def _start_proxy(arguments: list[str], environment: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PYTHON, *arguments], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=environment, cwd=REPOSITORY,
    )


def _read_stderr_line(process: subprocess.Popen[bytes]) -> bytes:
    assert process.stderr is not None
    return process.stderr.readline()


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signals_reach_the_server(signal_number: int) -> None:
    process = _start_proxy([*PROXY, "--", PYTHON, "-c", SIGNAL_HANDLING_CHILD], _environment())
    try:
        assert _read_stderr_line(process) == b"ready\n"
        process.send_signal(signal_number)  # to the proxy alone, as a host that signals its pid
        assert process.wait(10) == 100 + signal_number  # the server's own status, so it got the signal
        assert _read_stderr_line(process) == f"got {signal_number}\n".encode()
    finally:
        process.kill()
        process.wait()


def test_a_server_killed_by_a_forwarded_sigterm_gives_143() -> None:
    process = _start_proxy(_proxied([STRICT_SERVER]), _environment())
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b'{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
    process.stdin.flush()
    assert process.stdout.readline() == b'{"jsonrpc": "2.0", "id": 1, "result": {}}\n'
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 128 + signal.SIGTERM


def test_host_eof_ends_the_server_and_the_records_are_flushed_before_exit(http_receiver: OTLPReceiver) -> None:
    recorded = RECORDED_SESSION.read_bytes()
    # A batch delay of a minute: only the flush at exit can have sent these records.
    environment = _environment(http_receiver, OTEL_BLRP_SCHEDULE_DELAY="60000")
    completed = _run(_proxied([STRICT_SERVER], "--no-log-opt-in"), recorded, environment)
    assert completed.returncode == 0
    assert len(http_receiver.records()) == 3  # already there when the proxy had exited


def test_flush_is_bounded_when_the_collector_never_answers() -> None:
    with OTLPReceiver("http/protobuf", respond="never") as silent_receiver:
        environment = _environment(silent_receiver, OTEL_BLRP_SCHEDULE_DELAY="60000", OTEL_EXPORTER_OTLP_TIMEOUT="30000")
        started = time.perf_counter()
        completed = _run(
            _proxied([STRICT_SERVER], "--no-log-opt-in", "--flush-timeout", "1"), RECORDED_SESSION.read_bytes(),
            environment,
        )
        elapsed = time.perf_counter() - started
        assert silent_receiver.requests, "the export was attempted"
    assert completed.returncode == 0
    assert b"did not finish within 1 s" in completed.stderr
    assert elapsed < 8, f"the proxy took {elapsed:.1f} s for a 1 s flush bound"  # vs 30 s of OTLP timeout


def _is_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")  # a zombie waiting for its new parent to reap it is dead


def test_the_server_never_outlives_a_killed_proxy() -> None:
    child = "import os, sys, time; sys.stderr.write(f'{os.getpid()}\\n'); sys.stderr.flush(); time.sleep(60)"
    process = _start_proxy([*PROXY, "--", PYTHON, "-c", child], _environment())
    server_pid = int(_read_stderr_line(process))
    assert not _is_gone(server_pid)
    process.kill()  # SIGKILL: the proxy cannot forward anything
    process.wait()
    deadline = time.monotonic() + 5
    while not _is_gone(server_pid):
        assert time.monotonic() < deadline, f"server {server_pid} outlived the proxy"
        time.sleep(0.02)


# --------------------------------------------------------------------------- usage errors


def test_configuration_error_exits_2_before_starting_the_server(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    completed = _run(
        [*PROXY, "--", PYTHON, "-c", f"open({str(marker)!r}, 'w')"], b"",
        _environment(None, OTEL_EXPORTER_OTLP_PROTOCOL="carrier-pigeon", OTEL_LOGS_EXPORTER="otlp"),
    )
    assert completed.returncode == 2
    assert b"OTEL_EXPORTER_OTLP_PROTOCOL" in completed.stderr
    assert completed.stdout == b""
    assert not marker.exists()


@pytest.mark.parametrize(
    ("arguments", "status"),
    [([], 2), (["--"], 2), (["--", "mcp-otel-no-such-server-command"], 127)],
    ids=["no command", "nothing after --", "command not found"],
)
def test_unusable_command(arguments: list[str], status: int) -> None:
    completed = _run([*PROXY, *arguments], b"", _environment())
    assert completed.returncode == status
    assert completed.stdout == b""
    assert completed.stderr.startswith(b"mcp-otel proxy: ")


@pytest.mark.anyio
async def test_a_wide_message_and_near_cap_messages_do_not_sink_their_batch(grpc_receiver: OTLPReceiver) -> None:
    # Issue 11: one 1 MB notification among 40 ordinary ones sank all 41 (gRPC's 4 MiB limit, a
    # batch by count); five ~900 KB records together are over 4 MiB too.
    server = StdioServerParameters(
        command=PYTHON, args=_proxied([SDK_SERVER]), env=_otel_variables(grpc_receiver)
    )
    _, result = await _client_session_call(server, "send_large_logs", {"ordinary": 40, "wide_items": 300_000, "near_cap": 5})
    assert _text(result) == "sent 46"
    records = grpc_receiver.wait_for_records(46, timeout=60)
    by_scope: dict[str, list[ReceivedRecord]] = {}
    for record in records:
        by_scope.setdefault(record.scope_name, []).append(record)
    assert sorted(record.body for record in by_scope["ordinary"]) == sorted(f"ordinary {index}" for index in range(40))
    (wide,) = by_scope["wide"]
    assert wide.body[-1] == "[record size limit]" and len(wide.body) < 300_000  # cut, and marked
    assert wide.attributes["mcp_otel.truncated"] is True
    assert len(by_scope["near-cap"]) == 5
    assert all(len(record.body) == 28 and record.attributes == {"mcp.server.name": "sdk-test-server",
               "mcp.protocol.version": record.attributes["mcp.protocol.version"], "network.transport": "pipe",
               "mcp_otel.unattributed": "unasked"}
               for record in by_scope["near-cap"])
    assert len(grpc_receiver.wait_for_requests(1)) >= 3  # the near-cap records did not fit one request
