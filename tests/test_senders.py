"""``mcp_otel.senders``: each row of the outcome table against a real receiver, over both protocols.

Receivers are real servers on the loopback interface (``tests.support.otlp_receiver`` for plain
and TLS collectors, ``tests.support.faulty_receivers`` for scripted errors, throttling, partial
success, silence and a gRPC server with a small message limit). The secret-leak test runs the
failing exports in a child process and reads every byte of its standard error and every
``logging`` record.
"""

from __future__ import annotations

import email.utils
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry._logs import LogRecord
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import ConsoleLogRecordExporter
from opentelemetry.sdk.resources import Resource

from mcp_otel.errors import ConfigurationError
from mcp_otel.senders import Sender, SendOutcome, build_other_exporters, build_senders, encoded_size
from mcp_otel.settings import read_export_settings
from tests.conftest import REPOSITORY
from tests.support.certificates import make_self_signed
from tests.support.faulty_receivers import Answer, faulty_receiver
from tests.support.leaks import BASIC, PASSWORD, SECRET, SECRETS, leak_scenarios
from tests.support.otlp_receiver import OTLPReceiver, free_port

PROTOCOLS = ["grpc", "http/protobuf"]
_RESOURCE = Resource.create({"service.name": "senders-test"})


def _batch(count: int = 3, body_size: int = 10) -> list[ReadableLogRecord]:
    return [
        ReadableLogRecord(log_record=LogRecord(body=f"record {index} " + "x" * body_size), resource=_RESOURCE)
        for index in range(count)
    ]


