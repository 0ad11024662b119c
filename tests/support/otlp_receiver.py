"""Real OTLP/logs receivers for end-to-end tests.

End-to-end tests must prove that what leaves the process is a valid OTLP export
request carrying exactly the expected values, so these receivers speak the real
wire protocols (gRPC via ``grpcio``, OTLP/HTTP via ``http.server``) and decode the
payload with ``opentelemetry-proto`` instead of mocking the exporter.

Two ways to run one:

* in-process: ``with OTLPReceiver("grpc") as receiver: ...`` (threads; fast);
* as a child process that a test can SIGKILL and restart on the same port, to
  simulate a collector crash: ``with ReceiverProcess("grpc", tmp_path / "out.jsonl") as proc: ...``.
  The child is ``python -m tests.support.otlp_receiver`` and persists every
  accepted record as a JSON line *before* acknowledging the request, so an
  acknowledged record is always on disk even if the child is killed right after.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent import futures
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import TCPServer
from typing import Any, Literal, get_args

import grpc
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from .certificates import CertificatePair
from .child_process import LOOPBACK_HOST, ChildProcess

OTLPProtocol = Literal["grpc", "http/protobuf"]
RespondMode = Literal["ok", "never", "error"]

LOGS_PATH = "/v1/logs"
TRACES_PATH = "/v1/traces"
REPO_ROOT = Path(__file__).resolve().parents[2]
"""Working directory for the child process, so that ``tests.support`` is importable there."""

_PROTOBUF_CONTENT_TYPE = "application/x-protobuf"


# --------------------------------------------------------------------------- decoding


def decode_any_value(pb: AnyValue) -> Any:
    """Turn an OTLP ``AnyValue`` into the plain Python value a test can compare with ``==``.

    An ``AnyValue`` with no field set (what the SDK sends for a ``None`` body) becomes ``None``.
    """
    kind = pb.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [decode_any_value(item) for item in pb.array_value.values]
    if kind == "kvlist_value":
        return decode_key_values(pb.kvlist_value.values)
    return getattr(pb, kind)  # string_value, bool_value, int_value, double_value, bytes_value


def decode_key_values(key_values: Iterable[KeyValue]) -> dict[str, Any]:
    """Decode repeated ``KeyValue`` (attributes, kvlist bodies) into a dict; a repeated key keeps its last value."""
    return {key_value.key: decode_any_value(key_value.value) for key_value in key_values}


def _hex_id(raw_id: bytes) -> str:
    """Trace/span ids as lowercase hex, or "" when absent, because the SDK omits an all-zero id."""
    return raw_id.hex() if any(raw_id) else ""


@dataclass(frozen=True)
class ReceivedRecord:
    """One log record flattened together with its resource and scope, as Python values."""

    resource: dict[str, Any]
    scope_name: str
    scope_version: str
    time_unix_nano: int
    observed_time_unix_nano: int
    severity_number: int
    severity_text: str
    body: Any
    attributes: dict[str, Any]
    trace_id: str
    span_id: str
    flags: int
    event_name: str


@dataclass(frozen=True)
class ReceivedRequest:
    """One export request as it arrived.

    ``headers`` has lower-cased names; for gRPC it is the invocation metadata (binary
    ``-bin`` values as hex).  ``compression`` is the HTTP ``Content-Encoding``; for gRPC
    it is always ``None`` because grpcio consumes ``grpc-encoding`` before the
    application sees the metadata.  ``accepted`` is False when the receiver answered
    with an error or never answered; such requests are not part of ``records()``
    because a real collector would not have kept their data.
    """

    headers: dict[str, str]
    compression: str | None
    message: ExportLogsServiceRequest
    accepted: bool


def flatten_records(message: ExportLogsServiceRequest) -> list[ReceivedRecord]:
    """Every log record in one export request, in wire order."""
    records: list[ReceivedRecord] = []
    for resource_logs in message.resource_logs:
        resource = decode_key_values(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            for log_record in scope_logs.log_records:
                records.append(
                    ReceivedRecord(
                        resource=resource,
                        scope_name=scope_logs.scope.name,
                        scope_version=scope_logs.scope.version,
                        time_unix_nano=log_record.time_unix_nano,
                        observed_time_unix_nano=log_record.observed_time_unix_nano,
                        severity_number=log_record.severity_number,
                        severity_text=log_record.severity_text,
                        body=decode_any_value(log_record.body),
                        attributes=decode_key_values(log_record.attributes),
                        trace_id=_hex_id(log_record.trace_id),
                        span_id=_hex_id(log_record.span_id),
                        flags=log_record.flags,
                        event_name=log_record.event_name,
                    )
                )
    return records


def record_to_json_line(record: ReceivedRecord) -> str:
    """Serialize a record for the subprocess' JSONL file; bytes become hex strings."""

    def bytes_as_hex(value: object) -> str:
        if isinstance(value, bytes):
            return value.hex()
        raise TypeError(f"cannot serialize {type(value).__name__}")

    return json.dumps(asdict(record), default=bytes_as_hex, sort_keys=True)


