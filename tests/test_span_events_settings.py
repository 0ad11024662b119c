"""Span events' traces destination: ``OTEL_TRACES_EXPORTER`` and the OTLP traces variables, read strictly.

Row by row of ``mcp_otel.span_events``' docstring: a bad value is one ``ConfigurationError`` that
names its variable (and never shows a header's value) when a handler with span events is built;
good values reach the SDK's span exporter explicitly. Runs on mcp 1.x and 2.x.
"""

from __future__ import annotations

import pytest

from mcp_otel import OTelLogHandler
from mcp_otel.errors import ConfigurationError
from mcp_otel.span_events import read_traces_destination

# (row id, environment, the variable the error must name)
BAD = [
    ("endpoint without a scheme", {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "localhost:4317"},
     "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
    ("generic endpoint with a bad port", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:99999"},
     "OTEL_EXPORTER_OTLP_ENDPOINT"),
    ("protocol http/json", {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"),
    ("headers without '='", {"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "authorization"}, "OTEL_EXPORTER_OTLP_TRACES_HEADERS"),
    ("timeout in seconds", {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT": "2.5"}, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"),
    ("compression br", {"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "br"}, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"),
    ("certificate that does not exist", {"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE": "/nonexistent/ca.pem"},
     "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE"),
    ("client key without its certificate", {"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY": __file__},
     "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY"),
    ("unknown traces exporter", {"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"),
    # The SDK's exporter would load these itself on its first export, fail, and export nothing after.
    ("HTTP traces credential provider", {"OTEL_PYTHON_EXPORTER_OTLP_HTTP_TRACES_CREDENTIAL_PROVIDER": "gcp"},
     "OTEL_PYTHON_EXPORTER_OTLP_HTTP_TRACES_CREDENTIAL_PROVIDER"),
    ("gRPC traces credential provider", {"OTEL_PYTHON_EXPORTER_OTLP_GRPC_TRACES_CREDENTIAL_PROVIDER": "gcp"},
     "OTEL_PYTHON_EXPORTER_OTLP_GRPC_TRACES_CREDENTIAL_PROVIDER"),
    ("two traces exporters", {"OTEL_TRACES_EXPORTER": "otlp,console"}, "OTEL_TRACES_EXPORTER"),
]


@pytest.mark.parametrize(("environment", "variable"), [row[1:] for row in BAD], ids=[row[0] for row in BAD])
def test_a_bad_traces_setting_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], variable: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as raised:
        OTelLogHandler(span_events=True)
    assert str(raised.value).startswith(variable)
    if "TRACES" in variable:  # the traces' own variables: without span events nothing reads them
        OTelLogHandler(span_events=False).shutdown()


def test_a_header_value_never_shows_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "authorization=Bearer s3cr3t-t0ken,x-tenant")
    with pytest.raises(ConfigurationError) as raised:
        OTelLogHandler(span_events=True)
    assert "OTEL_EXPORTER_OTLP_TRACES_HEADERS" in str(raised.value)
    assert "s3cr3t" not in str(raised.value)


# (row id, environment, expected exporter name, expected protocol, expected endpoint)
GOOD = [
    ("defaults: otlp over grpc to localhost", {}, "otlp", "grpc", "http://localhost:4317"),
    ("generic endpoint over http/protobuf gets /v1/traces",
     {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"},
     "otlp", "http/protobuf", "http://collector:4318/v1/traces"),
    ("the traces endpoint is used as given, and wins",
     {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318",
      "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://b:443/custom"},
     "otlp", "http/protobuf", "https://b:443/custom"),
    ("the logs' variables are not the traces'",
     {"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://logs-only:4317", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "http/protobuf"},
     "otlp", "grpc", "http://localhost:4317"),
]


@pytest.mark.parametrize(("environment", "name", "protocol", "endpoint"), [row[1:] for row in GOOD],
                         ids=[row[0] for row in GOOD])
def test_good_traces_settings(environment: dict[str, str], name: str, protocol: str, endpoint: str) -> None:
    exporter_name, otlp = read_traces_destination(environment)
    assert exporter_name == name
    assert otlp is not None and otlp.protocol == protocol and otlp.endpoint == endpoint


@pytest.mark.parametrize("value", ["console", "none", " Console "])
def test_console_and_none_read_no_otlp_variable(value: str) -> None:
    name, otlp = read_traces_destination(
        {"OTEL_TRACES_EXPORTER": value, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "not a url"}
    )
    assert name == value.strip().lower() and otlp is None
