"""Through a third-party collector: handler -> rotel (a Rust OTel collector) -> OTLP receiver, unchanged.

Each record is exported twice from the same LoggerProvider: by the handler's own pipeline
(built from ``OTEL_*``) to rotel, which forwards it to an upstream ``OTLPReceiver``, and by an
extra processor straight to a second ``OTLPReceiver``. The two copies must be equal field
for field (resource, scope, timestamps, severity, body, attributes, trace context, flags),
and each must hold the exact values of its row below. Every combination of the handler's
protocol (gRPC, HTTP/protobuf) and rotel's exporter protocol (gRPC, HTTP) is run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.trace import TracerProvider

import mcp_otel
from mcp_otel import OTelLogHandler
from tests.conftest import PROTOCOLS, otel_environment
from tests.support.accounting import assert_adds_up
from tests.support.otlp_receiver import OTLPReceiver, ReceivedRecord
from tests.support.rotel import RotelCollector

TRACEPARENT_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT_SPAN_ID = "b7ad6b7169203331"

SERVICE_NAME = "weather-agent"
RESOURCE_ATTRIBUTES = "deployment.environment.name=ci,service.namespace=mcp"
HANDLER_ATTRIBUTES = {"mcp.server.name": "weather", "mcp.server.labels": {"team": "forecast", "regions": ["eu", "us"]}}


@dataclass(frozen=True)
class Row:
    """One message handed to the handler and what the record must hold after the hop."""

    id: str
    level: str
    severity_number: int
    logger: str | None
    data: Any
    body: Any
    attributes: dict[str, Any]
    meta: dict[str, str] | None = None


# One row per level, so the severity text identifies a row's record.
ROWS = [
    Row("debug: string body, no logger", "debug", 5, None, "plain text", "plain text", {}),
    Row(
        "info: fastmcp shape, nested map and list attributes",
        "info",
        9,
        "weather.forecast",
        {"msg": "forecast ready", "extra": {"city": "Lisbon", "forecast": {"temperature_c": 21.5, "conditions": ["sunny", "windy"]}}},
        "forecast ready",
        {"city": "Lisbon", "forecast": {"temperature_c": 21.5, "conditions": ["sunny", "windy"]}},
    ),
    Row(
        "notice: structured kvlist body",
        "notice",
        10,
        "weather",
        {"city": "Porto", "readings": [1, 2.5, "three", True, {"k": "v"}], "station": {"id": 7, "online": False}},
        {"city": "Porto", "readings": [1, 2.5, "three", True, {"k": "v"}], "station": {"id": 7, "online": False}},
        {},
    ),
    Row("warning: array body", "warning", 13, "weather", [1, "x", {"k": False}], [1, "x", {"k": False}], {}),
    Row(
        "error: trace context from _meta traceparent",
        "error",
        17,
        "weather",
        "upstream timed out",
        "upstream timed out",
        {},
        meta={"traceparent": f"00-{TRACEPARENT_TRACE_ID}-{TRACEPARENT_SPAN_ID}-01"},
    ),
    Row(
        "critical: bytes and out-of-range integer attributes",
        "critical",
        18,
        "weather",
        {"msg": "raw payload", "extra": {"raw": b"\x00\x01\xff", "big": 2**70}},
        "raw payload",
        {"raw": b"\x00\x01\xff", "big": str(2**70)},
    ),
    Row("alert: integer body", "alert", 19, "weather", 42, 42, {}),
    Row("emergency: boolean body", "emergency", 21, "weather", True, True, {}),
]

# (handler -> rotel protocol, rotel -> receiver exporter protocol, the receiver's protocol)
HOPS = [
    (handler_protocol, rotel_protocol, "grpc" if rotel_protocol == "grpc" else "http/protobuf")
    for handler_protocol in PROTOCOLS
    for rotel_protocol in ("grpc", "http")
]


@dataclass(frozen=True)
class RoundTrip:
    via_rotel: dict[str, ReceivedRecord]  # by severity text
    direct: dict[str, ReceivedRecord]
    span_trace_id: str
    span_id: str
    upstream_user_agents: set[str]  # who sent the requests the upstream receiver got


def _by_severity_text(records: list[ReceivedRecord]) -> dict[str, ReceivedRecord]:
    by_text = {record.severity_text: record for record in records}
    assert len(by_text) == len(records), f"duplicate records: {records!r}"
    return by_text


@pytest.fixture(
    scope="module",
    params=HOPS,
    ids=[f"handler {handler} -> rotel -> {rotel} receiver" for handler, rotel, _ in HOPS],
)
def round_trip(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RoundTrip]:
    handler_protocol, rotel_protocol, upstream_protocol = request.param
    log_path = tmp_path_factory.mktemp("rotel") / "rotel.log"
    with (
        OTLPReceiver(upstream_protocol) as upstream,
        OTLPReceiver("grpc") as direct,
        RotelCollector(upstream.endpoint, rotel_protocol, log_path=log_path) as rotel,
        otel_environment(
            OTEL_EXPORTER_OTLP_PROTOCOL=handler_protocol,
            OTEL_EXPORTER_OTLP_ENDPOINT=rotel.endpoint(handler_protocol),
            OTEL_SERVICE_NAME=SERVICE_NAME,
            OTEL_RESOURCE_ATTRIBUTES=RESOURCE_ATTRIBUTES,
        ),
    ):

        handler = OTelLogHandler(attributes=HANDLER_ATTRIBUTES)
        # The same records, straight to a receiver: the reference the rotel copies must equal.
        direct_exporter = OTLPLogExporter(endpoint=direct.endpoint, insecure=True)
        handler.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(direct_exporter))
        tracer = TracerProvider().get_tracer("agent")
        with tracer.start_as_current_span("tool call") as span:
            for row in ROWS:
                handler.handle(SimpleNamespace(level=row.level, logger=row.logger, data=row.data, meta=row.meta))
        handler.shutdown()
        assert_adds_up(handler.stats(), len(ROWS))
        assert handler.stats()["exported"] == len(ROWS)

        try:
            via_rotel = upstream.wait_for_records(len(ROWS))
        except AssertionError as error:
            raise AssertionError(f"{error}\nrotel output:\n{rotel.output()}") from None
        direct_records = direct.wait_for_records(len(ROWS))
        upstream_user_agents = {request.headers.get("user-agent", "") for request in upstream.requests}
    span_context = span.get_span_context()
    yield RoundTrip(
        via_rotel=_by_severity_text(via_rotel),
        direct=_by_severity_text(direct_records),
        span_trace_id=format(span_context.trace_id, "032x"),
        span_id=format(span_context.span_id, "016x"),
        upstream_user_agents=upstream_user_agents,
    )


def test_rotel_forwards_every_record_unchanged(round_trip: RoundTrip) -> None:
    assert all(agent.startswith("Rotel ") for agent in round_trip.upstream_user_agents), round_trip.upstream_user_agents
    assert set(round_trip.via_rotel) == {row.level for row in ROWS}
    assert round_trip.via_rotel == round_trip.direct


def test_resource_from_environment_survives(round_trip: RoundTrip) -> None:
    for record in round_trip.via_rotel.values():
        assert record.resource["service.name"] == SERVICE_NAME
        assert record.resource["deployment.environment.name"] == "ci"
        assert record.resource["service.namespace"] == "mcp"
        assert record.resource["telemetry.sdk.language"] == "python"


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_row_survives_rotel(round_trip: RoundTrip, row: Row) -> None:
    record = round_trip.via_rotel[row.level]
    assert (record.severity_number, record.severity_text) == (row.severity_number, row.level)
    assert record.body == row.body
    assert type(record.body) is type(row.body)
    assert record.attributes == {**row.attributes, **HANDLER_ATTRIBUTES}
    if row.logger is None:
        assert (record.scope_name, record.scope_version) == ("mcp_otel", mcp_otel.__version__)
    else:
        assert (record.scope_name, record.scope_version) == (row.logger, "")
    if row.meta is None:
        assert (record.trace_id, record.span_id) == (round_trip.span_trace_id, round_trip.span_id)
    else:
        assert (record.trace_id, record.span_id) == (TRACEPARENT_TRACE_ID, TRACEPARENT_SPAN_ID)
    assert record.flags & 0x01 == 1  # sampled
    assert record.time_unix_nano == record.observed_time_unix_nano > 0