def _endpoint_url(port: int, tls: bool) -> str:
    scheme = "https" if tls else "http"
    return f"{scheme}://{LOOPBACK_HOST}:{port}"


def _logs_endpoint_url(protocol: OTLPProtocol, port: int, tls: bool) -> str:
    base = _endpoint_url(port, tls)
    return base if protocol == "grpc" else base + LOGS_PATH


def free_port() -> int:
    """An ephemeral loopback port that was free a moment ago (racy by nature, fine for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK_HOST, 0))
        return probe.getsockname()[1]


# --------------------------------------------------------------------------- gRPC transport


def _metadata_text(value: str | bytes) -> str:
    return value.hex() if isinstance(value, bytes) else value


class _LogsServicer(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, receiver: OTLPReceiver) -> None:
        self._receiver = receiver

    def Export(
        self, request: ExportLogsServiceRequest, context: grpc.ServicerContext
    ) -> ExportLogsServiceResponse:
        headers = {key.lower(): _metadata_text(value) for key, value in context.invocation_metadata()}
        answer = self._receiver._accept(headers, headers.get("grpc-encoding"), request)
        if answer == "ok":
            return ExportLogsServiceResponse()
        if answer == "never":
            # Poll so that a worker thread is released once the client gives up (deadline/cancel).
            while context.is_active() and not self._receiver._stopping.wait(0.05):
                pass
            context.abort(grpc.StatusCode.UNAVAILABLE, "test receiver stopped without answering")
        context.abort(grpc.StatusCode.UNAVAILABLE, "test receiver configured to fail")
        raise AssertionError("unreachable: context.abort raises")


@dataclass(frozen=True)
class ReceivedSpan:
    """One span from an accepted trace export, decoded (events as name and attributes)."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    events: tuple[tuple[str, dict[str, Any]], ...]


def flatten_spans(message: ExportTraceServiceRequest) -> list[ReceivedSpan]:
    return [
        ReceivedSpan(
            trace_id=_hex_id(span.trace_id),
            span_id=_hex_id(span.span_id),
            parent_span_id=_hex_id(span.parent_span_id),
            name=span.name,
            events=tuple((event.name, decode_key_values(event.attributes)) for event in span.events),
        )
        for resource_spans in message.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]


class _TraceServicer(trace_service_pb2_grpc.TraceServiceServicer):
    """Traces are always acknowledged (``respond`` is for logs only)."""

    def __init__(self, receiver: OTLPReceiver) -> None:
        self._receiver = receiver

    def Export(
        self, request: ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> ExportTraceServiceResponse:
        self._receiver._accept_spans(request)
        return ExportTraceServiceResponse()


def _start_grpc_server(receiver: OTLPReceiver, port: int, tls: CertificatePair | None) -> tuple[grpc.Server, int]:
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="otlp-grpc-receiver"),
        # Without this, grpc sets SO_REUSEPORT and a second receiver could silently share the port.
        options=[("grpc.so_reuseport", 0)],
    )
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(_LogsServicer(receiver), server)
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(_TraceServicer(receiver), server)
    address = f"{LOOPBACK_HOST}:{port}"
    if tls is None:
        bound_port = server.add_insecure_port(address)
    else:
        credentials = grpc.ssl_server_credentials(
            [(Path(tls.key_path).read_bytes(), Path(tls.cert_path).read_bytes())]
        )
        bound_port = server.add_secure_port(address, credentials)
    if bound_port == 0:
        raise RuntimeError(f"gRPC receiver could not bind {address}")
    server.start()
    return server, bound_port


# --------------------------------------------------------------------------- HTTP transport


