"""Each OTEL_* variable the handler's own pipeline honours, proven against a real OTLP receiver.

The handler is fed messages directly (``handler.handle``): what is under test here is the path
from the environment to the wire, not the MCP session (test_end_to_end covers that).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from mcp_otel import ConfigurationError, OTelLogHandler
from tests.conftest import REPOSITORY
from tests.support.accounting import assert_adds_up
from tests.support.certificates import make_self_signed
from tests.support.otlp_receiver import OTLPReceiver, free_port


def _message(body: str, level: str = "info", **extra: object) -> SimpleNamespace:
    return SimpleNamespace(level=level, logger="env.test", data={"msg": body, "extra": extra or None})


def _export(count: int = 1) -> OTelLogHandler:
    """Build a handler from the environment, emit ``count`` records, shut it down (flushes)."""
    handler = OTelLogHandler()
    for index in range(count):
        handler.handle(_message(f"record {index}", index=index))
    handler.shutdown()
    return handler


def test_endpoint_and_protocol(receiver: OTLPReceiver) -> None:
    _export(3)
    records = receiver.wait_for_records(3)
    assert sorted(record.body for record in records) == ["record 0", "record 1", "record 2"]
    assert all(record.scope_name == "env.test" for record in records)


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_logs_endpoint_wins_over_generic_endpoint(protocol: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with OTLPReceiver(protocol) as live_receiver:  # type: ignore[arg-type]
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{free_port()}")  # nothing listens
        logs_endpoint = live_receiver.endpoint if protocol == "grpc" else live_receiver.logs_endpoint
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", logs_endpoint)
        _export()
        assert [record.body for record in live_receiver.wait_for_records(1)] == ["record 0"]


def test_logs_protocol_wins_over_generic_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    with OTLPReceiver("http/protobuf") as live_receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", live_receiver.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "http/protobuf")
        _export()
        assert [record.body for record in live_receiver.wait_for_records(1)] == ["record 0"]


def test_default_protocol_is_grpc(monkeypatch: pytest.MonkeyPatch) -> None:
    with OTLPReceiver("grpc") as live_receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", live_receiver.endpoint)
        _export()
        assert [record.body for record in live_receiver.wait_for_records(1)] == ["record 0"]


@pytest.mark.parametrize(
    ("variables", "expected_headers"),
    [
        ({"OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=acme,authorization=Bearer%20t0ken"},
         {"x-tenant": "acme", "authorization": "Bearer t0ken"}),
        ({"OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=generic", "OTEL_EXPORTER_OTLP_LOGS_HEADERS": "x-tenant=logs"},
         {"x-tenant": "logs"}),
    ],
    ids=["generic headers", "logs headers replace generic"],
)
def test_headers(
    receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], expected_headers: dict[str, str]
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    _export()
    (request,) = receiver.wait_for_requests(1)
    assert {name: request.headers.get(name) for name in expected_headers} == expected_headers


def test_gzip_compression_over_http(monkeypatch: pytest.MonkeyPatch) -> None:
    with OTLPReceiver("http/protobuf") as live_receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", live_receiver.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
        _export()
        (request,) = live_receiver.wait_for_requests(1)
        assert request.compression == "gzip"
        assert [record.body for record in live_receiver.records()] == ["record 0"]


def test_gzip_compression_over_grpc_delivers(monkeypatch: pytest.MonkeyPatch) -> None:
    # grpcio decompresses before the servicer sees the call, so only delivery is observable here.
    with OTLPReceiver("grpc") as live_receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", live_receiver.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
        _export()
        assert [record.body for record in live_receiver.wait_for_records(1)] == ["record 0"]


@pytest.mark.parametrize("timeout_variable", ["OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_BLRP_EXPORT_TIMEOUT"])
@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_export_timeout_bounds_each_attempt_on_a_stuck_collector(
    protocol: str, timeout_variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The receiver accepts and never answers. With the default deadline (10 s) it would see one
    # request in 4 s; with a 1 s deadline, the first attempt ends after 1 s and the retry (after
    # a backoff of about 1 s) reaches it before shutdown's own 4 s bound.
    with OTLPReceiver(protocol, respond="never") as stuck:  # type: ignore[arg-type]
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", stuck.endpoint)
        monkeypatch.setenv(timeout_variable, "1000")  # milliseconds, as the specification says, for both
        handler = OTelLogHandler()
        handler.handle(_message("record 0"))
        started = time.monotonic()
        handler.shutdown(timeout_millis=4_000)
        elapsed = time.monotonic() - started
        assert len(stuck.wait_for_requests(2, timeout=1)) >= 2
        assert stuck.records() == []
        assert elapsed < 4.5, f"shutdown took {elapsed:.1f} s with a 4 s bound"
        assert handler.stats()["dropped"]["shutdown"] == 1
        assert_adds_up(handler.stats(), 1)


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_tls_with_certificate(protocol: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    certificates = make_self_signed(tmp_path)
    with OTLPReceiver(protocol, tls=certificates) as tls_receiver:  # type: ignore[arg-type]
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", tls_receiver.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", certificates.ca_path)
        assert tls_receiver.endpoint.startswith("https://")
        _export()
        assert [record.body for record in tls_receiver.wait_for_records(1)] == ["record 0"]


@pytest.mark.parametrize("insecure", ["true", "false"])
def test_the_scheme_decides_tls_and_a_contradicting_insecure_flag_is_warned_about(
    insecure: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # OTEL_EXPORTER_OTLP_INSECURE only applies to scheme-less endpoints (spec), which are refused;
    # http:// is plaintext whatever it says (the SDK used TLS with INSECURE=false).
    with OTLPReceiver("grpc") as plaintext_receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", plaintext_receiver.endpoint)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_INSECURE", insecure)
        _export()
        assert [record.body for record in plaintext_receiver.wait_for_records(1)] == ["record 0"]
    warnings = [r.getMessage() for r in caplog.records if r.name == "mcp_otel" and "INSECURE" in r.getMessage()]
    assert len(warnings) == (1 if insecure == "false" else 0)


def test_a_scheme_less_endpoint_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "127.0.0.1:4317")
    with pytest.raises(ConfigurationError, match="OTEL_EXPORTER_OTLP_ENDPOINT='127.0.0.1:4317': no scheme"):
        OTelLogHandler()


def test_service_name_and_resource_attributes(receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "agent-host")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=staging,team=tools")
    _export()
    (record,) = receiver.wait_for_records(1)
    assert record.resource["service.name"] == "agent-host"
    assert record.resource["deployment.environment.name"] == "staging"
    assert record.resource["team"] == "tools"


def test_batch_size_and_schedule_delay(receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "5")
    monkeypatch.setenv("OTEL_BLRP_SCHEDULE_DELAY", "60000")  # nothing leaves before the flush
    handler = OTelLogHandler()
    for index in range(4):
        handler.handle(_message(f"record {index}"))
    time.sleep(0.5)
    assert receiver.requests == []  # below one batch, waiting for the (long) schedule delay
    for index in range(4, 12):
        handler.handle(_message(f"record {index}"))
    handler.shutdown()
    sizes = [len(request.message.resource_logs[0].scope_logs[0].log_records) for request in receiver.wait_for_requests(3)]
    assert sorted(sizes, reverse=True) == [5, 5, 2]


def test_max_queue_size(receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_BLRP_MAX_QUEUE_SIZE", "10")
    monkeypatch.setenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "10")
    monkeypatch.setenv("OTEL_BLRP_SCHEDULE_DELAY", "60000")
    handler = OTelLogHandler()
    for index in range(25):
        handler.handle(_message(f"record {index}"))
    handler.shutdown()
    time.sleep(0.3)
    # The worker may take one full batch while the loop runs; never more than queue + one batch.
    assert 10 <= len(receiver.records()) <= 20


EXPORT_ONE_RECORD = (
    "from types import SimpleNamespace\n"
    "from mcp_otel import OTelLogHandler\n"
    "handler = OTelLogHandler()\n"
    "handler.handle(SimpleNamespace(level='info', logger='env.test', data='record 0'))\n"
    "handler.shutdown()\n"
)


@pytest.mark.parametrize(
    ("exporters", "on_the_wire", "on_stdout"),
    [("otlp", True, False), ("console", False, True), ("otlp,console", True, True), ("none", False, False)],
)
def test_logs_exporter_choice(receiver: OTLPReceiver, exporters: str, on_the_wire: bool, on_stdout: bool) -> None:
    # A child process, because the SDK's console exporter binds sys.stdout at import time.
    environment = {name: value for name, value in os.environ.items()}
    environment["OTEL_LOGS_EXPORTER"] = exporters
    completed = subprocess.run(
        [sys.executable, "-c", EXPORT_ONE_RECORD], env=environment, capture_output=True, text=True, timeout=60, cwd=REPOSITORY
    )
    assert completed.returncode == 0, completed.stderr
    time.sleep(0.3)
    assert ([record.body for record in receiver.records()] == ["record 0"]) is on_the_wire
    assert ('"body": "record 0"' in completed.stdout) is on_stdout


def test_sdk_disabled_makes_the_handler_a_no_op(receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    handler = _export(5)
    assert handler.logger_provider is None
    assert handler.stats()["received"] == 0
    time.sleep(0.3)
    assert receiver.requests == []


def test_attribute_count_and_length_limits(receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "2")
    monkeypatch.setenv("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4")
    handler = OTelLogHandler()
    handler.handle(SimpleNamespace(level="info", logger=None, data={"msg": "m", "extra": {"a": "abcdefgh", "b": "xy"}}))
    handler.handle(SimpleNamespace(level="info", logger=None, data={"msg": "n", "extra": {"a": 1, "b": 2, "c": 3}}))
    handler.shutdown()
    by_body = {record.body: record for record in receiver.wait_for_records(2)}
    assert by_body["m"].attributes == {"a": "abcd", "b": "xy"}
    assert len(by_body["n"].attributes) == 2
    dropped = [r.dropped_attributes_count for q in receiver.requests for r in q.message.resource_logs[0].scope_logs[0].log_records]
    assert sorted(dropped) == [0, 1]


MISCONFIGURATION_ROWS = [
    ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
    ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "udp"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "authorization"),
    ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "x=1,=broken"),
    ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"),
    ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon"),
    ("OTEL_EXPORTER_OTLP_INSECURE", "maybe"),
    ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/no/such/ca.pem"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://local host:4317"),
    ("OTEL_BLRP_SCHEDULE_DELAY", "fast"),
    ("OTEL_BLRP_MAX_QUEUE_SIZE", "0"),
    ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "-5"),
    ("OTEL_BLRP_EXPORT_TIMEOUT", "1.5s"),
    ("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "many"),
    ("OTEL_LOGS_EXPORTER", "zipkin"),
    ("OTEL_LOGS_EXPORTER", "otlp,none"),
]


@pytest.mark.parametrize(("variable", "value"), MISCONFIGURATION_ROWS, ids=[f"{v}={x}" for v, x in MISCONFIGURATION_ROWS])
def test_misconfiguration_is_one_clear_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as raised:
        OTelLogHandler()
    assert variable in str(raised.value)


def test_header_errors_never_echo_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer s3cr3t,garbage-without-equals-s3cr3t")
    with pytest.raises(ConfigurationError) as raised:
        OTelLogHandler()
    assert "s3cr3t" not in str(raised.value)
    assert "entry 2" in str(raised.value)


def test_cli_reports_a_misconfiguration_in_one_line() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "mcp_otel.cli", "demo"],
        env={"PATH": "", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPOSITORY,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        "mcp-otel: configuration error: OTEL_EXPORTER_OTLP_PROTOCOL='http/json': unsupported OTLP protocol; "
        "supported: 'grpc', 'http/protobuf'"
    ]


def test_global_sdk_provider_is_used_and_not_shut_down(tmp_path: Path) -> None:
    # Setting the global provider is once per process, so this runs in a child process.
    script = textwrap.dedent(
        """
        from types import SimpleNamespace
        from opentelemetry._logs import set_logger_provider
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
        from mcp_otel import OTelLogHandler

        exporter = InMemoryLogRecordExporter()
        provider = LoggerProvider()
        provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
        set_logger_provider(provider)
        handler = OTelLogHandler()
        assert handler.logger_provider is provider
        handler.handle(SimpleNamespace(level="error", logger="g", data="via global"))
        handler.shutdown()
        provider.get_logger("after").emit(body="still alive")  # not shut down by the handler
        print([r.log_record.body for r in exporter.get_finished_logs()])
        """
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPOSITORY)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "['via global', 'still alive']"
