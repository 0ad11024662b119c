"""One attempt to deliver one batch of log records to one OTLP destination, and what came of it.

``build_senders(settings)`` gives one :class:`Sender` per configured OTLP destination (today:
none or one). ``sender.send(batch, timeout_seconds)`` encodes the batch with the SDK's own
encoder, makes exactly one request -- no retry loop, no backoff, no sleeping: retrying is the
caller's job -- and returns a :class:`SendOutcome`:

===============================================  =========  =========  ==================  =========
what happened                                    delivered  retryable  retry_after_seconds too_large
===============================================  =========  =========  ==================  =========
HTTP 2xx, gRPC OK                                True       False      None                False
... with partial success (``rejected`` > 0)      True       False      None                False
connection refused, reset or closed, host        False      True       None                False
not resolved, no answer within the timeout
TLS handshake failed (certificate not trusted,   False      False      None                False
plaintext collector behind ``https://``)
HTTP 429, 502, 503, 504                          False      True       ``Retry-After``     False
HTTP 413                                         False      False      None                True
any other HTTP status (3xx included: redirects   False      False      None                False
are not followed)
gRPC CANCELLED, DEADLINE_EXCEEDED, ABORTED,      False      True       RetryInfo           False
OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS
gRPC RESOURCE_EXHAUSTED with RetryInfo           False      True       RetryInfo           False
gRPC RESOURCE_EXHAUSTED "larger than max"        False      False      None                True
any other gRPC status (RESOURCE_EXHAUSTED        False      False      None                False
without RetryInfo included)
the batch cannot be encoded, sender shut down    False      False      None                False
===============================================  =========  =========  ==================  =========

The retryable lists are the OTLP specification's (protocol/otlp.md, "Failures"). A TLS handshake
failure is UNAVAILABLE over gRPC, but retrying cannot fix a certificate, so neither protocol
retries it. ``retry_after_seconds`` is an HTTP ``Retry-After`` (seconds or an HTTP-date) or the
gRPC ``google.rpc.RetryInfo`` (from ``grpc-status-details-bin``, as the specification says, or
the SDK's ``google.rpc.retryinfo-bin``), clamped to 0 .. 3600. ``partial_rejected`` is
``partial_success.rejected_log_records`` (clamped to 0 .. len(batch)). ``cause`` is None when
everything was delivered, else short text naming what happened and the endpoint, with
credentials and query masked (:func:`~mcp_otel.settings.mask_url`): ``connection refused
(http://127.0.0.1:4317)``, ``HTTP 503 Service Unavailable (...)``. It is built from fixed text and
local error codes only: never a header value, never text the collector sent (which could echo
one).

What is taken from the SDK and what is written here, and why:

* The request body is the SDK's ``encode_logs`` (``opentelemetry.exporter.otlp.proto.common.
  _log_encoder``), the stub is the generated ``LogsServiceStub``: the wire format is the SDK's.
* The SDK's exporters are not used to send. Their constructors read the ``OTEL_EXPORTER_OTLP_*``
  variables themselves whenever an argument is missing or empty (``OTLPExporterMixin.__init__``:
  ``headers or environ.get(OTEL_EXPORTER_OTLP_HEADERS)``; http ``_resolve_headers`` always
  merges the variables in), parse headers with ``parse_env_headers`` (which logs a skipped
  entry whole), and their ``export`` is one loop of up to six attempts with sleeps
  (``OTLPExporterMixin._export``; ``_OTLPHTTPClient.export``), logging ``details()`` and the
  requests exception text, which holds a rejected header value. There is no single-attempt
  method to call: on gRPC the loop is inline in ``_export``, and on HTTP even ``_submit``
  retries a connection error once. What one attempt needs besides them is small: a channel
  (grpcio) or a session (requests, which the SDK's HTTP exporter uses too), so both are built
  here, from checked settings.
* The HTTP CA file is passed per request (``verify=``), not set on the session: requests lets
  ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` replace a session's ``verify`` on every request
  (psf/requests#3829) but never an explicit per-request one. No subclass is needed.
* An explicit no-op ``auth`` keeps requests from adding an ``Authorization`` from ``~/.netrc``
  over the one configured (``Session.request`` consults netrc only when no auth is given).
* The HTTP response body is read up to 64 KiB only (``stream=True``): it is a small protobuf,
  and a misbehaving proxy must not make the exporter hold an arbitrary amount.
* The gRPC channel caps its reconnect backoff at 5 s (``grpc.max_reconnect_backoff_ms``): a
  channel that failed stays in backoff up to 120 s by default and fails every call meanwhile, so
  a collector that came back would be ignored; the SDK instead rebuilds the channel after an
  UNAVAILABLE.

A sender is meant for one thread at a time (an HTTP sender's requests session is not
thread-safe; a gRPC channel is). ``encoded_size`` costs about what encoding costs (0.9 ms for 128
records of 200 bytes, most of a 1.4 ms send): estimate batch sizes some cheaper way, and use it
only to split a batch that came back ``too_large``.

Limits: the HTTP timeout bounds the connection and each read, not the total (requests has no
total deadline), so a collector trickling a response byte by byte can take longer. ``shutdown``
cancels an in-flight gRPC call; an in-flight HTTP request runs until its timeout.
"""

