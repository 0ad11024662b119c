"""Failing exports with a secret in a header and a password in the endpoint: the scenarios every leak test runs."""

from __future__ import annotations

import base64
from typing import Any

SECRET = "s3cr3t-T0KEN"
PASSWORD = "pa55-w0rd"
BASIC = base64.b64encode(f"user:{PASSWORD}".encode()).decode()
SECRETS = (SECRET, PASSWORD, BASIC)


def leak_scenarios(protocol: str, endpoints: dict[str, str]) -> list[dict[str, Any]]:
    """Failing exports over ``protocol`` with a secret in a header and a password in the endpoint."""
    header = f"authorization=Bearer%20{SECRET}"
    with_password = {name: url.replace("://", f"://user:{PASSWORD}@", 1) for name, url in endpoints.items()}
    base = {"OTEL_EXPORTER_OTLP_PROTOCOL": protocol}
    scenarios: list[dict[str, Any]] = [
        {
            "id": "refused, header",
            "environ": {
                **base,
                "OTEL_EXPORTER_OTLP_ENDPOINT": endpoints["refused"],
                "OTEL_EXPORTER_OTLP_HEADERS": header,
            },
        },
        {"id": "refused, password", "environ": {**base, "OTEL_EXPORTER_OTLP_ENDPOINT": with_password["refused"]}},
        {
            "id": "https to plaintext",
            "environ": {
                **base,
                "OTEL_EXPORTER_OTLP_ENDPOINT": with_password["plaintext"].replace("http:", "https:"),
                "OTEL_EXPORTER_OTLP_LOGS_HEADERS": f"x-api-key={SECRET}",
            },
        },
        {
            "id": "http to TLS",
            "environ": {
                **base,
                "OTEL_EXPORTER_OTLP_ENDPOINT": endpoints["tls"].replace("https:", "http:"),
                "OTEL_EXPORTER_OTLP_HEADERS": header,
            },
        },
        {"id": "untrusted TLS", "environ": {**base, "OTEL_EXPORTER_OTLP_ENDPOINT": with_password["tls"]}},
        {"id": "hung", "environ": {**base, "OTEL_EXPORTER_OTLP_ENDPOINT": with_password["hung"]}},
        {
            "id": "rejecting and echoing",
            "environ": {
                **base,
                "OTEL_EXPORTER_OTLP_ENDPOINT": endpoints["unauthenticated"],
                "OTEL_EXPORTER_OTLP_HEADERS": header,
            },
        },
        {
            "id": "unavailable and echoing",
            "environ": {**base, "OTEL_EXPORTER_OTLP_ENDPOINT": with_password["unavailable"]},
        },
        {
            "id": "failing and echoing",
            "environ": {
                **base,
                "OTEL_EXPORTER_OTLP_ENDPOINT": endpoints["internal"],
                "OTEL_EXPORTER_OTLP_HEADERS": header,
            },
        },
        {
            "id": "header with ;",
            "environ": {
                **base,
                "OTEL_EXPORTER_OTLP_ENDPOINT": endpoints["plaintext"],
                "OTEL_EXPORTER_OTLP_HEADERS": f"authorization=Bearer;{SECRET}",
            },
        },
        {
            "id": "header with CR LF",
            "environ": {
                **base,
                "OTEL_EXPORTER_OTLP_ENDPOINT": endpoints["plaintext"],
                "OTEL_EXPORTER_OTLP_HEADERS": f"authorization={SECRET}%0D%0Ax",
            },
        },
        {
            "id": "header non-ASCII",
            "environ": {
                **base,
                "OTEL_EXPORTER_OTLP_ENDPOINT": endpoints["plaintext"],
                "OTEL_EXPORTER_OTLP_HEADERS": f"authorization={SECRET}%C3%A9",
            },
        },
        {
            "id": "header without =",
            "environ": {
                **base,
                "OTEL_EXPORTER_OTLP_ENDPOINT": endpoints["plaintext"],
                "OTEL_EXPORTER_OTLP_HEADERS": f"Bearer {SECRET}",
            },
        },
        {
            "id": "endpoint with password, bad port",
            "environ": {**base, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://user:{PASSWORD}@127.0.0.1:99999"},
        },
        {
            "id": "endpoint with password, no scheme",
            "environ": {**base, "OTEL_EXPORTER_OTLP_ENDPOINT": f"user:{PASSWORD}@127.0.0.1:4317"},
        },
    ]
    return scenarios
