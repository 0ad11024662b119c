"""Self-test of the OTLP receivers in ``tests.support``.

The end-to-end tests trust these receivers to report exactly what went over the
wire, so here the real SDK exporters (gRPC and HTTP) send to them and every
decoded field is compared exactly.
"""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import pytest
from opentelemetry import trace
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from tests.support.certificates import CertificatePair, make_self_signed
from tests.support.otlp_receiver import (
    OTLPReceiver,
    ReceivedRecord,
    ReceiverProcess,
    decode_any_value,
)

PROTOCOLS = ["grpc", "http/protobuf"]
RESOURCE = Resource.create({"service.name": "receiver-self-test"})
TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
SPAN_ID = 0xB7AD6B7169203331
FIRST_TIMESTAMP = 1_700_000_000_123_456_789
SECOND_TIMESTAMP = FIRST_TIMESTAMP + 1_000


def make_exporter(
    protocol: str,
    endpoint: str,
    *,
    ca_path: str | None = None,
    gzip: bool = False,
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> LogRecordExporter:
    """Build the real SDK exporter for ``protocol`` pointed at a receiver's signal endpoint."""
    if protocol == "grpc":
        credentials = None
        if ca_path is not None:
            # The gRPC log exporter has no certificate_file= argument, only credentials= or env vars.
            credentials = grpc.ssl_channel_credentials(root_certificates=Path(ca_path).read_bytes())
        return GrpcLogExporter(
            endpoint=endpoint,
            credentials=credentials,
            headers=headers,
            timeout=timeout,
            compression=grpc.Compression.Gzip if gzip else None,
        )
    return HttpLogExporter(
        endpoint=endpoint,
        certificate_file=ca_path,
        headers=headers,
        timeout=timeout,
        compression=HttpCompression.Gzip if gzip else None,
    )


def emit_two_records(exporter: LogRecordExporter) -> None:
    """Emit a structured and a plain record synchronously (one export request each)."""
    provider = LoggerProvider(resource=RESOURCE, shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("mcp.self-test", "1.2.3")
    span = NonRecordingSpan(SpanContext(TRACE_ID, SPAN_ID, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED)))
    logger.emit(
        timestamp=FIRST_TIMESTAMP,
        observed_timestamp=FIRST_TIMESTAMP + 5,
        context=trace.set_span_in_context(span),
        severity_number=SeverityNumber.WARN,
        severity_text="warning",
        body={"message": "disk almost full", "details": {"free_mb": 12, "paths": ["/var", "/tmp"]}},
        attributes={"mcp.logger": "storage", "nested": {"ratio": 0.5, "ok": False}, "tags": ["a", "b"]},
        event_name="mcp.log",
    )
    logger.emit(
        timestamp=SECOND_TIMESTAMP,
        observed_timestamp=SECOND_TIMESTAMP + 5,
        severity_number=SeverityNumber.INFO,
        severity_text="info",
        body="plain text",
        attributes={"raw": b"\x00\xff"},
    )
    provider.shutdown()


def expected_records() -> list[ReceivedRecord]:
    resource = dict(RESOURCE.attributes)
    return [
        ReceivedRecord(
            resource=resource,
            scope_name="mcp.self-test",
            scope_version="1.2.3",
            time_unix_nano=FIRST_TIMESTAMP,
            observed_time_unix_nano=FIRST_TIMESTAMP + 5,
            severity_number=SeverityNumber.WARN.value,
            severity_text="warning",
            body={"message": "disk almost full", "details": {"free_mb": 12, "paths": ["/var", "/tmp"]}},
            attributes={"mcp.logger": "storage", "nested": {"ratio": 0.5, "ok": False}, "tags": ["a", "b"]},
            trace_id="0af7651916cd43dd8448eb211c80319c",
            span_id="b7ad6b7169203331",
            flags=1,
            event_name="mcp.log",
        ),
        ReceivedRecord(
            resource=resource,
            scope_name="mcp.self-test",
            scope_version="1.2.3",
            time_unix_nano=SECOND_TIMESTAMP,
            observed_time_unix_nano=SECOND_TIMESTAMP + 5,
            severity_number=SeverityNumber.INFO.value,
            severity_text="info",
            body="plain text",
            attributes={"raw": b"\x00\xff"},
            trace_id="",
            span_id="",
            flags=0,
            event_name="",
        ),
    ]


def one_readable_record(body: str) -> list[ReadableLogRecord]:
    """A batch for calling ``exporter.export`` directly, where a test needs the export result."""
    record = LogRecord(timestamp=FIRST_TIMESTAMP, severity_number=SeverityNumber.ERROR, body=body)
    return [ReadableLogRecord(record, RESOURCE, InstrumentationScope("mcp.self-test"))]


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> CertificatePair:
    return make_self_signed(tmp_path_factory.mktemp("certs"))


def test_decode_any_value_covers_every_kind() -> None:
    nested = AnyValue(
        kvlist_value=KeyValueList(
            values=[
                KeyValue(key="s", value=AnyValue(string_value="x")),
                KeyValue(key="i", value=AnyValue(int_value=-3)),
                KeyValue(key="d", value=AnyValue(double_value=1.5)),
                KeyValue(key="b", value=AnyValue(bool_value=True)),
                KeyValue(key="raw", value=AnyValue(bytes_value=b"\x01")),
                KeyValue(key="empty", value=AnyValue()),
                KeyValue(key="list", value=AnyValue(array_value=ArrayValue(values=[AnyValue(int_value=1)]))),
            ]
        )
    )
    assert decode_any_value(nested) == {
        "s": "x",
        "i": -3,
        "d": 1.5,
        "b": True,
        "raw": b"\x01",
        "empty": None,
        "list": [1],
    }
    assert decode_any_value(AnyValue()) is None


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_receiver_decodes_exact_values(protocol: str) -> None:
    with OTLPReceiver(protocol) as receiver:  # type: ignore[arg-type]
        # Lower-case on purpose: the gRPC exporter passes keys through and grpc rejects upper case.
        emit_two_records(make_exporter(protocol, receiver.logs_endpoint, headers={"authorization": "Bearer t0k"}))
        records = receiver.wait_for_records(2)

        assert records == expected_records()
        assert [request.headers["authorization"] for request in receiver.requests] == ["Bearer t0k"] * 2
        assert all(request.accepted and request.compression is None for request in receiver.requests)


def test_endpoints_follow_the_exporters_conventions() -> None:
    with OTLPReceiver("grpc") as grpc_receiver, OTLPReceiver("http/protobuf") as http_receiver:
        assert grpc_receiver.endpoint == grpc_receiver.logs_endpoint == f"http://127.0.0.1:{grpc_receiver.port}"
        assert http_receiver.endpoint == f"http://127.0.0.1:{http_receiver.port}"
        assert http_receiver.logs_endpoint == f"http://127.0.0.1:{http_receiver.port}/v1/logs"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_receiver_decodes_gzip_compressed_requests(protocol: str) -> None:
    with OTLPReceiver(protocol) as receiver:  # type: ignore[arg-type]
        emit_two_records(make_exporter(protocol, receiver.logs_endpoint, gzip=True))

        assert receiver.wait_for_records(2) == expected_records()
        # grpcio strips grpc-encoding from the metadata it hands to servicers, so only HTTP can report it.
        expected_compression = "gzip" if protocol == "http/protobuf" else None
        assert [request.compression for request in receiver.requests] == [expected_compression] * 2


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_receiver_serves_tls(protocol: str, certificates: CertificatePair, monkeypatch: pytest.MonkeyPatch) -> None:
    # requests lets these variables override the session's verify= (so certificate_file= would be ignored).
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with OTLPReceiver(protocol, tls=certificates) as receiver:  # type: ignore[arg-type]
        assert receiver.endpoint.startswith("https://127.0.0.1:")
        emit_two_records(make_exporter(protocol, receiver.logs_endpoint, ca_path=certificates.ca_path))

        assert receiver.wait_for_records(2) == expected_records()


def test_grpc_exporter_trusts_ca_from_environment(
    certificates: CertificatePair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The env-var route is how a configured application would trust the CA for gRPC."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", certificates.ca_path)
    with OTLPReceiver("grpc", tls=certificates) as receiver:
        exporter = GrpcLogExporter(endpoint=receiver.endpoint, timeout=5)

        assert exporter.export(one_readable_record("over tls")) is LogRecordExportResult.SUCCESS
        assert [record.body for record in receiver.records()] == ["over tls"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_error_mode_refuses_and_keeps_no_records(protocol: str) -> None:
    with OTLPReceiver(protocol, respond="error") as receiver:  # type: ignore[arg-type]
        # A short timeout makes the exporter give up instead of backing off (~1 s) and retrying.
        exporter = make_exporter(protocol, receiver.logs_endpoint, timeout=0.5)

        assert exporter.export(one_readable_record("refused")) is LogRecordExportResult.FAILURE
        assert [request.accepted for request in receiver.requests] == [False]
        assert receiver.records() == []

        receiver.respond = "ok"
        assert exporter.export(one_readable_record("recovered")) is LogRecordExportResult.SUCCESS
        assert [record.body for record in receiver.records()] == ["recovered"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_never_mode_holds_requests_and_stops_promptly(protocol: str) -> None:
    receiver = OTLPReceiver(protocol, respond="never")  # type: ignore[arg-type]
    receiver.start()
    try:
        exporter = make_exporter(protocol, receiver.logs_endpoint, timeout=0.5)
        started = time.monotonic()

        assert exporter.export(one_readable_record("unanswered")) is LogRecordExportResult.FAILURE
        assert time.monotonic() - started >= 0.4
        assert receiver.wait_for_requests(1)[0].accepted is False
    finally:
        stopping = time.monotonic()
        receiver.stop()
    assert time.monotonic() - stopping < 2


def test_wait_for_records_times_out_with_a_helpful_message() -> None:
    with OTLPReceiver("http/protobuf") as receiver:
        with pytest.raises(AssertionError, match=r"expected at least 1 log records within 0.1s but got 0"):
            receiver.wait_for_records(1, timeout=0.1)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_receiver_process_survives_kill_and_restart(protocol: str, tmp_path: Path) -> None:
    with ReceiverProcess(protocol, tmp_path / "records.jsonl") as process:  # type: ignore[arg-type]
        exporter = make_exporter(protocol, process.logs_endpoint, timeout=5)
        assert exporter.export(one_readable_record("before kill")) is LogRecordExportResult.SUCCESS
        assert [record["body"] for record in process.wait_for_count(1)] == ["before kill"]

        process.kill()
        assert not process.is_running
        process.restart()

        assert exporter.export(one_readable_record("after restart")) is LogRecordExportResult.SUCCESS
        records = process.wait_for_count(2)
        assert [record["body"] for record in records] == ["before kill", "after restart"]
        assert records[0]["resource"]["service.name"] == "receiver-self-test"
        assert records[0]["severity_number"] == SeverityNumber.ERROR.value
        exporter.shutdown()
