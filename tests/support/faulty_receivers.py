"""OTLP/logs receivers that answer the way a test scripts: errors, throttling, partial success, silence.

``OTLPReceiver`` (otlp_receiver.py) acknowledges, fails with one fixed error, or never answers;
the sender tests need every answer the OTLP specification gives a client, on the real wire:

* HTTP: any status with any headers (429 with ``Retry-After`` as seconds or an HTTP-date, 413,
  503, a redirect), a 200 whose body is an ``ExportLogsServiceResponse`` with partial success;
* gRPC: any status code, with ``google.rpc.RetryInfo`` packed into ``grpc-status-details-bin``
  the way a collector does it, a partial-success response, and a real "Received message larger
  than max" from a server whose ``grpc.max_receive_message_length`` is small;
* both: a collector that never answers, and one whose error text echoes the request's
  ``authorization`` header back (a sender must not pass that text on).

Kept apart from otlp_receiver.py so the receivers most tests rely on stay as they are.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any

import grpc
from google.protobuf.duration_pb2 import Duration
from google.rpc.error_details_pb2 import RetryInfo
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)

from .child_process import LOOPBACK_HOST
from .otlp_receiver import LOGS_PATH, OTLPProtocol


@dataclass(frozen=True)
class Answer:
    """How to answer every request. The defaults acknowledge it."""

    http_status: int = 200
    http_headers: tuple[tuple[str, str], ...] = ()
    grpc_code: grpc.StatusCode = grpc.StatusCode.OK
    retry_delay_seconds: float | None = None
    """gRPC: a RetryInfo with this delay in the status details."""
    rejected_log_records: int = 0
    """On success: a partial-success response rejecting this many records."""
    hang: bool = False
    """Never answer (until the receiver stops)."""
    echo_authorization: bool = False
    """Put the request's authorization header into the error text (gRPC details, HTTP reason)."""


@dataclass
class FaultyReceiver:
    """A receiver on 127.0.0.1 answering each request with ``answer``; records each request's headers."""

    protocol: OTLPProtocol
    answer: Answer
    max_receive_message_length: int | None = None
    received_headers: list[dict[str, str]] = field(default_factory=list)
    port: int = 0
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK_HOST}:{self.port}"

    @property
    def logs_endpoint(self) -> str:
        return self.endpoint if self.protocol == "grpc" else self.endpoint + LOGS_PATH

    def error_text(self, headers: dict[str, str]) -> str:
        if self.answer.echo_authorization:
            return f"scripted failure; you sent authorization: {headers.get('authorization', '')}"
        return "scripted failure"


@contextmanager
def faulty_receiver(
    protocol: OTLPProtocol,
    answer: Answer,
    *,
    max_receive_message_length: int | None = None,
) -> Iterator[FaultyReceiver]:
    """Run a plaintext :class:`FaultyReceiver` for the duration of the ``with`` block (TLS: OTLPReceiver)."""
    receiver = FaultyReceiver(protocol, answer, max_receive_message_length)
    if protocol == "grpc":
        with _grpc_server(receiver):
            yield receiver
    else:
        with _http_server(receiver):
            yield receiver


# --------------------------------------------------------------------------- gRPC


class _ScriptedServicer(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, receiver: FaultyReceiver) -> None:
        self._receiver = receiver

    def Export(
        self, request: ExportLogsServiceRequest, context: grpc.ServicerContext
    ) -> ExportLogsServiceResponse:
        headers = {key: value for key, value in context.invocation_metadata() if isinstance(value, str)}
        self._receiver.received_headers.append(headers)
        answer = self._receiver.answer
        if answer.hang:
            while context.is_active() and not self._receiver._stopping.wait(0.05):
                pass
            context.abort(grpc.StatusCode.UNAVAILABLE, "stopped")
        if answer.grpc_code == grpc.StatusCode.OK:
            return ExportLogsServiceResponse(
                partial_success=ExportLogsPartialSuccess(
                    rejected_log_records=answer.rejected_log_records,
                    error_message=self._receiver.error_text(headers) if answer.rejected_log_records else "",
                )
            )
        details = self._receiver.error_text(headers)
        if answer.retry_delay_seconds is not None:
            delay = Duration()
            delay.FromNanoseconds(round(answer.retry_delay_seconds * 1e9))
            status = Status(code=answer.grpc_code.value[0], message=details)
            status.details.add().Pack(RetryInfo(retry_delay=delay))
            context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
        context.abort(answer.grpc_code, details)
        raise AssertionError("unreachable: context.abort raises")


@contextmanager
def _grpc_server(receiver: FaultyReceiver) -> Iterator[None]:
    options: list[tuple[str, Any]] = [("grpc.so_reuseport", 0)]
    if receiver.max_receive_message_length is not None:
        options.append(("grpc.max_receive_message_length", receiver.max_receive_message_length))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=options)
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_ScriptedServicer(receiver), server)
    receiver.port = server.add_insecure_port(f"{LOOPBACK_HOST}:0")
    server.start()
    try:
        yield
    finally:
        receiver._stopping.set()
        server.stop(grace=None).wait(5)


# --------------------------------------------------------------------------- HTTP


class _ScriptedHTTPHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ScriptedHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence access logs."""

    def do_POST(self) -> None:
        receiver = self.server.receiver
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        receiver.received_headers.append(headers)
        answer = receiver.answer
        if answer.hang:
            receiver._stopping.wait(30)
            self.close_connection = True
            return
        body = b""
        if 200 <= answer.http_status < 300:
            body = ExportLogsServiceResponse(
                partial_success=ExportLogsPartialSuccess(rejected_log_records=answer.rejected_log_records)
            ).SerializeToString()
        reason = receiver.error_text(headers) if answer.http_status >= 300 else None
        self.send_response(answer.http_status, reason)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        for name, value in answer.http_headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _ScriptedHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: FaultyReceiver) -> None:
        self.receiver = receiver
        super().__init__((LOOPBACK_HOST, 0), _ScriptedHTTPHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can stall for seconds.
        TCPServer.server_bind(self)
        self.server_name = LOOPBACK_HOST
        self.server_port = self.server_address[1]


@contextmanager
def _http_server(receiver: FaultyReceiver) -> Iterator[None]:
    server = _ScriptedHTTPServer(receiver)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        receiver._stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