from __future__ import annotations

import gzip
import importlib
import math
import re
import ssl
import time
import zlib
from collections.abc import Iterator, Sequence
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter

from mcp_otel._version import __version__
from mcp_otel.errors import ConfigurationError
from mcp_otel.settings import ConfiguredFile, ExportSettings, OTLPSettings, mask_url

if TYPE_CHECKING:
    import requests

# grpcio's type information is partial (types-grpcio leaves grpc.Call untyped) and protobuf's and
# googleapis-common-protos' may be absent, so these modules are loaded by name and used as Any.
_DecodeError: type[Exception] = importlib.import_module("google.protobuf.message").DecodeError

__all__ = [
    "GrpcSender",
    "HttpSender",
    "SendOutcome",
    "Sender",
    "build_other_exporters",
    "build_senders",
    "encoded_size",
]

_USER_AGENT = f"mcp-otel/{__version__}"
_MAX_RETRY_AFTER_SECONDS = 3600.0
_MAX_TIMEOUT_SECONDS = 600.0
_MIN_TIMEOUT_SECONDS = 0.001
_MAX_RESPONSE_BYTES = 65_536
_GRPC_MAX_RECONNECT_BACKOFF_MILLIS = 5_000
# grpc.StatusCode names; grpcio (about 50 ms) and requests (about 70 ms) are imported by the
# sender that needs them, so an HTTP-only (or console-only) process never loads grpcio.
_GRPC_RETRYABLE = frozenset({"CANCELLED", "DEADLINE_EXCEEDED", "ABORTED", "OUT_OF_RANGE", "UNAVAILABLE", "DATA_LOSS"})
_HTTP_RETRYABLE = frozenset({429, 502, 503, 504})
_GRPC_STATUS_DETAILS_KEY = "grpc-status-details-bin"
_SDK_RETRY_INFO_KEY = "google.rpc.retryinfo-bin"  # what the SDK's gRPC exporter reads
_TOO_LARGE = re.compile(r"larger than max", re.IGNORECASE)
_EXPORTER_GROUP = "opentelemetry_logs_exporter"


class SendOutcome(NamedTuple):
    """What one attempt to send one batch came to (see the module docstring's table)."""

    delivered: bool
    retryable: bool
    retry_after_seconds: float | None
    too_large: bool
    cause: str | None
    partial_rejected: int


