"""Shared fixtures: a clean OTEL_* environment, real OTLP receivers, and the test servers' commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.otlp_receiver import OTLPReceiver

REPOSITORY = Path(__file__).resolve().parent.parent
SERVERS = REPOSITORY / "tests" / "servers"
SDK_SERVER = str(SERVERS / "sdk_server.py")
FASTMCP_SERVER = str(SERVERS / "fastmcp_server.py")
PYTHON = sys.executable

PROTOCOLS = ["grpc", "http/protobuf"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@contextmanager
def otel_environment(**variables: str) -> Iterator[pytest.MonkeyPatch]:
    """No OTEL_* or MCP_OTEL_* setting of the developer's or CI's own, a short batch delay, then ``variables``.

    For module-scoped fixtures; each test gets the same through the autouse fixture below.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("OTEL_", "MCP_OTEL_")):
                patch.delenv(name)
        patch.setenv("OTEL_BLRP_SCHEDULE_DELAY", "50")
        for name, value in variables.items():
            patch.setenv(name, value)
        yield patch


@pytest.fixture(autouse=True)
def clean_otel_environment() -> Iterator[None]:
    with otel_environment():
        yield


@pytest.fixture(params=PROTOCOLS)
def receiver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[OTLPReceiver]:
    """A live receiver for each OTLP protocol, with the environment pointing the handler at it."""
    with OTLPReceiver(request.param) as live_receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", request.param)
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", live_receiver.endpoint)
        yield live_receiver


@pytest.fixture
def http_receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[OTLPReceiver]:
    """One live OTLP/HTTP receiver, with the environment pointing the handler at it."""
    with OTLPReceiver("http/protobuf") as live_receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", live_receiver.endpoint)
        yield live_receiver
