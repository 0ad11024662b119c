"""``mcp_otel.settings``: each row of the module docstring's table, good values, bad values, warnings.

Bad values must raise one ``ConfigurationError`` that names the variable and holds none of the
secrets planted in the value. The review's findings are also run end to end in a child process
(``test_review_finding``): every byte of its standard error is checked for the secrets and for a
traceback. They run twice: through ``read_export_settings`` + ``build_senders`` ("modules"), and
through ``OTelLogHandler()`` built from the environment ("handler"), which on the code before
mcp_otel.settings existed failed every row (the point of the review).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mcp_otel.errors import ConfigurationError
from mcp_otel.settings import (
    DEFAULT_MAX_QUEUE_SIZE,
    ConfiguredFile,
    ExportSettings,
    mask_url,
    read_export_settings,
)
from tests.conftest import REPOSITORY
from tests.support.certificates import make_self_signed
from tests.support.leaks import BASIC, PASSWORD, SECRET, SECRETS
from tests.support.otlp_receiver import free_port


def _read(environ: dict[str, str]) -> ExportSettings:
    return read_export_settings(environ)


def _value(settings: ExportSettings, path: str) -> Any:
    value: Any = settings
    for name in path.split("."):
        value = getattr(value, name)
    return value


# --------------------------------------------------------------------------- good values

HTTP = {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}

GOOD_ROWS: list[tuple[str, dict[str, str], str, Any]] = [
    # id, environment, field, expected
    ("nothing set: otlp exporter", {}, "exporters", ("otlp",)),
    ("nothing set: grpc", {}, "otlp.protocol", "grpc"),
    ("nothing set: grpc endpoint", {}, "otlp.endpoint", "http://localhost:4317"),
    ("nothing set: http endpoint", HTTP, "otlp.endpoint", "http://localhost:4318/v1/logs"),
    ("nothing set: 10 s timeout", {}, "otlp.timeout_millis", 10_000),
    ("nothing set: no compression", {}, "otlp.compression", "none"),
    ("nothing set: no headers", {}, "otlp.headers", ()),
    ("nothing set: queue", {}, "max_queue_size", DEFAULT_MAX_QUEUE_SIZE),
    ("nothing set: batch", {}, "max_export_batch_size", 128),
    ("nothing set: schedule delay", {}, "schedule_delay_millis", 1000),
    ("nothing set: export timeout", {}, "export_timeout_millis", 30_000),
    ("nothing set: attribute count", {}, "attribute_count_limit", 128),
    ("nothing set: attribute length", {}, "attribute_value_length_limit", None),
    ("nothing set: deadline", {}, "export_deadline_seconds", 10.0),
    ("empty value counts as unset", {"OTEL_BLRP_MAX_QUEUE_SIZE": "  "}, "max_queue_size", DEFAULT_MAX_QUEUE_SIZE),
    ("surrounding whitespace ignored", {"OTEL_BLRP_MAX_QUEUE_SIZE": " 64\n"}, "max_queue_size", 64),
    ("SDK_DISABLED=TRUE", {"OTEL_SDK_DISABLED": "TRUE"}, "sdk_disabled", True),
    ("SDK_DISABLED reads nothing else", {"OTEL_SDK_DISABLED": "true", "OTEL_BLRP_MAX_QUEUE_SIZE": "x"}, "otlp", None),
    ("SDK_DISABLED=false", {"OTEL_SDK_DISABLED": "False"}, "sdk_disabled", False),
    ("LOGS_EXPORTER list", {"OTEL_LOGS_EXPORTER": "otlp, console"}, "exporters", ("otlp", "console")),
    ("LOGS_EXPORTER none", {"OTEL_LOGS_EXPORTER": "none"}, "exporters", ()),
    ("LOGS_EXPORTER without otlp: no OTLP", {"OTEL_LOGS_EXPORTER": "console"}, "otlp", None),
    (
        "LOGS_EXPORTER without otlp: OTLP variables unread",
        {"OTEL_LOGS_EXPORTER": "console", "OTEL_EXPORTER_OTLP_ENDPOINT": "nope"},
        "exporters",
        ("console",),
    ),
    ("PROTOCOL http/protobuf", HTTP, "otlp.protocol", "http/protobuf"),
    (
        "LOGS_PROTOCOL wins",
        {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL": "grpc"},
        "otlp.protocol",
        "grpc",
    ),
    ("ENDPOINT grpc as given", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317"}, "otlp.endpoint", "http://c:4317"),
    (
        "ENDPOINT http gets /v1/logs",
        {**HTTP, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"},
        "otlp.endpoint",
        "http://c:4318/v1/logs",
    ),
    (
        "ENDPOINT http with a path prefix",
        {**HTTP, "OTEL_EXPORTER_OTLP_ENDPOINT": "https://c/otlp/?tenant=a"},
        "otlp.endpoint",
        "https://c/otlp/v1/logs?tenant=a",
    ),
    (
        "LOGS_ENDPOINT as given over http",
        {**HTTP, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://c:4318/custom"},
        "otlp.endpoint",
        "http://c:4318/custom",
    ),
    (
        "LOGS_ENDPOINT wins",
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://b:2"},
        "otlp.endpoint",
        "http://b:2",
    ),
    ("ENDPOINT scheme case", {"OTEL_EXPORTER_OTLP_ENDPOINT": "HTTPS://c:4317"}, "otlp.tls", True),
    ("ENDPOINT http is plaintext", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317"}, "otlp.tls", False),
    ("ENDPOINT without port: https 443", {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c"}, "otlp.grpc_target", "c:443"),
    ("ENDPOINT without port: http 80", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c/"}, "otlp.grpc_target", "c:80"),
    ("ENDPOINT IPv6", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://[::1]:4317"}, "otlp.grpc_target", "[::1]:4317"),
    (
        "ENDPOINT user info leaves the URL",
        {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://user:{PASSWORD}@c:4317"},
        "otlp.endpoint",
        "http://c:4317",
    ),
    (
        "ENDPOINT user info becomes Basic",
        {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://user:{PASSWORD}@c:4317"},
        "otlp.headers",
        (("authorization", f"Basic {BASIC}"),),
    ),
    (
        "ENDPOINT user info percent-decoded",
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://us%40er:p%3Aw@c:4317"},
        "otlp.headers",
        (("authorization", "Basic " + base64.b64encode(b"us@er:p:w").decode()),),
    ),
    (
        "HEADERS decoded, keys lower-cased, in order",
        {"OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20abc%3Bd%2Ce%22f,X-Tenant=acme"},
        "otlp.headers",
        (("authorization", 'Bearer abc;d,e"f'), ("x-tenant", "acme")),
    ),
    (
        "HEADERS raw space kept, = in value, blanks skipped",
        {"OTEL_EXPORTER_OTLP_HEADERS": " a = Basic x==, ,b=c d ,"},
        "otlp.headers",
        (("a", "Basic x=="), ("b", "c d")),
    ),
    (
        "HEADERS keys not decoded",
        {**HTTP, "OTEL_EXPORTER_OTLP_HEADERS": "x%41=1"},
        "otlp.headers",
        (("x%41", "1"),),
    ),
    (
        "LOGS_HEADERS replace HEADERS",
        {"OTEL_EXPORTER_OTLP_HEADERS": "a=1,b=2", "OTEL_EXPORTER_OTLP_LOGS_HEADERS": "c=3"},
        "otlp.headers",
        (("c", "3"),),
    ),
    (
        "HEADERS user-agent over http",
        {**HTTP, "OTEL_EXPORTER_OTLP_HEADERS": "User-Agent=me"},
        "otlp.headers",
        (("user-agent", "me"),),
    ),
    ("COMPRESSION gzip", {"OTEL_EXPORTER_OTLP_COMPRESSION": "GZIP"}, "otlp.compression", "gzip"),
    ("COMPRESSION none", {"OTEL_EXPORTER_OTLP_COMPRESSION": "none"}, "otlp.compression", "none"),
    (
        "COMPRESSION deflate over http",
        {**HTTP, "OTEL_EXPORTER_OTLP_COMPRESSION": "deflate"},
        "otlp.compression",
        "deflate",
    ),
    (
        "LOGS_COMPRESSION wins",
        {"OTEL_EXPORTER_OTLP_COMPRESSION": "brotli", "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION": "gzip"},
        "otlp.compression",
        "gzip",
    ),
    ("TIMEOUT milliseconds", {"OTEL_EXPORTER_OTLP_TIMEOUT": "1500"}, "otlp.timeout_millis", 1500),
    ("TIMEOUT maximum", {"OTEL_EXPORTER_OTLP_TIMEOUT": "600000"}, "otlp.timeout_millis", 600_000),
    (
        "LOGS_TIMEOUT wins",
        {"OTEL_EXPORTER_OTLP_TIMEOUT": "x", "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": "2000"},
        "otlp.timeout_millis",
        2000,
    ),
    (
        "deadline: the smaller timeout",
        {"OTEL_EXPORTER_OTLP_TIMEOUT": "5000", "OTEL_BLRP_EXPORT_TIMEOUT": "2500"},
        "export_deadline_seconds",
        2.5,
    ),
    ("INSECURE agreeing with the scheme", {"OTEL_EXPORTER_OTLP_INSECURE": "true"}, "otlp.tls", False),
    ("BLRP_SCHEDULE_DELAY", {"OTEL_BLRP_SCHEDULE_DELAY": "3600000"}, "schedule_delay_millis", 3_600_000),
    ("BLRP_EXPORT_TIMEOUT", {"OTEL_BLRP_EXPORT_TIMEOUT": "1"}, "export_timeout_millis", 1),
    ("BLRP_MAX_QUEUE_SIZE leading zero", {"OTEL_BLRP_MAX_QUEUE_SIZE": "0100"}, "max_queue_size", 100),
    ("BLRP_MAX_QUEUE_SIZE small: batch follows", {"OTEL_BLRP_MAX_QUEUE_SIZE": "10"}, "max_export_batch_size", 10),
    (
        "BLRP_MAX_EXPORT_BATCH_SIZE = queue",
        {"OTEL_BLRP_MAX_QUEUE_SIZE": "10", "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": "10"},
        "max_export_batch_size",
        10,
    ),
    ("ATTRIBUTE_COUNT_LIMIT generic", {"OTEL_ATTRIBUTE_COUNT_LIMIT": "5"}, "attribute_count_limit", 5),
    (
        "LOGRECORD_ATTRIBUTE_COUNT_LIMIT wins",
        {"OTEL_ATTRIBUTE_COUNT_LIMIT": "5", "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT": "0"},
        "attribute_count_limit",
        0,
    ),
    (
        "LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
        {"OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT": "4"},
        "attribute_value_length_limit",
        4,
    ),
    (
        "ATTRIBUTE_VALUE_LENGTH_LIMIT generic",
        {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "9"},
        "attribute_value_length_limit",
        9,
    ),
    (
        "INTERNAL_METRICS_ENABLED",
        {"OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED": "true"},
        "internal_metrics_enabled",
        True,
    ),
    ("RESOURCE_ATTRIBUTES well formed", {"OTEL_RESOURCE_ATTRIBUTES": "a=b, c = d%20e"}, "sdk_disabled", False),
    ("SERVICE_NAME", {"OTEL_SERVICE_NAME": "agent-host"}, "sdk_disabled", False),
    ("RESOURCE_DETECTORS known and *", {"OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "host, *"}, "sdk_disabled", False),
]


@pytest.mark.parametrize(
    ("environ", "path", "expected"), [row[1:] for row in GOOD_ROWS], ids=[row[0] for row in GOOD_ROWS]
)
def test_good_value(environ: dict[str, str], path: str, expected: Any, caplog: pytest.LogCaptureFixture) -> None:
    assert _value(_read(environ), path) == expected
    assert [record.getMessage() for record in caplog.records] == []


def test_certificate_files(tmp_path: Path) -> None:
    certificates = make_self_signed(tmp_path)
    settings = _read(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "https://c:4317",
            "OTEL_EXPORTER_OTLP_CERTIFICATE": "/no/such/generic.pem",  # the LOGS one wins, this is unread
            "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE": certificates.ca_path,
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": certificates.cert_path,
            "OTEL_EXPORTER_OTLP_CLIENT_KEY": certificates.key_path,
        }
    )
    assert settings.otlp is not None
    assert settings.otlp.certificate == ConfiguredFile("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", certificates.ca_path)
    assert settings.otlp.client_certificate == ConfiguredFile(
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", certificates.cert_path
    )
    assert settings.otlp.client_key == ConfiguredFile("OTEL_EXPORTER_OTLP_CLIENT_KEY", certificates.key_path)


def test_settings_repr_hides_header_values_and_credentials() -> None:
    settings = _read(
        {
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://user:{PASSWORD}@c:4318/?key={SECRET}",
            "OTEL_EXPORTER_OTLP_HEADERS": f"x-api-key={SECRET}",
        }
    )
    shown = repr(settings)
    assert "x-api-key" in shown
    assert not any(secret in shown for secret in SECRETS)


# --------------------------------------------------------------------------- bad values

BAD_ROWS: list[tuple[str, str]] = [
    # variable, value: each must be refused with an error naming the variable
    ("OTEL_SDK_DISABLED", "yes"),
    ("OTEL_LOGS_EXPORTER", "zipkin"),
    ("OTEL_LOGS_EXPORTER", "otlp,none"),
    ("OTEL_LOGS_EXPORTER", "otlp,otlp"),
    ("OTEL_LOGS_EXPORTER", "otlp_proto_http"),
    ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
    ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "GRPC"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "127.0.0.1:4317"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4317"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "not-a-url"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector:21"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:99999"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:0"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:43a7"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4²"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://local host:4317"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://:4317"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://[::1:4317"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://[nope]:4317"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://exa$mple:4317"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://bücher.example:4317"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317/#frag"),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317/" + "p" * 2100),
    ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "https//collector:4318/v1/logs"),
    ("OTEL_EXPORTER_OTLP_INSECURE", "maybe"),
    ("OTEL_EXPORTER_OTLP_LOGS_INSECURE", "1"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "authorization"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "=value"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "bad key=1"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "a=1,a=2"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "A=1,a=2"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "content-type=text/plain"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "Host=elsewhere"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "grpc-timeout=1S"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "x-trace-bin=abc"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "user-agent=me"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "x!key=1"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "a=%00"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "a=%7F"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "a=%09b"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "a=%C3%A9"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "a=%FF"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "a=%20b"),
    ("OTEL_EXPORTER_OTLP_HEADERS", "a=x" * 6000),
    ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "x=1,=broken"),
    ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"),
    ("OTEL_EXPORTER_OTLP_COMPRESSION", "deflate"),
    ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon"),
    ("OTEL_EXPORTER_OTLP_TIMEOUT", "0"),
    ("OTEL_EXPORTER_OTLP_TIMEOUT", "-5"),
    ("OTEL_EXPORTER_OTLP_TIMEOUT", "inf"),
    ("OTEL_EXPORTER_OTLP_TIMEOUT", "nan"),
    ("OTEL_EXPORTER_OTLP_TIMEOUT", "1e400"),
    ("OTEL_EXPORTER_OTLP_TIMEOUT", "2.5"),
    ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
    ("OTEL_EXPORTER_OTLP_TIMEOUT", "600001"),
    ("OTEL_EXPORTER_OTLP_TIMEOUT", "١٠٠٠"),
    ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "0.5"),
    ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/no/such/ca.pem"),
    ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/"),
    ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/no/such/key.pem"),
    ("OTEL_PYTHON_EXPORTER_OTLP_HTTP_CREDENTIAL_PROVIDER", "gcp"),
    ("OTEL_PYTHON_EXPORTER_OTLP_GRPC_LOGS_CREDENTIAL_PROVIDER", "gcp"),
    ("OTEL_BLRP_SCHEDULE_DELAY", "fast"),
    ("OTEL_BLRP_SCHEDULE_DELAY", "0"),
    ("OTEL_BLRP_SCHEDULE_DELAY", "99999999999999"),
    ("OTEL_BLRP_EXPORT_TIMEOUT", "1.5s"),
    ("OTEL_BLRP_MAX_QUEUE_SIZE", "0"),
    ("OTEL_BLRP_MAX_QUEUE_SIZE", "99999999999999999999"),
    ("OTEL_BLRP_MAX_QUEUE_SIZE", "²"),
    ("OTEL_BLRP_MAX_QUEUE_SIZE", "1" * 5000),
    ("OTEL_BLRP_MAX_QUEUE_SIZE", "+10"),
    ("OTEL_BLRP_MAX_QUEUE_SIZE", "1_000"),
    ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "-5"),
    ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "40000"),
    ("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "many"),
    ("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "100001"),
    ("OTEL_ATTRIBUTE_COUNT_LIMIT", "³"),
    ("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "-1"),
    ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "9999999999"),
    ("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", "on"),
    ("OTEL_SERVICE_NAME", "caf\udce9"),  # what os.environ makes of the non-UTF-8 byte 0xE9
    ("OTEL_RESOURCE_ATTRIBUTES", "a=b,"),
    ("OTEL_RESOURCE_ATTRIBUTES", "a"),
    ("OTEL_RESOURCE_ATTRIBUTES", "=b"),
    ("OTEL_RESOURCE_ATTRIBUTES", "a=\udcff"),
    ("OTEL_EXPERIMENTAL_RESOURCE_DETECTORS", "nope"),
]


@pytest.mark.parametrize(("variable", "value"), BAD_ROWS, ids=[f"{v}={x[:40]!r}" for v, x in BAD_ROWS])
def test_bad_value_is_one_error_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        _read({variable: value})
    assert variable in str(raised.value)
    assert len(str(raised.value)) < 400


def test_bad_certificate_contents(tmp_path: Path) -> None:
    certificates = make_self_signed(tmp_path)
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    rows = [
        ({"OTEL_EXPORTER_OTLP_CERTIFICATE": str(not_pem)}, "OTEL_EXPORTER_OTLP_CERTIFICATE"),
        ({"OTEL_EXPORTER_OTLP_CERTIFICATE": certificates.key_path}, "OTEL_EXPORTER_OTLP_CERTIFICATE"),
        ({"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": certificates.cert_path}, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"),
        ({"OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY": certificates.key_path}, "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY"),
        (  # a certificate and a key that are not a pair
            {
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": certificates.ca_path,
                "OTEL_EXPORTER_OTLP_CLIENT_KEY": certificates.key_path,
            },
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        ),
    ]
    for environ, variable in rows:
        with pytest.raises(ConfigurationError) as raised:
            _read(environ)
        assert variable in str(raised.value), environ


def test_encrypted_client_key_is_refused_without_prompting(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    certificates = make_self_signed(tmp_path)
    # The certificate's own key, encrypted: OpenSSL would prompt on the terminal for its passphrase.
    key = serialization.load_pem_private_key(Path(certificates.key_path).read_bytes(), password=None)
    encrypted = tmp_path / "encrypted-key.pem"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    with pytest.raises(ConfigurationError, match="OTEL_EXPORTER_OTLP_CLIENT_KEY"):
        _read(
            {
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE": certificates.cert_path,
                "OTEL_EXPORTER_OTLP_CLIENT_KEY": str(encrypted),
            }
        )


SECRET_ROWS: list[tuple[str, dict[str, str], str]] = [
    # id, environment, the variable the error names; the error must hold none of SECRETS
    ("header without =", {"OTEL_EXPORTER_OTLP_HEADERS": f"authorization=ok,{SECRET}"}, "entry 2"),
    ("header raw ;", {"OTEL_EXPORTER_OTLP_HEADERS": f"authorization=Bearer;{SECRET}"}, "entry 1"),
    ("header raw quote", {"OTEL_EXPORTER_OTLP_HEADERS": f'authorization="{SECRET}"'}, "entry 1"),
    ("header raw backslash", {"OTEL_EXPORTER_OTLP_HEADERS": f"authorization={SECRET}\\"}, "entry 1"),
    ("header raw non-ASCII", {"OTEL_EXPORTER_OTLP_HEADERS": f"authorization={SECRET}é"}, "entry 1"),
    ("header raw control", {"OTEL_EXPORTER_OTLP_HEADERS": f"authorization={SECRET}\x01"}, "entry 1"),
    ("header encoded CR LF", {"OTEL_EXPORTER_OTLP_HEADERS": f"authorization={SECRET}%0D%0Ax-injected: 1"}, "entry 1"),
    ("header encoded LF", {"OTEL_EXPORTER_OTLP_LOGS_HEADERS": f"a=1,authorization={SECRET}%0A"}, "entry 2"),
    ("header encoded non-ASCII", {"OTEL_EXPORTER_OTLP_HEADERS": f"authorization={SECRET}%E2%82%AC"}, "entry 1"),
    ("header key with space", {"OTEL_EXPORTER_OTLP_HEADERS": f"Bearer {SECRET}=1"}, "entry 1"),
    (
        "header key upper-case twin",
        {"OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=a,authorization={SECRET}"},
        "entry 2",
    ),
    (
        "endpoint password, bad port",
        {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://user:{PASSWORD}@127.0.0.1:99999/?token={SECRET}"},
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ),
    (
        "endpoint password, space",
        {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://user:{PASSWORD}@local host:4317"},
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ),
    (
        "endpoint password, no scheme",
        {"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": f"user:{PASSWORD}@127.0.0.1:4317"},
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    ),
    (
        "endpoint token as user name",
        {"OTEL_EXPORTER_OTLP_ENDPOINT": f"ftp://{SECRET}@collector/"},
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ),
    (
        "endpoint password and an authorization header",
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://user:{PASSWORD}@c:4317",
            "OTEL_EXPORTER_OTLP_HEADERS": f"authorization=Bearer%20{SECRET}",
        },
        "OTEL_EXPORTER_OTLP_HEADERS",
    ),
]


@pytest.mark.parametrize(("environ", "named"), [row[1:] for row in SECRET_ROWS], ids=[row[0] for row in SECRET_ROWS])
def test_errors_never_echo_a_secret(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        _read(environ)
    message = str(raised.value)
    assert named in message
    assert not any(secret in message for secret in SECRETS), message
    # Nothing chained that a traceback display would print with the value in it.
    assert raised.value.__cause__ is None
    assert raised.value.__context__ is None or raised.value.__suppress_context__


# --------------------------------------------------------------------------- warnings

WARNING_ROWS: list[tuple[str, dict[str, str], str | None]] = [
    # id, environment, the variable the one warning names (None: no warning)
    ("TIMEOUT below 1000 ms", {"OTEL_EXPORTER_OTLP_TIMEOUT": "10"}, "OTEL_EXPORTER_OTLP_TIMEOUT"),
    ("LOGS_TIMEOUT below 1000 ms", {"OTEL_EXPORTER_OTLP_LOGS_TIMEOUT": "999"}, "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT"),
    ("TIMEOUT 1000 ms", {"OTEL_EXPORTER_OTLP_TIMEOUT": "1000"}, None),
    ("BLRP_EXPORT_TIMEOUT below 1000 ms", {"OTEL_BLRP_EXPORT_TIMEOUT": "10"}, None),
    (
        "LOGS_ENDPOINT without a path over http",
        {**HTTP, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://c:4318"},
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    ),
    (
        "LOGS_ENDPOINT with path / over http",
        {**HTTP, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://c:4318/"},
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    ),
    (
        "LOGS_ENDPOINT with a path over http",
        {**HTTP, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://c:4318/v1/logs"},
        None,
    ),
    ("LOGS_ENDPOINT without a path over grpc", {"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://c:4317"}, None),
    ("ENDPOINT without a path over http", {**HTTP, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, None),
    (
        "INSECURE=true with https",
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://c:4317", "OTEL_EXPORTER_OTLP_INSECURE": "true"},
        "OTEL_EXPORTER_OTLP_INSECURE",
    ),
    ("INSECURE=false with http", {"OTEL_EXPORTER_OTLP_LOGS_INSECURE": "false"}, "OTEL_EXPORTER_OTLP_LOGS_INSECURE"),
    ("INSECURE over http/protobuf", {**HTTP, "OTEL_EXPORTER_OTLP_INSECURE": "false"}, None),
]


@pytest.mark.parametrize(("environ", "named"), [row[1:] for row in WARNING_ROWS], ids=[row[0] for row in WARNING_ROWS])
def test_one_warning_for_a_usable_but_unlikely_value(
    environ: dict[str, str], named: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="mcp_otel"):
        _read(environ)
    messages = [record.getMessage() for record in caplog.records if record.name == "mcp_otel"]
    if named is None:
        assert messages == []
    else:
        assert len(messages) == 1 and named in messages[0], messages


def test_timeout_warning_says_how_it_was_read(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mcp_otel"):
        settings = _read({"OTEL_EXPORTER_OTLP_TIMEOUT": "10"})
    assert settings.otlp is not None and settings.otlp.timeout_millis == 10
    (message,) = [record.getMessage() for record in caplog.records]
    assert "10 milliseconds" in message and "write 10000" in message


def test_decimal_timeout_error_says_what_to_write() -> None:
    with pytest.raises(ConfigurationError, match="write 2500"):
        _read({"OTEL_EXPORTER_OTLP_TIMEOUT": "2.5"})


# --------------------------------------------------------------------------- mask_url

MASK_ROWS = [
    ("http://user:pw@host:4317/path?token=x#frag", "http://***:***@host:4317/path?***"),
    ("https://token@host/", "https://***@host/"),
    ("user:pw@host:4317", "***:***@host:4317"),
    ("http://host:4317/v1/logs", "http://host:4317/v1/logs"),
    ("http://a@b@host/?x", "http://***@host/?***"),
    ("http://host/#secret", "http://host/#***"),
    ("", ""),
    ("http://" + "h" * 300, "http://" + "h" * 192 + "…"),
]


@pytest.mark.parametrize(("url", "masked"), MASK_ROWS, ids=[row[0][:40] or "empty" for row in MASK_ROWS])
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


# --------------------------------------------------------------------------- the review's findings, end to end


CHILD = r"""
import json, logging, os, sys
from types import SimpleNamespace
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append(record.levelname + " " + record.name + ": " + record.getMessage())
logging.getLogger().addHandler(Keep())
logging.getLogger().setLevel(logging.DEBUG)
from mcp_otel.errors import ConfigurationError
error = None
try:
    if sys.argv[1] == "handler":
        from mcp_otel import OTelLogHandler
        handler = OTelLogHandler()
        handler.handle(SimpleNamespace(level="info", logger="review", data="record"))
        handler.shutdown(timeout_millis=1_000)
        records.append("stats: " + json.dumps(handler.stats()))
    else:
        from opentelemetry._logs import LogRecord
        from opentelemetry.sdk._logs import ReadableLogRecord
        from opentelemetry.sdk.resources import Resource
        from mcp_otel.settings import read_export_settings
        from mcp_otel.senders import build_senders
        settings = read_export_settings(os.environ)
        batch = [ReadableLogRecord(log_record=LogRecord(body="record"), resource=Resource.create({}))]
        for sender in build_senders(settings):
            outcome = sender.send(batch, 1.0)
            records.append("outcome: " + str(outcome.cause))
            sender.shutdown()