class _ReceiverHTTPServer(ThreadingHTTPServer):
    """Threaded HTTP server that can wrap connections in TLS and force-close them on stop.

    Connections are tracked because HTTP keep-alive would otherwise let a stopped
    receiver keep serving an exporter's pooled connection from a handler thread.
    """

    daemon_threads = True

    def __init__(self, port: int, receiver: OTLPReceiver, ssl_context: ssl.SSLContext | None) -> None:
        self.receiver = receiver
        self.ssl_context = ssl_context
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__((LOOPBACK_HOST, port), _OTLPHTTPHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can stall for seconds.
        TCPServer.server_bind(self)
        self.server_name = LOOPBACK_HOST
        self.server_port = self.server_address[1]

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        if self.ssl_context is not None:
            # Handshake later, in the handler thread, so a slow client cannot block accept().
            connection = self.ssl_context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        with self._connections_lock:
            self._connections.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                # The plain-socket method: SSLSocket.shutdown would also drop its SSL object under a reader.
                socket.socket.shutdown(connection, socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, ssl.SSLError, OSError)):
            return  # clients giving up, failed handshakes, connections closed by stop(): expected noise
        super().handle_error(request, client_address)


class _OTLPHTTPHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real collector; every reply carries Content-Length
    server: _ReceiverHTTPServer

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request access logs; they only clutter test output."""

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] == TRACES_PATH:
            self._receive_spans()
            return
        if self.path.split("?", 1)[0] != LOGS_PATH:
            self._reply(404)
            return
        content_type = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if content_type != _PROTOBUF_CONTENT_TYPE:
            self._reply(415)
            return
        content_encoding = (self.headers.get("Content-Encoding") or "").strip().lower() or None
        try:
            payload = _decompress(self._read_body(), content_encoding)
            message = ExportLogsServiceRequest.FromString(payload)
        except (ValueError, OSError, zlib.error, DecodeError):
            self._reply(400)
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = self.server.receiver._accept(headers, content_encoding, message)
        if answer == "ok":
            self._reply(200, ExportLogsServiceResponse().SerializeToString())
        elif answer == "error":
            self._reply(503)
        else:
            self.server.receiver._stopping.wait()
            self.close_connection = True  # drop the connection without any response

    def _receive_spans(self) -> None:
        content_encoding = (self.headers.get("Content-Encoding") or "").strip().lower() or None
        try:
            message = ExportTraceServiceRequest.FromString(_decompress(self._read_body(), content_encoding))
        except (ValueError, OSError, zlib.error, DecodeError):
            self._reply(400)
            return
        self.server.receiver._accept_spans(message)
        self._reply(200, ExportTraceServiceResponse().SerializeToString())

    def _read_body(self) -> bytes:
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _reply(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Type", _PROTOBUF_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _decompress(body: bytes, content_encoding: str | None) -> bytes:
    if content_encoding in (None, "identity"):
        return body
    if content_encoding == "gzip":
        return gzip.decompress(body)
    if content_encoding == "deflate":
        return zlib.decompress(body)
    raise ValueError(f"unsupported Content-Encoding {content_encoding!r}")


# --------------------------------------------------------------------------- in-process receiver


class OTLPReceiver:
    """An OTLP/logs receiver on 127.0.0.1 that records and decodes every export request.

    ``respond`` decides the answer: ``"ok"`` acknowledges, ``"error"`` answers
    UNAVAILABLE (gRPC) / 503 (HTTP), ``"never"`` holds the request open until
    ``stop()``.  It is read per request, so a test may assign ``receiver.respond``
    to let a failing collector "recover".  ``on_request`` runs on the server thread
    before the answer is sent (the subprocess mode uses it to persist records).
    """

    def __init__(
        self,
        protocol: OTLPProtocol = "grpc",
        *,
        tls: CertificatePair | None = None,
        respond: RespondMode = "ok",
        port: int = 0,
        on_request: Callable[[ReceivedRequest], None] | None = None,
    ) -> None:
        if protocol not in get_args(OTLPProtocol):
            raise ValueError(f"protocol must be one of {get_args(OTLPProtocol)}, not {protocol!r}")
        if respond not in get_args(RespondMode):
            raise ValueError(f"respond must be one of {get_args(RespondMode)}, not {respond!r}")
        self.protocol: OTLPProtocol = protocol
        self.tls = tls
        self.respond: RespondMode = respond
        self._requested_port = port
        self._on_request = on_request
        self._condition = threading.Condition()
        self._requests: list[ReceivedRequest] = []
        self._spans: list[ReceivedSpan] = []
        self._stopping = threading.Event()
        self._bound_port: int | None = None
        self._grpc_server: grpc.Server | None = None
        self._http_server: _ReceiverHTTPServer | None = None
        self._http_thread: threading.Thread | None = None

    def __enter__(self) -> OTLPReceiver:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Bind and start serving; returns once the port accepts connections."""
        if self._bound_port is not None:
            raise RuntimeError("receiver already started")
        self._stopping.clear()
        if self.protocol == "grpc":
            self._grpc_server, self._bound_port = _start_grpc_server(self, self._requested_port, self.tls)
            return
        ssl_context = None
        if self.tls is not None:
            ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ssl_context.load_cert_chain(self.tls.cert_path, self.tls.key_path)
        server = _ReceiverHTTPServer(self._requested_port, self, ssl_context)
        self._http_server = server
        self._bound_port = server.server_address[1]
        self._http_thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},  # the default 0.5 s would make every stop() slow
            name=f"otlp-http-receiver-{self._bound_port}",
            daemon=True,
        )
        self._http_thread.start()

    def stop(self) -> None:
        """Stop serving and drop open connections; requests held by ``respond="never"`` are released."""
        self._stopping.set()
        if self._grpc_server is not None:
            self._grpc_server.stop(grace=None).wait(5)
            self._grpc_server = None
        if self._http_server is not None:
            self._http_server.shutdown()
            self._http_server.close_connections()
            self._http_server.server_close()
            self._http_server = None
        if self._http_thread is not None:
            self._http_thread.join(5)
            self._http_thread = None
        self._bound_port = None

    @property
    def port(self) -> int:
        if self._bound_port is None:
            raise RuntimeError("receiver is not running")
        return self._bound_port

    @property
    def endpoint(self) -> str:
        """Base URL: what OTEL_EXPORTER_OTLP_ENDPOINT (or the gRPC exporter's ``endpoint=``) takes."""
        return _endpoint_url(self.port, self.tls is not None)

    @property
    def logs_endpoint(self) -> str:
        """Signal URL: what OTEL_EXPORTER_OTLP_LOGS_ENDPOINT takes (HTTP: base + /v1/logs; gRPC: the base)."""
        return _logs_endpoint_url(self.protocol, self.port, self.tls is not None)

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Snapshot of every export request received so far, accepted or not."""
        with self._condition:
            return list(self._requests)

    def records(self) -> list[ReceivedRecord]:
        """Every log record from accepted requests so far, in arrival order."""
        with self._condition:
            return self._accepted_records_locked()

    def wait_for_records(self, count: int, timeout: float = 10.0) -> list[ReceivedRecord]:
        """Block until at least ``count`` records were accepted; AssertionError on timeout."""
        return self._wait_until(self._accepted_records_locked, count, timeout, "log records")

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> list[ReceivedRequest]:
        """Block until at least ``count`` requests arrived (including refused ones); AssertionError on timeout."""
        return self._wait_until(lambda: list(self._requests), count, timeout, "export requests")

    def spans(self) -> list[ReceivedSpan]:
        """Every span received so far (OTLP traces on the same port), in arrival order."""
        with self._condition:
            return list(self._spans)

    def wait_for_spans(self, count: int, timeout: float = 10.0) -> list[ReceivedSpan]:
        """Block until at least ``count`` spans arrived; AssertionError on timeout."""
        return self._wait_until(lambda: list(self._spans), count, timeout, "spans")

    def _accept_spans(self, message: ExportTraceServiceRequest) -> None:
        with self._condition:
            self._spans.extend(flatten_spans(message))
            self._condition.notify_all()

    def _accepted_records_locked(self) -> list[ReceivedRecord]:
        return [record for request in self._requests if request.accepted for record in flatten_records(request.message)]

    def _wait_until(self, snapshot: Callable[[], list[Any]], count: int, timeout: float, what: str) -> list[Any]:
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                items = snapshot()
                remaining = deadline - time.monotonic()
                if len(items) >= count:
                    return items
                if remaining <= 0:
                    raise AssertionError(self._describe_shortfall(what, count, len(items), timeout))
                self._condition.wait(remaining)

    def _describe_shortfall(self, what: str, expected: int, got: int, timeout: float) -> str:
        refused = sum(1 for request in self._requests if not request.accepted)
        bodies = [record.body for record in self._accepted_records_locked()]
        return (
            f"{self.protocol} receiver at {self.endpoint if self._bound_port else '(stopped)'}: expected at least "
            f"{expected} {what} within {timeout}s but got {got}; {len(self._requests)} request(s) arrived, "
            f"{refused} refused (respond={self.respond!r}); accepted record bodies: {bodies!r}"
        )

    def _accept(
        self, headers: dict[str, str], compression: str | None, message: ExportLogsServiceRequest
    ) -> RespondMode:
        """Record a decoded request (called from server threads) and return how to answer it."""
        answer = self.respond
        request = ReceivedRequest(headers=headers, compression=compression, message=message, accepted=answer == "ok")
        if self._on_request is not None:
            self._on_request(request)
        with self._condition:
            self._requests.append(request)
            self._condition.notify_all()
        return answer


# --------------------------------------------------------------------------- subprocess mode


class ReceiverProcess(ChildProcess):
    """Runs ``python -m tests.support.otlp_receiver`` so a test can SIGKILL and restart a collector.

    Records accumulate in the JSONL file ``out_path`` across restarts; the child's
    own output goes to ``out_path`` + ``.log`` (quoted in errors).
    """

    name = "receiver process"

    def __init__(
        self,
        protocol: OTLPProtocol,
        out_path: str | os.PathLike[str],
        *,
        port: int | None = None,
        tls: CertificatePair | None = None,
        respond: RespondMode = "ok",
        startup_timeout: float = 10.0,
    ) -> None:
        self.protocol: OTLPProtocol = protocol
        self.out_path = Path(out_path)
        super().__init__(self.out_path.with_name(self.out_path.name + ".log"), startup_timeout)
        self.port = port if port else free_port()  # fixed up front so restart() reuses it
        self.tls = tls
        self.respond: RespondMode = respond

    def __enter__(self) -> ReceiverProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        return _endpoint_url(self.port, self.tls is not None)

    @property
    def logs_endpoint(self) -> str:
        return _logs_endpoint_url(self.protocol, self.port, self.tls is not None)

    def start(self) -> None:
        """Launch the child and wait until its port accepts TCP connections."""
        self.out_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "tests.support.otlp_receiver", "--protocol", self.protocol,
            "--port", str(self.port), "--out", str(self.out_path), "--respond", self.respond,
        ]  # fmt: skip
        if self.tls is not None:
            command += ["--tls-cert", self.tls.cert_path, "--tls-key", self.tls.key_path]
        self.start_child(command, [self.port], env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=REPO_ROOT)

    def restart(self) -> None:
        """Start a fresh child on the same port (killing the current one if it still runs)."""
        self.kill()
        self.start()

    def records(self) -> list[dict[str, Any]]:
        """Records persisted so far; a trailing half-written line (child killed mid-write) is ignored."""
        if not self.out_path.exists():
            return []
        text = self.out_path.read_text(encoding="utf-8")
        complete_lines = text.split("\n")[:-1]  # the last element is "" or an unterminated fragment
        return [json.loads(line) for line in complete_lines if line]

    def wait_for_count(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Poll the JSONL file until it holds at least ``count`` records; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            records = self.records()
            if len(records) >= count:
                return records
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected at least {count} records in {self.out_path} within {timeout}s, got "
                    f"{len(records)}: {[record['body'] for record in records]!r}\nreceiver output:\n{self.output()}"
                )
            time.sleep(0.02)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run an OTLP/logs receiver that appends records as JSON lines.")
    parser.add_argument("--protocol", choices=get_args(OTLPProtocol), default="grpc")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="JSONL file to append received records to")
    parser.add_argument("--respond", choices=get_args(RespondMode), default="ok")
    parser.add_argument("--tls-cert", help="PEM server certificate (enables TLS together with --tls-key)")
    parser.add_argument("--tls-key", help="PEM server private key")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the child process: serve until SIGTERM/SIGINT, persisting before acknowledging."""
    args = _parse_args(argv)
    tls = None
    if args.tls_cert or args.tls_key:
        if not (args.tls_cert and args.tls_key):
            raise SystemExit("--tls-cert and --tls-key must be given together")
        tls = CertificatePair(cert_path=args.tls_cert, key_path=args.tls_key, ca_path="")
    stop_requested = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_requested.set())
    signal.signal(signal.SIGINT, lambda *_: stop_requested.set())
    write_lock = threading.Lock()
    with args.out.open("a", encoding="utf-8") as out_file:

        def persist(request: ReceivedRequest) -> None:
            if not request.accepted:
                return
            lines = "".join(record_to_json_line(record) + "\n" for record in flatten_records(request.message))
            with write_lock:
                out_file.write(lines)  # one write per request keeps a kill from splitting records
                out_file.flush()

        with OTLPReceiver(args.protocol, tls=tls, respond=args.respond, port=args.port, on_request=persist) as receiver:
            print(f"otlp receiver listening on {receiver.endpoint} ({args.protocol})", flush=True)
            while not stop_requested.wait(0.2):
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
