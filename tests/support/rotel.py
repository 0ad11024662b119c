"""Rotel, a third-party OpenTelemetry collector written in Rust, run as a child process for tests.

The ``rotel`` wheel (PyPI, a test-only dependency) ships the collector binary inside the
package (``rotel/rotel-agent``) and declares no console script, so the binary is found
through the package. ``RotelCollector`` starts it in the foreground with OTLP receivers on
free loopback ports (gRPC and HTTP), forwarding logs over OTLP (gRPC or HTTP/protobuf) to an
upstream endpoint, typically one of the suite's own ``OTLPReceiver``:

    with OTLPReceiver("grpc") as upstream, RotelCollector(upstream.endpoint, "grpc") as rotel:
        ... export to rotel.endpoint("grpc") or rotel.endpoint("http/protobuf") ...

Rotel facts this relies on (rotel 0.0.1a15, binary "0.0.1-alpha10"):

* the exporter endpoint needs a scheme (``http://host:port``, gRPC included), or the agent
  exits at once with "relative URL without a base";
* over HTTP rotel appends ``/v1/logs`` to the exporter endpoint itself;
* its exporter always gzips (``--otlp-exporter-compression none`` is ignored over HTTP);
  ``OTLPReceiver`` accepts gzip on both transports;
* the listeners are up within ~0.1 s of launch; SIGTERM flushes pending batches, then exits;
* the default 200 ms batch timeout would add ~100 ms per hop, hence ``--logs-batch-timeout``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from .child_process import LOOPBACK_HOST, ChildProcess
from .otlp_receiver import OTLPProtocol, free_port

RotelExporterProtocol = Literal["grpc", "http"]


def rotel_agent_path() -> Path:
    """The collector binary inside the installed ``rotel`` package."""
    import rotel  # imported here so that only the tests using rotel need it installed

    agent = Path(rotel.__file__).resolve().parent / "rotel-agent"
    if not agent.is_file():
        raise RuntimeError(f"the rotel package has no agent binary at {agent}")
    return agent


class RotelCollector(ChildProcess):
    """A foreground ``rotel-agent start`` receiving OTLP logs and forwarding them over OTLP.

    ``upstream_endpoint`` is a base URL with scheme (``OTLPReceiver.endpoint``);
    ``upstream_protocol`` is rotel's exporter protocol, ``"grpc"`` or ``"http"``. Traces and
    metrics receivers are off. The agent's output is kept in ``log_path`` and quoted in errors;
    ``stop()`` sends SIGTERM, which makes rotel flush what it holds.
    """

    name = "rotel"

    def __init__(
        self,
        upstream_endpoint: str,
        upstream_protocol: RotelExporterProtocol,
        *,
        log_path: str | os.PathLike[str],
        batch_timeout: str = "10ms",
        startup_timeout: float = 10.0,
    ) -> None:
        self.upstream_endpoint = upstream_endpoint
        self.upstream_protocol: RotelExporterProtocol = upstream_protocol
        super().__init__(Path(log_path), startup_timeout)
        self.batch_timeout = batch_timeout
        self.grpc_port = free_port()
        self.http_port = free_port()
        while self.http_port == self.grpc_port:
            self.http_port = free_port()

    def __enter__(self) -> RotelCollector:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def endpoint(self, protocol: OTLPProtocol) -> str:
        """What ``OTEL_EXPORTER_OTLP_ENDPOINT`` takes to reach this collector over ``protocol``."""
        port = self.grpc_port if protocol == "grpc" else self.http_port
        return f"http://{LOOPBACK_HOST}:{port}"

    def command(self) -> list[str]:
        return [
            str(rotel_agent_path()),
            "start",
            "--otlp-grpc-endpoint", f"{LOOPBACK_HOST}:{self.grpc_port}",
            "--otlp-http-endpoint", f"{LOOPBACK_HOST}:{self.http_port}",
            "--otlp-receiver-traces-disabled",
            "--otlp-receiver-metrics-disabled",
            "--exporter", "otlp",
            "--otlp-exporter-endpoint", self.upstream_endpoint,
            "--otlp-exporter-protocol", self.upstream_protocol,
            "--logs-batch-timeout", self.batch_timeout,
            # Faster retries than the 5 s default, in case the first export races the upstream.
            "--otlp-exporter-retry-initial-backoff", "100ms",
            "--otlp-exporter-retry-max-backoff", "500ms",
            # Not used in the foreground, but never let a run touch the shared /tmp defaults.
            "--pid-file", str(self.log_path.with_suffix(".pid")),
            "--log-file", str(self.log_path),
        ]  # fmt: skip

    def start(self) -> None:
        """Launch the agent and return once both OTLP ports accept connections."""
        # Rotel reads every flag from ROTEL_* too; the developer's own settings must not leak in.
        environment = {name: value for name, value in os.environ.items() if not name.startswith(("ROTEL_", "OTEL_"))}
        environment["NO_COLOR"] = "1"
        self.start_child(self.command(), [self.grpc_port, self.http_port], env=environment)