@contextmanager
def _sender(protocol: str, endpoint: str, **variables: str) -> Iterator[Sender]:
    settings = read_export_settings(
        {"OTEL_EXPORTER_OTLP_PROTOCOL": protocol, "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, **variables}
    )
    (sender,) = build_senders(settings)
    try:
        yield sender
    finally:
        sender.shutdown()


# --------------------------------------------------------------------------- the outcome table


@contextmanager
def _nothing_listening(protocol: str) -> Iterator[str]:
    yield f"http://127.0.0.1:{free_port()}"


def _scripted(answer: Answer, **options: Any) -> Callable[[str], AbstractContextManager[str]]:
    @contextmanager
    def start(protocol: str) -> Iterator[str]:
        with faulty_receiver(protocol, answer, **options) as receiver:  # type: ignore[arg-type]
            yield receiver.endpoint

    return start


def _http_date_in(seconds: float) -> str:
    return email.utils.formatdate(time.time() + seconds, usegmt=True)


OK = SendOutcome(True, False, None, False, None, 0)

# id, protocols, receiver, timeout, expected fields, words the cause holds
OUTCOME_ROWS: list[tuple[str, list[str], Callable[[str], AbstractContextManager[str]], float, dict[str, Any], str]] = [
    ("acknowledged", PROTOCOLS, _scripted(Answer()), 5, OK._asdict(), ""),
    (
        "partial success",
        PROTOCOLS,
        _scripted(Answer(rejected_log_records=2)),
        5,
        {"delivered": True, "retryable": False, "partial_rejected": 2},
        "rejected 2 of 3",
    ),
    (
        "partial success claiming more than sent",
        PROTOCOLS,
        _scripted(Answer(rejected_log_records=99)),
        5,
        {"delivered": True, "partial_rejected": 3},
        "rejected 3 of 3",
    ),
    (
        "connection refused",
        PROTOCOLS,
        _nothing_listening,
        5,
        {"delivered": False, "retryable": True},
        "connection refused",
    ),
    (
        "hung collector",
        PROTOCOLS,
        _scripted(Answer(hang=True)),
        0.5,
        {"delivered": False, "retryable": True},
        "no answer within 0.5 s",
    ),
    (
        "HTTP 429 Retry-After seconds",
        ["http/protobuf"],
        _scripted(Answer(http_status=429, http_headers=(("Retry-After", "7"),))),
        5,
        {"delivered": False, "retryable": True, "retry_after_seconds": 7.0, "too_large": False},
        "HTTP 429 Too Many Requests",
    ),
    (
        "HTTP 503 Retry-After beyond an hour is clamped",
        ["http/protobuf"],
        _scripted(Answer(http_status=503, http_headers=(("Retry-After", "86400"),))),
        5,
        {"retryable": True, "retry_after_seconds": 3600.0},
        "HTTP 503 Service Unavailable",
    ),
    (
        "HTTP 503",
        ["http/protobuf"],
        _scripted(Answer(http_status=503)),
        5,
        {"delivered": False, "retryable": True, "retry_after_seconds": None},
        "HTTP 503 Service Unavailable",
    ),
    ("HTTP 502", ["http/protobuf"], _scripted(Answer(http_status=502)), 5, {"retryable": True}, "HTTP 502 Bad Gateway"),
    (
        "HTTP 504",
        ["http/protobuf"],
        _scripted(Answer(http_status=504)),
        5,
        {"retryable": True},
        "HTTP 504 Gateway Timeout",
    ),
    (
        "HTTP 429 unparsable Retry-After",
        ["http/protobuf"],
        _scripted(Answer(http_status=429, http_headers=(("Retry-After", "soon"),))),
        5,
        {"retryable": True, "retry_after_seconds": None},
        "HTTP 429",
    ),
    (
        "HTTP 413",
        ["http/protobuf"],
        _scripted(Answer(http_status=413)),
        5,
        {"delivered": False, "retryable": False, "too_large": True},
        "HTTP 413",
    ),
    (
        "HTTP 400",
        ["http/protobuf"],
        _scripted(Answer(http_status=400)),
        5,
        {"retryable": False, "too_large": False},
        "HTTP 400 Bad Request",
    ),
    (
        "HTTP 401",
        ["http/protobuf"],
        _scripted(Answer(http_status=401)),
        5,
        {"retryable": False},
        "HTTP 401 Unauthorized",
    ),
    (
        "HTTP 500",
        ["http/protobuf"],
        _scripted(Answer(http_status=500)),
        5,
        {"retryable": False},
        "HTTP 500 Internal Server Error",
    ),
    (
        "HTTP 307 is not followed",
        ["http/protobuf"],
        _scripted(Answer(http_status=307, http_headers=(("Location", "http://127.0.0.1:9/v1/logs"),))),
        5,
        {"delivered": False, "retryable": False},
        "redirects are not followed",
    ),
    (
        "gRPC UNAVAILABLE with RetryInfo",
        ["grpc"],
        _scripted(Answer(grpc_code=grpc.StatusCode.UNAVAILABLE, retry_delay_seconds=3)),
        5,
        {"delivered": False, "retryable": True, "retry_after_seconds": 3.0},
        "gRPC UNAVAILABLE",
    ),
    (
        "gRPC UNAVAILABLE",
        ["grpc"],
        _scripted(Answer(grpc_code=grpc.StatusCode.UNAVAILABLE)),
        5,
        {"retryable": True, "retry_after_seconds": None},
        "gRPC UNAVAILABLE",
    ),
    (
        "gRPC RESOURCE_EXHAUSTED with RetryInfo",
        ["grpc"],
        _scripted(Answer(grpc_code=grpc.StatusCode.RESOURCE_EXHAUSTED, retry_delay_seconds=2.5)),
        5,
        {"delivered": False, "retryable": True, "retry_after_seconds": 2.5, "too_large": False},
        "gRPC RESOURCE_EXHAUSTED",
    ),
    (
        "gRPC RESOURCE_EXHAUSTED without RetryInfo",
        ["grpc"],
        _scripted(Answer(grpc_code=grpc.StatusCode.RESOURCE_EXHAUSTED)),
        5,
        {"retryable": False, "retry_after_seconds": None, "too_large": False},
        "gRPC RESOURCE_EXHAUSTED",
    ),
    (
        "gRPC message larger than the server's max",
        ["grpc"],
        _scripted(Answer(), max_receive_message_length=1024),
        5,
        {"delivered": False, "retryable": False, "too_large": True},
        "larger than the limit",
    ),
    (
        "gRPC ABORTED",
        ["grpc"],
        _scripted(Answer(grpc_code=grpc.StatusCode.ABORTED)),
        5,
        {"retryable": True},
        "gRPC ABORTED",
    ),
    (
        "gRPC DATA_LOSS",
        ["grpc"],
        _scripted(Answer(grpc_code=grpc.StatusCode.DATA_LOSS)),
        5,
        {"retryable": True},
        "gRPC DATA_LOSS",
    ),
    (
        "gRPC INVALID_ARGUMENT",
        ["grpc"],
        _scripted(Answer(grpc_code=grpc.StatusCode.INVALID_ARGUMENT)),
        5,
        {"retryable": False},
        "gRPC INVALID_ARGUMENT",
    ),
    (
        "gRPC UNAUTHENTICATED",
        ["grpc"],
        _scripted(Answer(grpc_code=grpc.StatusCode.UNAUTHENTICATED)),
        5,
        {"retryable": False},
        "gRPC UNAUTHENTICATED",
    ),
]

OUTCOME_CASES = [
    pytest.param(protocol, start, timeout, expected, words, id=f"{row_id} ({protocol})")
    for row_id, protocols, start, timeout, expected, words in OUTCOME_ROWS
    for protocol in protocols
]


@pytest.mark.parametrize(("protocol", "start", "timeout", "expected", "words"), OUTCOME_CASES)
def test_outcome(
    protocol: str,
    start: Callable[[str], AbstractContextManager[str]],
    timeout: float,
    expected: dict[str, Any],
    words: str,
) -> None:
    batch = _batch(3, body_size=2000)  # over the 1024-byte limit of the "larger than max" receiver
    with start(protocol) as endpoint, _sender(protocol, endpoint) as sender:
        outcome = sender.send(batch, timeout)
    assert {name: getattr(outcome, name) for name in expected} == expected, outcome
    if words:
        assert outcome.cause is not None and words in outcome.cause, outcome
        assert sender.destination in outcome.cause
    else:
        assert outcome.cause is None


def test_retry_after_as_http_date() -> None:
    answer = Answer(http_status=429, http_headers=(("Retry-After", _http_date_in(30)),))
    with faulty_receiver("http/protobuf", answer) as receiver, _sender("http/protobuf", receiver.endpoint) as sender:
        outcome = sender.send(_batch(), 5)
    assert outcome.retryable
    # An HTTP-date has whole seconds, and the send itself takes a moment.
    assert outcome.retry_after_seconds is not None and 25 <= outcome.retry_after_seconds <= 30


TLS_ROWS = [
    # id, server TLS, client scheme, trust the CA, expected fields, words
    (
        "https to a plaintext collector",
        False,
        "https",
        True,
        {"delivered": False, "retryable": False},
        "TLS handshake failed: wrong version number",
    ),
    (
        "untrusted certificate",
        True,
        "https",
        False,
        {"delivered": False, "retryable": False},
        "TLS handshake failed: certificate verify failed",
    ),
    ("trusted certificate", True, "https", True, {"delivered": True}, ""),
    ("http to a TLS collector", True, "http", True, {"delivered": False, "retryable": True}, "connection closed"),
]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    ("server_tls", "scheme", "trusted", "expected", "words"),
    [row[1:] for row in TLS_ROWS],
    ids=[row[0] for row in TLS_ROWS],
)
def test_tls_outcome(
    protocol: str,
    server_tls: bool,
    scheme: str,
    trusted: bool,
    expected: dict[str, Any],
    words: str,
    tmp_path: Path,
) -> None:
    certificates = make_self_signed(tmp_path)
    variables = {"OTEL_EXPORTER_OTLP_CERTIFICATE": certificates.ca_path} if trusted else {}
    with OTLPReceiver(protocol, tls=certificates if server_tls else None) as receiver:  # type: ignore[arg-type]
        with _sender(protocol, f"{scheme}://127.0.0.1:{receiver.port}", **variables) as sender:
            outcome = sender.send(_batch(), 5)
    assert {name: getattr(outcome, name) for name in expected} == expected, outcome
    if words:
        assert outcome.cause is not None and words in outcome.cause, outcome
    else:
        assert outcome.cause is None and [record.body for record in receiver.records()] == [
            record.log_record.body for record in _batch()
        ]