class Sender(Protocol):
    """One OTLP destination; ``send`` makes exactly one attempt and never raises."""

    @property
    def destination(self) -> str:
        """The endpoint, credentials and query masked: for messages."""
        ...

    def send(self, batch: Sequence[ReadableLogRecord], timeout_seconds: float) -> SendOutcome: ...

    def shutdown(self) -> None: ...


def build_senders(settings: ExportSettings) -> list[Sender]:
    """A sender per OTLP destination in ``settings`` (none when ``otlp`` is not an exporter).

    Raises :class:`ConfigurationError` naming the variable when a TLS file cannot be read.
    """
    if settings.otlp is None:
        return []
    if settings.otlp.protocol == "grpc":
        return [GrpcSender(settings.otlp)]
    return [HttpSender(settings.otlp)]


def build_other_exporters(settings: ExportSettings) -> list[LogRecordExporter]:
    """The SDK exporters ``OTEL_LOGS_EXPORTER`` names besides ``otlp`` (``console``, entry points).

    They are plain ``LogRecordExporter`` objects built without arguments; the names were
    checked by ``read_export_settings``. Raises :class:`ConfigurationError` if one cannot be
    loaded or built.
    """
    names = [name for name in settings.exporters if name != "otlp"]
    if not names:
        return []
    available = {entry.name: entry for entry in entry_points(group=_EXPORTER_GROUP)}
    exporters: list[LogRecordExporter] = []
    for name in names:
        try:
            exporter = available[name].load()()
        except Exception as error:
            raise ConfigurationError(
                f"OTEL_LOGS_EXPORTER: building the {name!r} exporter failed ({type(error).__name__})"
            ) from None
        if not isinstance(exporter, LogRecordExporter):
            raise ConfigurationError(f"OTEL_LOGS_EXPORTER: the {name!r} entry point did not build a LogRecordExporter")
        exporters.append(exporter)
    return exporters


def encoded_size(batch: Sequence[ReadableLogRecord]) -> int:
    """The exact size in bytes of ``batch`` as one OTLP request body, before compression."""
    return int(encode_logs(batch).ByteSize())


# --------------------------------------------------------------------------- shared


def _delivered(rejected: int, batch_size: int, destination: str) -> SendOutcome:
    rejected = min(max(rejected, 0), batch_size)
    cause = None if rejected == 0 else f"collector rejected {rejected} of {batch_size} log records ({destination})"
    return SendOutcome(True, False, None, False, cause, rejected)


def _failed(cause: str, *, retryable: bool, retry_after: float | None = None, too_large: bool = False) -> SendOutcome:
    return SendOutcome(False, retryable, retry_after, too_large, cause, 0)


def _encode(batch: Sequence[ReadableLogRecord], destination: str) -> ExportLogsServiceRequest | SendOutcome:
    try:
        return encode_logs(batch)
    except Exception as error:
        return _failed(f"could not encode the batch: {type(error).__name__} ({destination})", retryable=False)


def _bounded_timeout(timeout_seconds: float) -> float:
    if not math.isfinite(timeout_seconds):
        return _MAX_TIMEOUT_SECONDS if timeout_seconds > 0 else _MIN_TIMEOUT_SECONDS
    return min(max(timeout_seconds, _MIN_TIMEOUT_SECONDS), _MAX_TIMEOUT_SECONDS)


def _clamped_delay(seconds: float) -> float | None:
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER_SECONDS)



# --------------------------------------------------------------------------- gRPC