except ConfigurationError as raised:
    error = str(raised)
print(json.dumps({"error": error, "records": records}))
"""

REVIEW_ROWS: list[tuple[str, dict[str, str], str]] = [
    # id, environment, "error: VARIABLE" or "warning: VARIABLE"
    (
        "header ; is skipped and printed",
        {"OTEL_EXPORTER_OTLP_HEADERS": f"authorization=Bearer;{SECRET}"},
        "error: OTEL_EXPORTER_OTLP_HEADERS",
    ),
    (
        "header quote is skipped and printed",
        {"OTEL_EXPORTER_OTLP_HEADERS": f'authorization="{SECRET}"'},
        "error: OTEL_EXPORTER_OTLP_HEADERS",
    ),
    (
        "header non-ASCII is skipped and printed",
        {"OTEL_EXPORTER_OTLP_HEADERS": f"authorization={SECRET}é"},
        "error: OTEL_EXPORTER_OTLP_HEADERS",
    ),
    (
        "header encoded CR LF breaks every export, http",
        {
            **HTTP,
            "OTEL_EXPORTER_OTLP_HEADERS": f"authorization={SECRET}%0D%0Ax",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:PORT",
        },
        "error: OTEL_EXPORTER_OTLP_HEADERS",
    ),
    (
        "endpoint password echoed by the error",
        {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://user:{PASSWORD}@local host:4317"},
        "error: OTEL_EXPORTER_OTLP_ENDPOINT",
    ),
    (
        "endpoint password logged by gRPC",
        {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://user:{PASSWORD}@127.0.0.1:PORT"},
        "none",
    ),
    (
        "queue size 99999999999999999999 crashes",
        {"OTEL_BLRP_MAX_QUEUE_SIZE": "99999999999999999999"},
        "error: OTEL_BLRP_MAX_QUEUE_SIZE",
    ),
    ("queue size ² crashes", {"OTEL_BLRP_MAX_QUEUE_SIZE": "2²"}, "error: OTEL_BLRP_MAX_QUEUE_SIZE"),
    (
        "attribute limit ² crashes",
        {"OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT": "²"},
        "error: OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
    ),
    ("queue size alone below 128 crashes", {"OTEL_BLRP_MAX_QUEUE_SIZE": "10"}, "none"),
    (
        "huge schedule delay kills the worker",
        {"OTEL_BLRP_SCHEDULE_DELAY": "9999999999999"},
        "error: OTEL_BLRP_SCHEDULE_DELAY",
    ),
    ("timeout inf", {"OTEL_EXPORTER_OTLP_TIMEOUT": "inf"}, "error: OTEL_EXPORTER_OTLP_TIMEOUT"),
    ("timeout 1e400", {"OTEL_EXPORTER_OTLP_TIMEOUT": "1e400"}, "error: OTEL_EXPORTER_OTLP_TIMEOUT"),
    ("timeout seconds-style decimal", {"OTEL_EXPORTER_OTLP_TIMEOUT": "2.5"}, "error: OTEL_EXPORTER_OTLP_TIMEOUT"),
    (
        "timeout read as seconds",
        {"OTEL_EXPORTER_OTLP_TIMEOUT": "10", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:PORT"},
        "warning: OTEL_EXPORTER_OTLP_TIMEOUT",
    ),
    (
        "endpoint port 99999",
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:99999"},
        "error: OTEL_EXPORTER_OTLP_ENDPOINT",
    ),
    ("endpoint ftp", {"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://localhost:4317"}, "error: OTEL_EXPORTER_OTLP_ENDPOINT"),
    ("endpoint not a URL", {"OTEL_EXPORTER_OTLP_ENDPOINT": "not-a-url"}, "error: OTEL_EXPORTER_OTLP_ENDPOINT"),
    (
        "endpoint without scheme goes to TLS",
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "127.0.0.1:PORT"},
        "error: OTEL_EXPORTER_OTLP_ENDPOINT",
    ),
    (
        "logs endpoint without /v1/logs over http",
        {**HTTP, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT": "http://127.0.0.1:PORT"},
        "warning: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    ),
    (
        "unknown resource detector prints a traceback",
        {"OTEL_EXPERIMENTAL_RESOURCE_DETECTORS": "nope"},
        "error: OTEL_EXPERIMENTAL_RESOURCE_DETECTORS",
    ),
    ("non-UTF-8 service name breaks every export", {"OTEL_SERVICE_NAME": "caf\udce9"}, "error: OTEL_SERVICE_NAME"),
]


@pytest.mark.parametrize("via", ["modules", "handler"])
@pytest.mark.parametrize(("environ", "expected"), [row[1:] for row in REVIEW_ROWS], ids=[row[0] for row in REVIEW_ROWS])
def test_review_finding(environ: dict[str, str], expected: str, via: str) -> None:
    port = str(free_port())  # nothing listens: exports that are attempted fail fast
    child_environment = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    child_environment.update({name: value.replace("PORT", port) for name, value in environ.items()})
    child_environment["OTEL_BLRP_SCHEDULE_DELAY"] = child_environment.get("OTEL_BLRP_SCHEDULE_DELAY", "50")
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, via],
        check=False,
        env=child_environment,
        capture_output=True,
        timeout=120,
        cwd=REPOSITORY,
    )
    stderr = completed.stderr.decode("utf-8", "replace")
    stdout = completed.stdout.decode("utf-8", "replace")
    assert completed.returncode == 0 and "Traceback" not in stderr, stderr[-2000:]
    result = json.loads(stdout.strip().splitlines()[-1])
    everything = stdout + stderr
    assert not any(secret in everything for secret in SECRETS), everything[-2000:]
    kind, _, variable = expected.partition(": ")
    if kind == "error":
        assert result["error"] is not None and variable in result["error"], result
    else:
        assert result["error"] is None, result
    warnings = [line for line in result["records"] if line.startswith("WARNING mcp_otel:") and "dropped" not in line]
    if kind == "warning":
        assert len(warnings) == 1 and variable in warnings[0], result["records"]
    else:
        assert warnings == [], result["records"]