# --------------------------------------------------------------------------- what goes on the wire

DELIVERED_HEADER_ROWS = [
    # id, OTEL_EXPORTER_OTLP_HEADERS, the headers the collector must see
    (
        "encoded punctuation",
        "authorization=Bearer%20abc%3Bdef%2C%22q%22%5C,x-tenant=acme=1",
        {"authorization": 'Bearer abc;def,"q"\\', "x-tenant": "acme=1"},
    ),
    ("raw space, upper-case key", "X-Api-Key=two words", {"x-api-key": "two words"}),
    ("percent sign itself", "x-ratio=100%25", {"x-ratio": "100%"}),
    (
        "every printable ASCII",
        "x-all=" + "".join(f"%{code:02X}" for code in range(0x21, 0x7F)),
        {"x-all": "".join(map(chr, range(0x21, 0x7F)))},
    ),
]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    ("headers", "seen"), [row[1:] for row in DELIVERED_HEADER_ROWS], ids=[row[0] for row in DELIVERED_HEADER_ROWS]
)
def test_header_is_delivered_exactly_as_written(protocol: str, headers: str, seen: dict[str, str]) -> None:
    with OTLPReceiver(protocol) as receiver:  # type: ignore[arg-type]
        with _sender(protocol, receiver.endpoint, OTEL_EXPORTER_OTLP_HEADERS=headers) as sender:
            assert sender.send(_batch(), 5) == OK
        (request,) = receiver.wait_for_requests(1)
    assert {name: request.headers.get(name) for name in seen} == seen


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_endpoint_credentials_arrive_as_basic_authorization(protocol: str) -> None:
    with OTLPReceiver(protocol) as receiver:  # type: ignore[arg-type]
        with _sender(protocol, f"http://user:{PASSWORD}@127.0.0.1:{receiver.port}") as sender:
            assert sender.send(_batch(), 5) == OK
            assert PASSWORD not in sender.destination
        (request,) = receiver.wait_for_requests(1)
    assert request.headers["authorization"] == f"Basic {BASIC}"