class GrpcSender:
    """OTLP/gRPC: one ``LogsService/Export`` call per ``send`` on a channel kept open."""

    def __init__(self, otlp: OTLPSettings) -> None:
        grpc: Any = importlib.import_module("grpc")
        stubs: Any = importlib.import_module("opentelemetry.proto.collector.logs.v1.logs_service_pb2_grpc")
        self._grpc = grpc
        self._destination = f"{'https' if otlp.tls else 'http'}://{otlp.grpc_target}"
        options = [
            ("grpc.primary_user_agent", _USER_AGENT),
            ("grpc.max_reconnect_backoff_ms", _GRPC_MAX_RECONNECT_BACKOFF_MILLIS),
        ]
        compression = grpc.Compression.Gzip if otlp.compression == "gzip" else grpc.Compression.NoCompression
        if otlp.tls:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=ConfiguredFile.bytes_of(otlp.certificate),
                private_key=ConfiguredFile.bytes_of(otlp.client_key),
                certificate_chain=ConfiguredFile.bytes_of(otlp.client_certificate),
            )
            self._channel = grpc.secure_channel(otlp.grpc_target, credentials, options=options, compression=compression)
        else:
            self._channel = grpc.insecure_channel(otlp.grpc_target, options=options, compression=compression)
        self._stub = stubs.LogsServiceStub(self._channel)
        self._metadata = otlp.headers
        self._shut_down = False

    @property
    def destination(self) -> str:
        return self._destination

    def send(self, batch: Sequence[ReadableLogRecord], timeout_seconds: float) -> SendOutcome:
        if self._shut_down:
            return _failed(f"the sender is shut down ({self._destination})", retryable=False)
        request = _encode(batch, self._destination)
        if isinstance(request, SendOutcome):
            return request
        try:
            response: ExportLogsServiceResponse = self._stub.Export(
                request, metadata=self._metadata, timeout=_bounded_timeout(timeout_seconds)
            )
        except self._grpc.RpcError as error:
            return self._failure(error, timeout_seconds)
        except ValueError:  # grpcio: "Cannot invoke RPC on closed channel!", shutdown raced this call
            return _failed(f"the sender is shut down ({self._destination})", retryable=False)
        return _delivered(response.partial_success.rejected_log_records, len(batch), self._destination)

    def _failure(self, call: Any, timeout_seconds: float) -> SendOutcome:
        code = call.code()
        name = str(getattr(code, "name", code))
        details = call.details() or ""  # used to classify only: it may be the collector's text
        retry_after = _grpc_retry_delay(call)
        where = self._destination
        if name == "RESOURCE_EXHAUSTED" and _TOO_LARGE.search(details):
            return _failed(
                f"gRPC RESOURCE_EXHAUSTED: request larger than the limit ({where})", retryable=False, too_large=True
            )
        if name == "UNAVAILABLE":
            tls_problem = _grpc_tls_problem(details)
            if tls_problem is not None:
                return _failed(f"TLS handshake failed: {tls_problem} ({where})", retryable=False)
            if "Connection refused" in details:
                return _failed(f"connection refused ({where})", retryable=True, retry_after=retry_after)
            if "Socket closed" in details or "Connection reset" in details:
                return _failed(f"connection closed by the collector ({where})", retryable=True, retry_after=retry_after)
            if "resolving" in details or "DNS" in details:
                return _failed(f"cannot resolve the host ({where})", retryable=True, retry_after=retry_after)
        if name == "DEADLINE_EXCEEDED":
            return _failed(
                f"no answer within {_bounded_timeout(timeout_seconds):g} s, gRPC DEADLINE_EXCEEDED ({where})",
                retryable=True,
                retry_after=retry_after,
            )
        retryable = name in _GRPC_RETRYABLE or (name == "RESOURCE_EXHAUSTED" and retry_after is not None)
        return _failed(f"gRPC {name} ({where})", retryable=retryable, retry_after=retry_after if retryable else None)

    def shutdown(self) -> None:
        self._shut_down = True
        self._channel.close()


def _grpc_tls_problem(details: str) -> str | None:
    """The TLS failure in grpc-core's own UNAVAILABLE text, as a short phrase, or None."""
    if "andshake failed" not in details and "SSL_ERROR" not in details:
        return None
    verify = re.search(r"CERTIFICATE_VERIFY_FAILED: ([a-zA-Z ]{1,80})", details)
    if verify:
        return f"certificate verify failed: {verify.group(1).strip()}"
    if "WRONG_VERSION_NUMBER" in details:
        return "wrong version number (is the collector plaintext? then use http://)"
    return "see the collector's TLS configuration"


