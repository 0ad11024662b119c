"""No header value and no endpoint password reaches anything the package or the SDKs print: library, demo, proxy.

Every failure path (refused, TLS mismatch both ways, HTTP 4xx/5xx and gRPC errors from collectors
that echo the token back, hung collectors, header bytes a header cannot carry, bad endpoints), over
both protocols, through each surface a user runs: ``OTelLogHandler()`` built from the environment
(with every logger at DEBUG), ``mcp-otel demo`` and ``mcp-otel proxy``. Every byte of each
process's standard output and standard error is searched for the secret, the password and its
Basic form. (``tests/test_senders.py`` runs the same scenarios one level down, against the senders.)
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.conftest import PYTHON, REPOSITORY, SDK_SERVER
from tests.support.certificates import make_self_signed
from tests.support.faulty_receivers import Answer, faulty_receiver
from tests.support.leaks import SECRET, SECRETS, leak_scenarios
from tests.support.otlp_receiver import OTLPReceiver, free_port

HANDLER_CHILD = r"""
import json, logging, os, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
logging.captureWarnings(True)
from types import SimpleNamespace
from mcp_otel import ConfigurationError, OTelLogHandler
scenario = json.loads(sys.argv[1])
os.environ.update(scenario["environ"])
try:
    handler = OTelLogHandler()
except ConfigurationError as error:
    print("configuration error:", error)
    sys.exit(2)
print(repr(handler))
handler.handle(SimpleNamespace(level="error", logger="leak", data={"msg": "record", "extra": {"n": 1}}))
handler.force_flush(timeout_millis=1_500)
handler.shutdown(timeout_millis=500)
print(json.dumps(handler.stats()))
"""

HOST_SESSION = (
    b'{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},'
    b'"clientInfo":{"name":"host","version":"1"}}}\n'
    b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n'
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"send_logs","arguments":{"messages":'
    b'[{"level":"error","data":"record"}]}}}\n'
)
# The demo and the proxy take longer: one scenario per kind of failure.
SURFACE_SCENARIOS = ("refused, header", "https to plaintext", "http to TLS", "rejecting and echoing",
                     "unavailable and echoing", "header with CR LF", "endpoint with password, no scheme")


@pytest.fixture(params=["grpc", "http/protobuf"])
def scenarios(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[list[dict[str, Any]], Any]]:
    protocol = request.param
    certificates = make_self_signed(tmp_path)
    answers = {
        "unauthenticated": Answer(http_status=401, grpc_code=grpc.StatusCode.UNAUTHENTICATED, echo_authorization=True),
        "unavailable": Answer(http_status=503, grpc_code=grpc.StatusCode.UNAVAILABLE, echo_authorization=True),
        "internal": Answer(http_status=500, grpc_code=grpc.StatusCode.INTERNAL, echo_authorization=True),
        "hung": Answer(hang=True),
    }
    with ExitStack() as stack:
        endpoints = {
            "refused": f"http://127.0.0.1:{free_port()}",
            "plaintext": stack.enter_context(OTLPReceiver(protocol)).endpoint,
            "tls": stack.enter_context(OTLPReceiver(protocol, tls=certificates)).endpoint,
        }
        receivers = {name: stack.enter_context(faulty_receiver(protocol, answer)) for name, answer in answers.items()}
        endpoints.update({name: receiver.endpoint for name, receiver in receivers.items()})
        yield leak_scenarios(protocol, endpoints), receivers["unauthenticated"]


def _environment(scenario: dict[str, Any]) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    environment.update(scenario["environ"], OTEL_BLRP_SCHEDULE_DELAY="50")
    return environment


def _start(arguments: list[str], environment: dict[str, str], stdin: bytes | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [PYTHON, *arguments], cwd=REPOSITORY, env=environment,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def test_no_secret_reaches_any_output(scenarios: tuple[list[dict[str, Any]], Any]) -> None:
    all_scenarios, echoing = scenarios
    started: list[tuple[str, subprocess.Popen[bytes], bytes | None]] = []
    for scenario in all_scenarios:
        environment = _environment(scenario)
        started.append((f"library, {scenario['id']}", _start(["-c", HANDLER_CHILD, json.dumps(scenario)], environment), None))
        if scenario["id"] in SURFACE_SCENARIOS:
            started.append((f"demo, {scenario['id']}", _start(["-m", "mcp_otel", "demo"], environment), None))
            proxy = ["-m", "mcp_otel", "proxy", "--flush-timeout", "1.5", "--", PYTHON, SDK_SERVER]
            started.append((f"proxy, {scenario['id']}", _start(proxy, environment, HOST_SESSION), HOST_SESSION))
    outputs = []
    for name, process, stdin in started:
        stdout, stderr = process.communicate(stdin, timeout=120)
        outputs.append((name, process.returncode, stdout + stderr))
    assert any(SECRET in headers.get("authorization", "") for headers in echoing.received_headers)  # the secret was sent
    for name, returncode, output in outputs:
        for secret in SECRETS:
            assert secret.encode() not in output, (name, secret, output.decode("utf-8", "replace")[-3000:])
        assert b"Traceback" not in output, (name, output.decode("utf-8", "replace")[-3000:])
        assert returncode in (0, 1, 2), (name, returncode)  # 2: configuration error; 1: the demo's collector refused