@pytest.mark.parametrize(
    ("protocol", "compression"), [("grpc", "gzip"), ("http/protobuf", "gzip"), ("http/protobuf", "deflate")]
)
def test_compression(protocol: str, compression: str) -> None:
    with OTLPReceiver(protocol) as receiver:  # type: ignore[arg-type]
        with _sender(protocol, receiver.endpoint, OTEL_EXPORTER_OTLP_COMPRESSION=compression) as sender:
            assert sender.send(_batch(), 5) == OK
        (request,) = receiver.wait_for_requests(1)
    assert len(receiver.records()) == 3
    if protocol == "http/protobuf":  # grpcio decompresses before the servicer sees the call
        assert request.compression == compression


def test_requests_ca_bundle_does_not_replace_the_configured_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    collector = make_self_signed(tmp_path / "collector")
    unrelated = make_self_signed(tmp_path / "unrelated")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", unrelated.ca_path)  # psf/requests#3829
    with OTLPReceiver("http/protobuf", tls=collector) as receiver:
        with _sender("http/protobuf", receiver.endpoint, OTEL_EXPORTER_OTLP_CERTIFICATE=collector.ca_path) as sender:
            assert sender.send(_batch(), 5) == OK


def test_requests_ca_bundle_applies_without_a_configured_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    collector = make_self_signed(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", collector.ca_path)
    with OTLPReceiver("http/protobuf", tls=collector) as receiver:
        with _sender("http/protobuf", receiver.endpoint) as sender:
            assert sender.send(_batch(), 5) == OK


def test_netrc_does_not_replace_the_configured_authorization(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password other\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with OTLPReceiver("http/protobuf") as receiver:
        with _sender(
            "http/protobuf", receiver.endpoint, OTEL_EXPORTER_OTLP_HEADERS="authorization=Bearer%20mine"
        ) as sender:
            assert sender.send(_batch(), 5) == OK
        (request,) = receiver.wait_for_requests(1)
    assert request.headers["authorization"] == "Bearer mine"


def test_http_client_certificate_is_offered(tmp_path: Path) -> None:
    certificates = make_self_signed(tmp_path)
    with OTLPReceiver("http/protobuf", tls=certificates) as receiver:
        with _sender(
            "http/protobuf",
            receiver.endpoint,
            OTEL_EXPORTER_OTLP_CERTIFICATE=certificates.ca_path,
            OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=certificates.cert_path,
            OTEL_EXPORTER_OTLP_CLIENT_KEY=certificates.key_path,
        ) as sender:
            assert sender.send(_batch(), 5) == OK


# --------------------------------------------------------------------------- sending never raises


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_send_after_shutdown(protocol: str) -> None:
    with OTLPReceiver(protocol) as receiver, _sender(protocol, receiver.endpoint) as sender:  # type: ignore[arg-type]
        sender.shutdown()
        outcome = sender.send(_batch(), 5)
    assert (outcome.delivered, outcome.retryable) == (False, False)
    assert outcome.cause is not None and "shut down" in outcome.cause


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_batch_that_cannot_be_encoded(protocol: str) -> None:
    batch = [ReadableLogRecord(log_record=LogRecord(body="lone surrogate \udcff"), resource=_RESOURCE)]
    with OTLPReceiver(protocol) as receiver, _sender(protocol, receiver.endpoint) as sender:  # type: ignore[arg-type]
        outcome = sender.send(batch, 5)
    assert (outcome.delivered, outcome.retryable) == (False, False)
    assert outcome.cause is not None and "could not encode" in outcome.cause
    assert receiver.requests == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("timeout", [float("nan"), float("inf"), -1.0, 0.0], ids=["nan", "inf", "negative", "zero"])
def test_any_timeout_value(protocol: str, timeout: float) -> None:
    with OTLPReceiver(protocol) as receiver, _sender(protocol, receiver.endpoint) as sender:  # type: ignore[arg-type]
        outcome = sender.send(_batch(), timeout)
    assert isinstance(outcome, SendOutcome)


def test_a_certificate_that_vanished_before_the_sender_is_built(tmp_path: Path) -> None:
    certificates = make_self_signed(tmp_path)
    for protocol in PROTOCOLS:
        settings = read_export_settings(
            {
                "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
                "OTEL_EXPORTER_OTLP_ENDPOINT": "https://127.0.0.1:4317",
                "OTEL_EXPORTER_OTLP_CERTIFICATE": certificates.ca_path,
            }
        )
        Path(certificates.ca_path).rename(certificates.ca_path + ".gone")
        with pytest.raises(ConfigurationError, match="OTEL_EXPORTER_OTLP_CERTIFICATE"):
            build_senders(settings)
        Path(certificates.ca_path + ".gone").rename(certificates.ca_path)


# --------------------------------------------------------------------------- the rest of the API


@pytest.mark.parametrize(
    ("exporters", "senders", "others"),
    [
        ("otlp", 1, []),
        ("console", 0, [ConsoleLogRecordExporter]),
        ("otlp,console", 1, [ConsoleLogRecordExporter]),
        ("none", 0, []),
    ],
)
def test_exporter_list(exporters: str, senders: int, others: list[type]) -> None:
    settings = read_export_settings({"OTEL_LOGS_EXPORTER": exporters})
    built = build_senders(settings)
    try:
        assert len(built) == senders
        assert [type(exporter) for exporter in build_other_exporters(settings)] == others
    finally:
        for sender in built:
            sender.shutdown()


def test_encoded_size_is_the_request_body_size() -> None:
    batch = _batch(5, body_size=300)
    assert encoded_size(batch) == len(encode_logs(batch).SerializeToString())


# --------------------------------------------------------------------------- no secret ever printed

LEAK_CHILD = r"""
import json, logging, os, sys, warnings
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
logging.captureWarnings(True)
warnings.simplefilter("always")
from opentelemetry._logs import LogRecord
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.resources import Resource
from mcp_otel.errors import ConfigurationError
from mcp_otel.settings import read_export_settings
from mcp_otel.senders import build_senders
batch = [ReadableLogRecord(log_record=LogRecord(body="record"), resource=Resource.create({}))]
for scenario in json.loads(sys.argv[1]):
    try:
        senders = build_senders(read_export_settings(scenario["environ"]))
    except ConfigurationError as error:
        print(scenario["id"], "configuration error:", error, flush=True)
        continue
    for sender in senders:
        outcome = sender.send(batch, 2.0)
        print(scenario["id"], "outcome:", outcome, flush=True)
        logging.getLogger("leak-test").warning("%s failed: %s", sender.destination, outcome.cause)
        sender.shutdown()
"""


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_no_secret_reaches_standard_error_or_logging(protocol: str, tmp_path: Path) -> None:
    certificates = make_self_signed(tmp_path)
    unauthenticated = Answer(http_status=401, grpc_code=grpc.StatusCode.UNAUTHENTICATED, echo_authorization=True)
    unavailable = Answer(http_status=503, grpc_code=grpc.StatusCode.UNAVAILABLE, echo_authorization=True)
    internal = Answer(http_status=500, grpc_code=grpc.StatusCode.INTERNAL, echo_authorization=True)
    with (
        OTLPReceiver(protocol) as plaintext,  # type: ignore[arg-type]
        OTLPReceiver(protocol, tls=certificates) as tls,  # type: ignore[arg-type]
        faulty_receiver(protocol, Answer(hang=True)) as hung,  # type: ignore[arg-type]
        faulty_receiver(protocol, unauthenticated) as rejecting,  # type: ignore[arg-type]
        faulty_receiver(protocol, unavailable) as unavailable_receiver,  # type: ignore[arg-type]
        faulty_receiver(protocol, internal) as failing,  # type: ignore[arg-type]
    ):
        endpoints = {
            "refused": f"http://127.0.0.1:{free_port()}",
            "plaintext": plaintext.endpoint,
            "tls": tls.endpoint,
            "hung": hung.endpoint,
            "unauthenticated": rejecting.endpoint,
            "unavailable": unavailable_receiver.endpoint,
            "internal": failing.endpoint,
        }
        scenarios = leak_scenarios(protocol, endpoints)
        environment = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
        completed = subprocess.run(
            [sys.executable, "-c", LEAK_CHILD, json.dumps(scenarios)],
            check=False,
            env=environment,
            capture_output=True,  # the child's file descriptors 1 and 2: grpc-core writes to fd 2 directly
            timeout=120,
            cwd=REPOSITORY,
        )
        echoed = [headers.get("authorization", "") for headers in rejecting.received_headers]
    stdout = completed.stdout.decode("utf-8", "replace")
    stderr = completed.stderr.decode("utf-8", "replace")
    assert completed.returncode == 0, stderr[-3000:]
    assert echoed and SECRET in echoed[0]  # the collector did get (and echo) the secret
    assert len(stdout.splitlines()) == len(scenarios), stdout
    for secret in SECRETS:
        assert secret.encode() not in completed.stdout + completed.stderr, (secret, stdout, stderr[-3000:])
    assert "Traceback" not in stderr