def _grpc_retry_delay(call: Any) -> float | None:
    """RetryInfo's delay from the trailers: inside google.rpc.Status (spec) or on its own (SDK)."""
    status_type: Any = importlib.import_module("google.rpc.status_pb2").Status
    retry_info_type: Any = importlib.import_module("google.rpc.error_details_pb2").RetryInfo
    try:
        trailers = call.trailing_metadata() or ()
    except Exception:
        return None
    for key, value in trailers:
        if not isinstance(value, bytes):
            continue
        try:
            if key == _GRPC_STATUS_DETAILS_KEY:
                for detail in status_type.FromString(value).details:
                    if detail.Is(retry_info_type.DESCRIPTOR):
                        retry_info = retry_info_type()
                        detail.Unpack(retry_info)
                        return _clamped_delay(retry_info.retry_delay.ToTimedelta().total_seconds())
            elif key == _SDK_RETRY_INFO_KEY:
                return _clamped_delay(retry_info_type.FromString(value).retry_delay.ToTimedelta().total_seconds())
        except (_DecodeError, ValueError, OverflowError):
            continue
    return None


# --------------------------------------------------------------------------- HTTP


def _no_netrc(request: Any) -> Any:
    """A no-op ``auth``: with it, requests does not look in ``~/.netrc`` for the collector's host."""
    return request


class HttpSender:
    """OTLP/HTTP with protobuf: one POST per ``send`` on a requests session kept open."""

    def __init__(self, otlp: OTLPSettings) -> None:
        import requests  # a dependency of the SDK's OTLP/HTTP exporter; imported when used, as there

        self._requests = requests
        self._destination = mask_url(otlp.endpoint)
        self._url = otlp.endpoint
        self._compression = otlp.compression
        headers = {"content-type": "application/x-protobuf", "user-agent": _USER_AGENT}
        if otlp.compression != "none":
            headers["content-encoding"] = otlp.compression
        headers.update(otlp.headers)
        self._headers = headers
        for configured in (otlp.certificate, otlp.client_certificate, otlp.client_key):
            ConfiguredFile.bytes_of(configured)  # fail now, naming the variable, rather than on every send
        self._verify: bool | str = otlp.certificate.path if otlp.certificate is not None else True
        self._cert = (
            (otlp.client_certificate.path, otlp.client_key.path)
            if otlp.client_certificate is not None and otlp.client_key is not None
            else None
        )
        self._session = requests.Session()
        self._shut_down = False

    @property
    def destination(self) -> str:
        return self._destination

    def send(self, batch: Sequence[ReadableLogRecord], timeout_seconds: float) -> SendOutcome:
        if self._shut_down:
            return _failed(f"the sender is shut down ({self._destination})", retryable=False)
        request = _encode(batch, self._destination)
        if isinstance(request, SendOutcome):
            return request
        body = request.SerializeToString()
        if self._compression == "gzip":
            body = gzip.compress(body, compresslevel=6)
        elif self._compression == "deflate":
            body = zlib.compress(body)
        timeout = _bounded_timeout(timeout_seconds)
        try:
            response = self._session.post(
                self._url,
                data=body,
                headers=self._headers,
                timeout=timeout,
                verify=self._verify,
                cert=self._cert,
                auth=_no_netrc,
                allow_redirects=False,
                stream=True,
            )
        except Exception as error:
            return _http_exception_outcome(error, timeout, self._destination)
        try:
            return self._outcome(response, len(batch))
        finally:
            response.close()

    def _outcome(self, response: requests.Response, batch_size: int) -> SendOutcome:
        status = response.status_code
        where = self._destination
        if 200 <= status < 300:
            try:
                content = response.raw.read(_MAX_RESPONSE_BYTES + 1, decode_content=True)
            except Exception:
                content = b""
            return _delivered(_http_rejected(response, content), batch_size, where)
        label = f"HTTP {status} {_status_phrase(status)}"
        if status == 413:
            return _failed(f"{label}: request larger than the limit ({where})", retryable=False, too_large=True)
        if status in _HTTP_RETRYABLE:
            retry_after = _http_retry_after(response.headers.get("retry-after"))
            return _failed(f"{label} ({where})", retryable=True, retry_after=retry_after)
        if 300 <= status < 400:
            return _failed(f"{label}: redirects are not followed ({where})", retryable=False)
        if status == 404 and not self._url.split("?", 1)[0].endswith("/v1/logs"):
            return _failed(f"{label}: the OTLP/HTTP logs path is /v1/logs ({where})", retryable=False)
        return _failed(f"{label} ({where})", retryable=False)

    def shutdown(self) -> None:
        self._shut_down = True
        self._session.close()


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase  # the standard phrase, not the collector's own text
    except ValueError:
        return ""


def _http_rejected(response: requests.Response, content: bytes) -> int:
    content_type = (response.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if not content or content_type != "application/x-protobuf" or len(content) > _MAX_RESPONSE_BYTES:
        return 0
    try:
        return int(ExportLogsServiceResponse.FromString(content).partial_success.rejected_log_records)
    except _DecodeError:
        return 0


def _http_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds from now: delay-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,10}(\.[0-9]{1,6})?", value):
        return _clamped_delay(float(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return _clamped_delay(moment.timestamp() - time.time())


def _causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and what it wraps (requests and urllib3 nest them in ``args`` and ``reason``)."""
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending and len(seen) < 20:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        reason = getattr(current, "reason", None)
        candidates = [reason, current.__cause__, current.__context__, *getattr(current, "args", ())]
        pending.extend(candidate for candidate in candidates if isinstance(candidate, BaseException))


def _http_exception_outcome(error: BaseException, timeout: float, where: str) -> SendOutcome:
    """Classify a transport error by type; its text (which can hold the URL or a header) is not used."""
    import requests.exceptions as requests_exceptions

    causes = list(_causes(error))
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            problem = (cause.verify_message or "").strip()[:80] or "not trusted"
            return _failed(f"TLS handshake failed: certificate verify failed: {problem} ({where})", retryable=False)
    for cause in causes:
        if isinstance(cause, ssl.SSLError):
            reason = str(cause.reason or "")
            if reason == "WRONG_VERSION_NUMBER":
                problem = "wrong version number (is the collector plaintext? then use http://)"
            else:
                problem = reason.lower().replace("_", " ")[:80] or "see the collector's TLS configuration"
            return _failed(f"TLS handshake failed: {problem} ({where})", retryable=False)
    if isinstance(error, requests_exceptions.ConnectTimeout):
        return _failed(f"connection timed out after {timeout:g} s ({where})", retryable=True)
    if isinstance(error, requests_exceptions.Timeout):
        return _failed(f"no answer within {timeout:g} s ({where})", retryable=True)
    for cause in causes:
        if isinstance(cause, ConnectionRefusedError):
            return _failed(f"connection refused ({where})", retryable=True)
        if type(cause).__name__ in ("NameResolutionError", "gaierror"):
            return _failed(f"cannot resolve the host ({where})", retryable=True)
        if isinstance(cause, TimeoutError):
            return _failed(f"no answer within {timeout:g} s ({where})", retryable=True)
    if isinstance(error, requests_exceptions.ProxyError):
        return _failed(f"the proxy failed ({where})", retryable=True)
    if isinstance(error, requests_exceptions.ConnectionError):
        return _failed(f"connection closed or reset by the collector ({where})", retryable=True)
    return _failed(f"request failed: {type(error).__name__} ({where})", retryable=False)
