"""Every ``OTEL_*`` variable the log export reads, checked strictly, into one frozen :class:`ExportSettings`.

``read_export_settings(environ)`` is the only place the export reads the environment: the senders
(``mcp_otel.senders``) are built from its result and never let the OTel SDK parse a variable, so
nothing the SDK would skip, misread or print (with a token in it) reaches it. A value the export
cannot use raises one :class:`~mcp_otel.errors.ConfigurationError` naming the variable -- never
a traceback, never a header value, never a URL's credentials or query string (:func:`mask_url`).
A value that is usable but probably not what was meant logs one warning through the ``mcp_otel``
logger per read.

Common rules: a variable set to the empty string (or only whitespace) counts as unset, as the
specification says; surrounding ASCII whitespace is ignored. Where a ``..._LOGS_...`` variable
and the generic one both exist, the logs one wins and the generic one is then not read at all.
A number is ASCII digits only (no sign, no decimal point, no ``²``: ``str.isdigit`` would accept
it) and at most the maximum given. When ``OTEL_SDK_DISABLED`` is ``true`` nothing else is read;
the OTLP variables are read only when ``OTEL_LOGS_EXPORTER`` includes ``otlp``.

======================================================  ========================================  ====================  ==============================
variable                                                accepted                                  default               otherwise
======================================================  ========================================  ====================  ==============================
``OTEL_SDK_DISABLED``                                   ``true`` / ``false`` (any case)           ``false``             error
``OTEL_LOGS_EXPORTER``                                  comma list of ``otlp``, ``console`` and   ``otlp``              error: unknown or repeated
                                                        installed                                                       name, ``none`` with others,
                                                        ``opentelemetry_logs_exporter`` entry                           the SDK's ``otlp_proto_*``
                                                        points; ``none`` alone: no export                               (they would read the
                                                                                                                        environment themselves)
``OTEL_EXPORTER_OTLP_LOGS_PROTOCOL``,                   ``grpc``, ``http/protobuf``               ``grpc`` (as the      error (``http/json`` too)
``OTEL_EXPORTER_OTLP_PROTOCOL``                                                                   SDK's ``otlp``)
``OTEL_EXPORTER_OTLP_LOGS_ENDPOINT``                    ``http://`` or ``https://`` URL, used as  --                    error; over http/protobuf
                                                        given (spec)                                                    without a path: one warning
``OTEL_EXPORTER_OTLP_ENDPOINT``                         same; over http/protobuf ``/v1/logs`` is  grpc:                 error
                                                        appended to its path (spec)               ``localhost:4317``,
                                                                                                  http:
                                                                                                  ``localhost:4318``
                                                                                                  (plaintext)
``..._LOGS_INSECURE``, ``..._INSECURE``                 ``true`` / ``false``; the URL's scheme    --                    error; contradicting the
                                                        decides TLS (see below)                                         scheme: one warning
``..._LOGS_HEADERS``, ``..._HEADERS``                   ``key=value,...`` (see below); the logs   none                  error naming the entry's
                                                        one replaces the generic one                                    position, never its value
``..._LOGS_COMPRESSION``, ``..._COMPRESSION``           ``gzip``, ``none``; ``deflate`` over      ``none``              error
                                                        http/protobuf only
``..._LOGS_TIMEOUT``, ``..._TIMEOUT``                   whole milliseconds, 1 .. 600000 (spec     ``10000``             error; below 1000: one warning
                                                        unit; the Python SDK reads seconds)                             (see below)
``..._LOGS_CERTIFICATE``, ``..._CERTIFICATE``           readable PEM file with CA certificates    system trust store    error
``..._LOGS_CLIENT_CERTIFICATE``,                        readable PEM files, both or neither,      none                  error
``..._LOGS_CLIENT_KEY`` (and the generic ones)          that load as a pair (an encrypted key
                                                        cannot)
``OTEL_PYTHON_EXPORTER_OTLP_GRPC_CREDENTIAL_PROVIDER``  not supported (not read by us: setting    --                    error
and its ``HTTP`` and ``LOGS`` forms                     one would silently do nothing)
``OTEL_BLRP_SCHEDULE_DELAY``                            whole milliseconds, 1 .. 3600000          ``1000``              error
``OTEL_BLRP_EXPORT_TIMEOUT``                            whole milliseconds, 1 .. 600000           ``30000``             error
``OTEL_BLRP_MAX_QUEUE_SIZE``                            1 .. 1048576 records                      ``32768``             error
``OTEL_BLRP_MAX_EXPORT_BATCH_SIZE``                     1 .. the queue size                       ``min(128, queue)``   error
``OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT``,               0 .. 100000 (the logs one wins)           ``128``               error
``OTEL_ATTRIBUTE_COUNT_LIMIT``
``OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT``,        0 .. 1073741824 (the logs one wins)       no limit              error
``OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT``
``OTEL_SERVICE_NAME``                                   any text that encodes as UTF-8            the SDK's             error (a non-UTF-8 byte made
                                                                                                                        every export fail)
``OTEL_RESOURCE_ATTRIBUTES``                            ``key=value,...``, each entry with ``=``  --                    error naming the entry's
                                                        and a key; values URL-decoded by the SDK                        position
``OTEL_EXPERIMENTAL_RESOURCE_DETECTORS``                ``*`` and installed                       --                    error (the SDK printed a
                                                        ``opentelemetry_resource_detector``                             traceback per unknown name)
                                                        names
``OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED``            ``true`` / ``false``                      ``false``             error
======================================================  ========================================  ====================  ==============================

The resource variables are checked here and then read by the SDK's ``Resource.create()``, which
is safe with any value that passes. ``OTEL_PYTHON_EXPORTER_OTLP_GRPC_RETRYABLE_ERROR_CODES`` is
not read: which failures are retried is the OTLP specification's list (``mcp_otel.senders``).
The transports still honour their own variables: ``HTTPS_PROXY``/``NO_PROXY`` and, when no OTLP
certificate is set, ``REQUESTS_CA_BUNDLE`` (http/protobuf); ``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH``
(grpc).

**Headers.** Entries are separated by ``,``; blank entries are skipped. Each entry is
``key=value`` (the first ``=`` splits; the value may hold more). The key, trimmed, must be an
HTTP token (RFC 9110 ``tchar``); it is lower-cased, as the SDK does, because gRPC metadata keys
must be lower case and HTTP names are case-insensitive. Keys are not URL-decoded (the W3C
Baggage format makes a key a token; the SDK decodes keys, so ``x%2Dy`` was ``x-y`` there). Over
grpc a key must also be made of ``0-9 a-z _ . -`` only, must not start with ``grpc-`` (reserved)
or end in ``-bin`` (binary metadata cannot be written in a variable). Keys the transport owns are
refused on both protocols: ``content-type``, ``content-encoding``, ``content-length``,
``transfer-encoding``, ``connection``, ``keep-alive``, ``proxy-connection``, ``te``, ``trailer``,
``upgrade``, ``host`` (and ``user-agent`` over grpc, which grpc replaces). A key may appear
once. The value, trimmed, may hold the W3C Baggage value characters plus a space (unencoded
spaces are common, and the SDK accepted them); ``"``, ``;``, ``\\``, other control characters
and non-ASCII characters must be percent-encoded. The value is then percent-decoded as UTF-8
(always: the SDK skipped decoding when the value held a space), and the result must be printable
ASCII (0x20-0x7E) without leading or trailing space: a CR or LF would let the value inject
headers, gRPC metadata allows nothing else, and HTTP/1.1 would send other characters as
latin-1 bytes that collectors and proxies read differently. One rule for both protocols keeps
the header that reaches the collector exactly what was written. All headers together may be at
most 16384 characters.

**Endpoints.** A URL with scheme ``http`` (plaintext) or ``https`` (TLS), a host (name,
IPv4 address or bracketed IPv6 address), an optional port 1-65535 (absent: the scheme's own,
80 or 443 -- the OTLP ports 4317/4318 are the defaults only when the variable is unset), an
optional path and query, no fragment, at most 2048 printable ASCII characters without spaces.
Anything else -- ``127.0.0.1:4317`` without a scheme (the SDK then chose TLS, flooding
handshake errors), ``ftp://``, a port 99999 -- is an error. A ``user:password@`` part becomes an
``authorization: Basic ...`` header (what requests did for http/protobuf; the gRPC SDK instead
tried to resolve ``user:password@host`` and logged it) and is removed from the URL; it cannot be
combined with an ``authorization`` header. Over grpc the path and query are ignored, as in the
SDK. Both variables unset: ``http://localhost:4317`` (grpc), ``http://localhost:4318/v1/logs``
(http/protobuf).

**Insecure.** ``OTEL_EXPORTER_OTLP[_LOGS]_INSECURE`` only applies, per the specification, to
endpoints without a scheme, which are now refused, so the scheme alone decides: ``http`` is
plaintext and ``https`` is TLS. A value that contradicts the scheme (``true`` with ``https``,
``false`` with ``http``: the SDK then used TLS to an ``http://`` endpoint) is ignored with one
warning. The certificate files are used only with ``https``.

**Timeouts.** The specification gives ``OTEL_EXPORTER_OTLP[_LOGS]_TIMEOUT`` in milliseconds;
the Python SDK reads seconds (opentelemetry-python#4044, #5531). The value is read as
milliseconds. A value below 1000 -- under the SDK's reading at least a second, under the
specification's under a second -- is kept (as milliseconds) with one warning saying how it was
read; a decimal such as ``2.5`` cannot be a millisecond count and is an error that says what to
write instead. ``OTEL_BLRP_EXPORT_TIMEOUT`` has always been milliseconds.
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Literal, NamedTuple
from urllib.parse import SplitResult, unquote, unquote_to_bytes, urlsplit, urlunsplit

from mcp_otel.errors import ConfigurationError

__all__ = [
    "DEFAULT_ATTRIBUTE_COUNT_LIMIT",
    "DEFAULT_EXPORT_TIMEOUT_MILLIS",
    "DEFAULT_MAX_EXPORT_BATCH_SIZE",
    "DEFAULT_MAX_QUEUE_SIZE",
    "DEFAULT_OTLP_TIMEOUT_MILLIS",
    "DEFAULT_PROTOCOL",
    "DEFAULT_SCHEDULE_DELAY_MILLIS",
    "Compression",
    "ConfiguredFile",
    "ExportSettings",
    "OTLPProtocol",
    "OTLPSettings",
    "Signal",
    "mask_url",
    "read_export_settings",
    "read_otlp_settings",
]

OTLPProtocol = Literal["grpc", "http/protobuf"]
Compression = Literal["none", "gzip", "deflate"]

DEFAULT_PROTOCOL: OTLPProtocol = "grpc"  # as the Python SDK's own `otlp` exporter entry point
DEFAULT_OTLP_TIMEOUT_MILLIS = 10_000  # the specification's 10 s
DEFAULT_SCHEDULE_DELAY_MILLIS = 1_000
DEFAULT_EXPORT_TIMEOUT_MILLIS = 30_000
# Records the batch queue holds before dropping: a burst of 20,000 messages to a live collector
# arrives whole (the SDK's 2,048 dropped about 80% of 50,000 in a measured burst).
DEFAULT_MAX_QUEUE_SIZE = 32_768
# Records per export request (the OTLP exporter specification's default is 512; 128 keeps what
# is held encoded and retried small while a collector is away).
DEFAULT_MAX_EXPORT_BATCH_SIZE = 128
DEFAULT_ATTRIBUTE_COUNT_LIMIT = 128  # the specification's default

_MAX_OTLP_TIMEOUT_MILLIS = 600_000  # 10 minutes per export attempt is already far past useful
_MAX_SCHEDULE_DELAY_MILLIS = 3_600_000  # an hour; larger delays overflowed the SDK worker's wait
_MAX_QUEUE_SIZE = 1_048_576
_MAX_ATTRIBUTE_COUNT = 100_000
_MAX_ATTRIBUTE_VALUE_LENGTH = 1_073_741_824
_MAX_HEADERS_LENGTH = 16_384
_MAX_URL_LENGTH = 2_048
_MAX_PEM_FILE_BYTES = 1_048_576
_SECONDS_CONVENTION_BELOW_MILLIS = 1_000

_GRPC_DEFAULT_ENDPOINT = "http://localhost:4317"
_HTTP_DEFAULT_ENDPOINT = "http://localhost:4318"
Signal = Literal["LOGS", "TRACES"]
_HTTP_PATHS: dict[str, str] = {"LOGS": "/v1/logs", "TRACES": "/v1/traces"}

_internal_log = logging.getLogger("mcp_otel")

_WHITESPACE = " \t\r\n\f\v"
_DIGITS = re.compile(r"[0-9]+")  # not \d, not str.isdigit: both accept '²' and other Unicode digits
_DECIMAL = re.compile(r"[0-9]*\.[0-9]+|[0-9]+\.[0-9]*")
_HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token
_GRPC_KEY = re.compile(r"[0-9a-z_.-]+")  # gRPC over HTTP2: Header-Name
# W3C Baggage baggage-octet (printable ASCII minus '"', ',', ';', '\\') plus a space.
_RAW_HEADER_VALUE = re.compile(r"[\x20\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
_URL_CHARACTERS = re.compile(r"[\x21-\x7e]+")
_HOST_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?")
_RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-encoding",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
        "host",
    }
)
_GRPC_RESERVED_HEADERS = _RESERVED_HEADERS | {"user-agent"}
_EXPORTER_GROUP = "opentelemetry_logs_exporter"
_RESOURCE_DETECTOR_GROUP = "opentelemetry_resource_detector"
_OUR_EXPORTER_NAMES = frozenset({"otlp", "none"})
# The SDK's OTLP exporters registered as entry points: built by name they would read every
# OTEL_EXPORTER_OTLP_* variable themselves, which is what this module exists to prevent.
_SDK_OTLP_EXPORTERS = frozenset({"otlp_proto_grpc", "otlp_proto_http"})


def mask_url(url: str) -> str:
    """``url`` with its user name, password, query string and fragment replaced by ``***``.

    For any message that names an endpoint. It never raises and needs no valid URL: an input
    that is not one (``user:pw@host:4317``) is masked by the same rules, and the result is
    cut to 200 characters. Both user name and password are masked, because a token is often
    passed as the user name alone.
    """
    scheme_end = url.find("://")
    authority_start = scheme_end + 3 if scheme_end >= 0 else 0
    authority_end = len(url)
    for delimiter in "/?#":
        position = url.find(delimiter, authority_start)
        if position != -1:
            authority_end = min(authority_end, position)
    authority = url[authority_start:authority_end]
    at = authority.rfind("@")
    if at != -1:
        authority = ("***:***" if ":" in authority[:at] else "***") + authority[at:]
    rest = url[authority_end:]
    for delimiter in "?#":
        position = rest.find(delimiter)
        if position != -1:
            rest = rest[:position] + delimiter + "***"
            break
    masked = url[:authority_start] + authority + rest
    return masked if len(masked) <= 200 else masked[:199] + "…"


class ConfiguredFile(NamedTuple):
    """A file named by a variable: kept together so a later failure can name the variable."""

    variable: str
    path: str

    @staticmethod
    def bytes_of(configured: ConfiguredFile | None) -> bytes | None:
        """What a TLS client is given: the file's bytes, or None for no file."""
        return None if configured is None else configured.read()

    def read(self) -> bytes:
        """The file's bytes; a file gone or unreadable since it was checked is an error naming the variable."""
        try:
            with open(self.path, "rb") as file:
                return file.read()
        except OSError as error:
            raise ConfigurationError(f"{self.variable}={self.path!r}: cannot be read ({error.strerror})") from None


@dataclass(frozen=True, repr=False)
class OTLPSettings:
    """Where and how one signal's OTLP batches go (logs; span events' traces). ``repr`` masks the
    endpoint and hides header values."""

    protocol: OTLPProtocol
    endpoint: str
    """The URL requests go to, without user info: over http/protobuf the full URL (path
    included); over grpc ``scheme://host:port`` matters, the path is ignored."""
    endpoint_variable: str | None
    """The variable the endpoint came from, or None for the default."""
    headers: tuple[tuple[str, str], ...] = field(repr=False)
    """Lower-case keys and decoded values, in the order written; an endpoint's user info is
    here as ``authorization``."""
    headers_variable: str | None
    compression: Compression
    timeout_millis: int
    timeout_variable: str | None
    certificate: ConfiguredFile | None
    client_certificate: ConfiguredFile | None
    client_key: ConfiguredFile | None

    @property
    def tls(self) -> bool:
        return self.endpoint.startswith("https://")

    @property
    def host_and_port(self) -> tuple[str, int]:
        """The host (IPv6 without brackets) and the port, the scheme's own when the URL has none."""
        parts = urlsplit(self.endpoint)
        host = parts.hostname or ""
        return host, parts.port or (443 if self.tls else 80)

    @property
    def grpc_target(self) -> str:
        host, port = self.host_and_port
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def __repr__(self) -> str:
        names = ", ".join(key for key, _ in self.headers)
        return (
            f"OTLPSettings(protocol={self.protocol!r}, endpoint={mask_url(self.endpoint)!r}, "
            f"headers=[{names}] (values hidden), compression={self.compression!r}, "
            f"timeout_millis={self.timeout_millis}, tls={self.tls}, certificate={self.certificate!r}, "
            f"client_certificate={self.client_certificate!r}, client_key={self.client_key!r})"
        )


@dataclass(frozen=True)
class ExportSettings:
    """Everything the log export reads from the environment, checked (see the module docstring)."""

    sdk_disabled: bool
    exporters: tuple[str, ...]
    """``otlp``, ``console`` and entry-point names, in the order written; empty for ``none``."""
    otlp: OTLPSettings | None
    """Set exactly when ``exporters`` includes ``otlp``."""
    schedule_delay_millis: int
    export_timeout_millis: int
    """``OTEL_BLRP_EXPORT_TIMEOUT``: the bound on one export, retries included."""
    max_queue_size: int
    max_export_batch_size: int
    attribute_count_limit: int
    attribute_value_length_limit: int | None
    """None: no limit. Pass both limits to ``LogRecordLimits`` explicitly (``LogRecordLimits.UNSET``
    for None): given None it reads the variables itself, and reads an empty one as "no limit"."""
    internal_metrics_enabled: bool

    @property
    def export_deadline_seconds(self) -> float:
        """The smaller of the OTLP timeout and ``OTEL_BLRP_EXPORT_TIMEOUT``, in seconds."""
        if self.otlp is None:
            return self.export_timeout_millis / 1000
        return min(self.otlp.timeout_millis, self.export_timeout_millis) / 1000


def read_export_settings(environ: Mapping[str, str]) -> ExportSettings:
    """Read and check every variable of the module docstring's table from ``environ``.

    Raises :class:`ConfigurationError` naming the first variable that cannot be used; logs one
    warning through the ``mcp_otel`` logger for each value that is used but looks unintended.
    """
    reader = _Reader(environ)
    disabled = reader.boolean("OTEL_SDK_DISABLED", default=False)
    if disabled:
        return _disabled_settings()
    _refuse_credential_providers(reader, "LOGS")
    exporters = _exporter_names(reader)
    max_queue_size = reader.whole_number(
        "OTEL_BLRP_MAX_QUEUE_SIZE", DEFAULT_MAX_QUEUE_SIZE, 1, _MAX_QUEUE_SIZE, "records"
    )
    batch_size_text = reader.text("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE")
    if batch_size_text is None:
        max_export_batch_size = min(DEFAULT_MAX_EXPORT_BATCH_SIZE, max_queue_size)
    else:
        max_export_batch_size = reader.whole_number("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", 0, 1, _MAX_QUEUE_SIZE, "records")
        if max_export_batch_size > max_queue_size:
            raise ConfigurationError(
                f"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE={max_export_batch_size} exceeds the queue size "
                f"(OTEL_BLRP_MAX_QUEUE_SIZE={max_queue_size})"
            )
    count_variable = reader.first_set("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "OTEL_ATTRIBUTE_COUNT_LIMIT")
    length_variable = reader.first_set(
        "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"
    )
    attribute_value_length_limit = (
        None
        if length_variable is None
        else reader.whole_number(length_variable, 0, 0, _MAX_ATTRIBUTE_VALUE_LENGTH, "characters")
    )
    settings = ExportSettings(
        sdk_disabled=False,
        exporters=exporters,
        otlp=_otlp_settings(reader, "LOGS") if "otlp" in exporters else None,
        schedule_delay_millis=reader.whole_number(
            "OTEL_BLRP_SCHEDULE_DELAY", DEFAULT_SCHEDULE_DELAY_MILLIS, 1, _MAX_SCHEDULE_DELAY_MILLIS, "milliseconds"
        ),
        export_timeout_millis=reader.whole_number(
            "OTEL_BLRP_EXPORT_TIMEOUT", DEFAULT_EXPORT_TIMEOUT_MILLIS, 1, _MAX_OTLP_TIMEOUT_MILLIS, "milliseconds"
        ),
        max_queue_size=max_queue_size,
        max_export_batch_size=max_export_batch_size,
        attribute_count_limit=(
            DEFAULT_ATTRIBUTE_COUNT_LIMIT
            if count_variable is None
            else reader.whole_number(count_variable, 0, 0, _MAX_ATTRIBUTE_COUNT, "attributes")
        ),
        attribute_value_length_limit=attribute_value_length_limit,
        internal_metrics_enabled=reader.boolean("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", default=False),
    )
    _check_resource_variables(reader)
    return settings


def read_otlp_settings(environ: Mapping[str, str], signal: Signal) -> OTLPSettings:
    """One signal's OTLP destination, read and checked as the logs' are (the module docstring's
    table, with ``TRACES`` for ``LOGS`` in the signal-specific names): span events' exporter."""
    reader = _Reader(environ)
    _refuse_credential_providers(reader, signal)
    return _otlp_settings(reader, signal)


def _refuse_credential_providers(reader: _Reader, signal: Signal) -> None:
    # The SDK's exporters load these entry points themselves, on their first export: a name that
    # does not load is an error there, long after start-up, and then nothing is exported.
    for protocol in ("GRPC", "HTTP"):
        for name in (
            f"OTEL_PYTHON_EXPORTER_OTLP_{protocol}_{signal}_CREDENTIAL_PROVIDER",
            f"OTEL_PYTHON_EXPORTER_OTLP_{protocol}_CREDENTIAL_PROVIDER",
        ):
            if reader.text(name) is not None:
                raise ConfigurationError(
                    f"{name}: credential provider entry points are not supported by mcp-otel's export; "
                    "send credentials with OTEL_EXPORTER_OTLP_HEADERS"
                )


def _disabled_settings() -> ExportSettings:
    return ExportSettings(
        sdk_disabled=True,
        exporters=(),
        otlp=None,
        schedule_delay_millis=DEFAULT_SCHEDULE_DELAY_MILLIS,
        export_timeout_millis=DEFAULT_EXPORT_TIMEOUT_MILLIS,
        max_queue_size=DEFAULT_MAX_QUEUE_SIZE,
        max_export_batch_size=DEFAULT_MAX_EXPORT_BATCH_SIZE,
        attribute_count_limit=DEFAULT_ATTRIBUTE_COUNT_LIMIT,
        attribute_value_length_limit=None,
        internal_metrics_enabled=False,
    )


def _shown(value: str) -> str:
    """A non-secret value (a number, a name, a path) for a message: quoted, escaped, cut to 100 characters."""
    return repr(value) if len(value) <= 100 else repr(value[:100]) + "…"


class _Reader:
    """Typed reads of one environment mapping; every method raises ConfigurationError or returns."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def text(self, name: str) -> str | None:
        value = self._environ.get(name)
        if value is None:
            return None
        value = value.strip(_WHITESPACE)
        return value or None

    def first_set(self, *names: str) -> str | None:
        """The first of ``names`` that is set (the logs-specific variable comes first)."""
        return next((name for name in names if self.text(name) is not None), None)

    def boolean(self, name: str, *, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered not in ("true", "false"):
            raise ConfigurationError(f"{name}={_shown(value)}: expected 'true' or 'false'")
        return lowered == "true"

    def whole_number(self, name: str, default: int, minimum: int, maximum: int, noun: str) -> int:
        value = self.text(name)
        if value is None:
            return default
        what = f"a whole number of {noun}"
        if not _DIGITS.fullmatch(value) or len(value) > 12:
            raise ConfigurationError(
                f"{name}={_shown(value)}: expected {what} written in ASCII digits, {minimum} to {maximum}"
            )
        number = int(value)
        if not minimum <= number <= maximum:
            raise ConfigurationError(f"{name}={number}: expected {what} from {minimum} to {maximum}")
        return number


def _exporter_names(reader: _Reader) -> tuple[str, ...]:
    value = reader.text("OTEL_LOGS_EXPORTER") or "otlp"
    names = [name.strip(_WHITESPACE) for name in value.split(",")]
    names = [name for name in names if name]
    if names == ["none"]:
        return ()
    available: set[str] | None = None
    seen: set[str] = set()
    for name in names:
        if name == "none":
            raise ConfigurationError(
                f"OTEL_LOGS_EXPORTER={_shown(value)}: 'none' cannot be combined with other exporters"
            )
        if name in seen:
            raise ConfigurationError(f"OTEL_LOGS_EXPORTER={_shown(value)}: {name!r} is listed twice")
        seen.add(name)
        if name in _SDK_OTLP_EXPORTERS:
            raise ConfigurationError(
                f"OTEL_LOGS_EXPORTER={_shown(value)}: use 'otlp' and OTEL_EXPORTER_OTLP_LOGS_PROTOCOL "
                f"instead of {name!r}, which would read the OTLP variables unchecked"
            )
        if name in _OUR_EXPORTER_NAMES:
            continue
        if available is None:
            available = {entry.name for entry in entry_points(group=_EXPORTER_GROUP)}
        if name not in available:
            known = ", ".join(sorted({"otlp", "none"} | (available - _SDK_OTLP_EXPORTERS)))
            raise ConfigurationError(f"OTEL_LOGS_EXPORTER={_shown(value)}: unknown exporter {name!r}; known: {known}")
    return tuple(names)


def _otlp_settings(reader: _Reader, signal: Signal) -> OTLPSettings:
    protocol_variable = reader.first_set(f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
    protocol: OTLPProtocol = DEFAULT_PROTOCOL
    if protocol_variable is not None:
        value = reader.text(protocol_variable) or ""
        if value == "grpc":
            protocol = "grpc"
        elif value == "http/protobuf":
            protocol = "http/protobuf"
        else:
            raise ConfigurationError(
                f"{protocol_variable}={_shown(value)}: unsupported OTLP protocol; supported: 'grpc', 'http/protobuf'"
            )
    endpoint, endpoint_variable, userinfo = _endpoint(reader, protocol, signal)
    headers, headers_variable = _headers(reader, protocol, signal)
    if userinfo is not None:
        if any(key == "authorization" for key, _ in headers):
            raise ConfigurationError(
                f"{endpoint_variable}={mask_url(reader.text(endpoint_variable or '') or '')!r}: the URL carries "
                f"credentials and {headers_variable} an authorization header; give only one of them"
            )
        headers = (*headers, ("authorization", "Basic " + base64.b64encode(userinfo).decode("ascii")))
    _warn_about_insecure(reader, protocol, endpoint, signal)
    timeout_variable = reader.first_set(f"OTEL_EXPORTER_OTLP_{signal}_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")
    certificate = _pem_file(reader, f"OTEL_EXPORTER_OTLP_{signal}_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE")
    client_certificate = _pem_file(
        reader, f"OTEL_EXPORTER_OTLP_{signal}_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"
    )
    client_key = _pem_file(reader, f"OTEL_EXPORTER_OTLP_{signal}_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_KEY")
    _check_certificates(certificate, client_certificate, client_key, signal)
    return OTLPSettings(
        protocol=protocol,
        endpoint=endpoint,
        endpoint_variable=endpoint_variable,
        headers=headers,
        headers_variable=headers_variable,
        compression=_compression(reader, protocol, signal),
        timeout_millis=(
            DEFAULT_OTLP_TIMEOUT_MILLIS if timeout_variable is None else _otlp_timeout(reader, timeout_variable)
        ),
        timeout_variable=timeout_variable,
        certificate=certificate,
        client_certificate=client_certificate,
        client_key=client_key,
    )


def _compression(reader: _Reader, protocol: OTLPProtocol, signal: Signal) -> Compression:
    variable = reader.first_set(f"OTEL_EXPORTER_OTLP_{signal}_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION")
    if variable is None:
        return "none"
    value = (reader.text(variable) or "").lower()
    if value == "gzip":
        return "gzip"
    if value == "none":
        return "none"
    if value == "deflate" and protocol == "http/protobuf":
        return "deflate"
    if value == "deflate":
        # grpcio could send it, but collectors (grpc-go) register only a gzip decompressor.
        raise ConfigurationError(f"{variable}='deflate': supported over http/protobuf only; use 'gzip' with grpc")
    raise ConfigurationError(f"{variable}={_shown(value)}: expected 'gzip' or 'none' ('deflate' over http/protobuf)")


def _otlp_timeout(reader: _Reader, variable: str) -> int:
    value = reader.text(variable) or ""
    if _DECIMAL.fullmatch(value) and len(value) <= 12:
        seconds = float(value)
        raise ConfigurationError(
            f"{variable}={_shown(value)}: expected whole milliseconds (the OpenTelemetry specification's unit); "
            f"the Python SDK read this variable as seconds (opentelemetry-python#4044): for {seconds:g} seconds "
            f"write {round(seconds * 1000)}"
        )
    millis = reader.whole_number(variable, DEFAULT_OTLP_TIMEOUT_MILLIS, 1, _MAX_OTLP_TIMEOUT_MILLIS, "milliseconds")
    if millis < _SECONDS_CONVENTION_BELOW_MILLIS:
        _internal_log.warning(
            "mcp_otel: %s=%d is read as %d milliseconds, the OpenTelemetry specification's unit; the Python SDK "
            "reads it as seconds (opentelemetry-python#4044). For %d seconds write %d.",
            variable,
            millis,
            millis,
            millis,
            millis * 1000,
        )
    return millis


def _endpoint(reader: _Reader, protocol: OTLPProtocol, signal: Signal) -> tuple[str, str | None, bytes | None]:
    """The endpoint URL (user info removed), the variable it came from, and the user info as bytes."""
    signal_variable = f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"
    signal_value = reader.text(signal_variable)
    signal_path = _HTTP_PATHS[signal]
    if signal_value is not None:
        variable, value = signal_variable, signal_value
    else:
        generic = reader.text("OTEL_EXPORTER_OTLP_ENDPOINT")
        if generic is None:
            default = _GRPC_DEFAULT_ENDPOINT if protocol == "grpc" else _HTTP_DEFAULT_ENDPOINT + signal_path
            return default, None, None
        variable, value = "OTEL_EXPORTER_OTLP_ENDPOINT", generic
    parts = _parse_endpoint(variable, value)
    userinfo: bytes | None = None
    netloc = parts.netloc
    if "@" in netloc:
        raw_userinfo, _, netloc = netloc.rpartition("@")
        # As requests' get_auth_from_url: percent-decoded, and a lone user name gets an empty password.
        userinfo = unquote_to_bytes(raw_userinfo if ":" in raw_userinfo else raw_userinfo + ":")
    path = parts.path
    if protocol == "http/protobuf":
        if variable == "OTEL_EXPORTER_OTLP_ENDPOINT":
            path = path.rstrip("/") + signal_path
        elif path in ("", "/"):
            _internal_log.warning(
                "mcp_otel: %s=%r has no path; it is used as given (the specification), so data is "
                "posted to '/', where collectors answer 404. The OTLP/HTTP %s path is %s; or set "
                "OTEL_EXPORTER_OTLP_ENDPOINT, which gets it appended.",
                signal_variable,
                mask_url(value),
                signal.lower(),
                signal_path,
            )
    return urlunsplit((parts.scheme, netloc, path, parts.query, "")), variable, userinfo


def _parse_endpoint(variable: str, value: str) -> SplitResult:
    def invalid(problem: str) -> ConfigurationError:
        return ConfigurationError(
            f"{variable}={mask_url(value)!r}: {problem}; expected a URL such as http://localhost:4317 "
            "(plaintext) or https://collector.example:4317 (TLS)"
        )

    if len(value) > _MAX_URL_LENGTH:
        raise invalid(f"longer than {_MAX_URL_LENGTH} characters")
    if not _URL_CHARACTERS.fullmatch(value):
        raise invalid("spaces, control or non-ASCII characters (write a host name in its ASCII, punycode, form)")
    lowered = value.lower()
    if not lowered.startswith(("http://", "https://")):
        if "://" in value:
            raise invalid("the scheme must be http or https")
        raise invalid("no scheme (http:// for plaintext, https:// for TLS)")
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed '[' around an IPv6 host
        raise invalid("not a valid URL") from None
    try:
        port = parts.port
    except ValueError:
        raise invalid("the port must be a number from 1 to 65535") from None
    host_and_port = parts.netloc.rpartition("@")[2]
    if parts.fragment or "#" in value:
        raise invalid("a URL fragment ('#...') has no meaning here")
    host = parts.hostname or ""
    if host_and_port.startswith("["):
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise invalid("the bracketed host is not an IPv6 address") from None
    elif not host:
        raise invalid("no host")
    elif not _HOST_NAME.fullmatch(host):
        raise invalid("the host is not a valid name or address")
    port_text = host_and_port.rpartition("]")[2] if host_and_port.startswith("[") else host_and_port
    port_text = port_text.partition(":")[2]
    if port_text and (not _DIGITS.fullmatch(port_text) or port is None or not 1 <= port <= 65535):
        raise invalid("the port must be a number from 1 to 65535")
    return SplitResult(parts.scheme.lower(), parts.netloc, parts.path, parts.query, "")


def _warn_about_insecure(reader: _Reader, protocol: OTLPProtocol, endpoint: str, signal: Signal) -> None:
    variable = reader.first_set(f"OTEL_EXPORTER_OTLP_{signal}_INSECURE", "OTEL_EXPORTER_OTLP_INSECURE")
    if variable is None:
        return
    insecure = reader.boolean(variable, default=False)
    tls = endpoint.startswith("https://")
    if protocol == "grpc" and insecure == tls:
        _internal_log.warning(
            "mcp_otel: %s=%s is ignored: the endpoint's %s scheme already says %s (the specification applies "
            "INSECURE only to endpoints without a scheme, which mcp-otel refuses)",
            variable,
            "true" if insecure else "false",
            "https" if tls else "http",
            "TLS" if tls else "plaintext",
        )


def _headers(
    reader: _Reader, protocol: OTLPProtocol, signal: Signal
) -> tuple[tuple[tuple[str, str], ...], str | None]:
    variable = reader.first_set(f"OTEL_EXPORTER_OTLP_{signal}_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS")
    if variable is None:
        return (), None
    value = reader.text(variable) or ""
    if len(value) > _MAX_HEADERS_LENGTH:
        raise ConfigurationError(f"{variable}: longer than {_MAX_HEADERS_LENGTH} characters")
    headers: list[tuple[str, str]] = []
    positions: dict[str, int] = {}
    for position, entry in enumerate(value.split(","), start=1):
        entry = entry.strip(" \t")
        if not entry:
            continue
        key, decoded = _header_entry(variable, position, entry, protocol)
        if key in positions:
            raise ConfigurationError(f"{variable}: entry {position} repeats the key {key!r} of entry {positions[key]}")
        positions[key] = position
        headers.append((key, decoded))
    return tuple(headers), variable


def _header_entry(variable: str, position: int, entry: str, protocol: OTLPProtocol) -> tuple[str, str]:
    """One ``key=value`` entry, checked; errors name the entry's position and never its value."""

    def invalid(problem: str) -> ConfigurationError:
        return ConfigurationError(
            f"{variable}: entry {position}: {problem}; expected comma-separated key=value pairs with URL-encoded values"
        )

    if "=" not in entry:
        raise invalid("no '='")
    raw_key, _, raw_value = entry.partition("=")
    key = raw_key.strip(" \t")
    if not key:
        raise invalid("empty key")
    if not _HTTP_TOKEN.fullmatch(key):
        raise invalid("the key is not an HTTP header name (letters, digits and !#$%&'*+.^_`|~-)")
    key = key.lower()
    reserved = _GRPC_RESERVED_HEADERS if protocol == "grpc" else _RESERVED_HEADERS
    if key in reserved:
        raise invalid(f"{key!r} is set by the exporter itself")
    if protocol == "grpc":
        if not _GRPC_KEY.fullmatch(key):
            raise invalid(f"gRPC metadata keys may hold only 0-9, a-z, '_', '.' and '-', not those of {key!r}")
        if key.startswith("grpc-"):
            raise invalid(f"{key!r}: keys starting with 'grpc-' are reserved by gRPC")
        if key.endswith("-bin"):
            raise invalid(f"{key!r}: binary ('-bin') metadata cannot be given in an environment variable")
    raw = raw_value.strip(" \t")
    if not _RAW_HEADER_VALUE.fullmatch(raw):
        raise invalid(f"the value of {key!r} holds {_unencoded_kind(raw)}; percent-encode it")
    try:
        decoded = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise invalid(f"the value of {key!r} decodes to bytes that are not UTF-8") from None
    if not _PRINTABLE_ASCII.fullmatch(decoded):
        kind = "a CR or LF" if ("\r" in decoded or "\n" in decoded) else _unencoded_kind(decoded, after_decoding=True)
        raise invalid(f"the value of {key!r} decodes to {kind}, which a header cannot carry")
    if decoded != decoded.strip(" "):
        raise invalid(f"the value of {key!r} decodes to leading or trailing spaces, which HTTP would drop")
    return key, decoded


def _unencoded_kind(text: str, *, after_decoding: bool = False) -> str:
    """What kind of character makes ``text`` unusable, without quoting any of ``text``."""
    for character in text:
        if character in "\r\n" or ord(character) < 0x20 or ord(character) == 0x7F:
            return "a control character"
        if ord(character) > 0x7E:
            return "a non-ASCII character"
        if not after_decoding and character in '";\\':
            return f"a raw {character!r}"
    return "a character that is not allowed"


def _pem_file(reader: _Reader, logs_variable: str, generic_variable: str) -> ConfiguredFile | None:
    variable = reader.first_set(logs_variable, generic_variable)
    if variable is None:
        return None
    path = reader.text(variable) or ""
    if not os.path.exists(path):
        raise ConfigurationError(f"{variable}={_shown(path)}: no such file")
    if not os.path.isfile(path):  # checked before open(): opening a FIFO would block
        raise ConfigurationError(f"{variable}={_shown(path)}: not a regular file")
    try:
        with open(path, "rb") as file:
            content = file.read(_MAX_PEM_FILE_BYTES + 1)
    except OSError as error:
        raise ConfigurationError(f"{variable}={_shown(path)}: cannot be read ({error.strerror})") from None
    if len(content) > _MAX_PEM_FILE_BYTES:
        raise ConfigurationError(f"{variable}={_shown(path)}: larger than {_MAX_PEM_FILE_BYTES} bytes")
    if b"-----BEGIN " not in content:
        raise ConfigurationError(f"{variable}={_shown(path)}: not a PEM file (no '-----BEGIN' line)")
    return ConfiguredFile(variable, path)


def _check_certificates(
    certificate: ConfiguredFile | None,
    client_certificate: ConfiguredFile | None,
    client_key: ConfiguredFile | None,
    signal: Signal,
) -> None:
    """Load the files the way a TLS client will, so a bad one fails now, naming its variable."""
    if certificate is not None:
        try:
            ssl.create_default_context(cafile=certificate.path)
        except (ssl.SSLError, OSError, ValueError):
            raise ConfigurationError(
                f"{certificate.variable}={_shown(certificate.path)}: holds no CA certificate that can be loaded"
            ) from None
    if (client_certificate is None) != (client_key is None):
        given, missing = (
            (client_certificate, "OTEL_EXPORTER_OTLP_CLIENT_KEY")
            if client_key is None
            else (client_key, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE")
        )
        assert given is not None
        raise ConfigurationError(
            f"{given.variable} is set but {missing} (or its {signal}_ form) is not; mTLS needs both"
        )
    if client_certificate is not None and client_key is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        def refuse_password() -> bytes:
            return b""  # an encrypted key must fail, not prompt on a TTY

        try:
            context.load_cert_chain(client_certificate.path, client_key.path, password=refuse_password)
        except (ssl.SSLError, OSError, ValueError):
            raise ConfigurationError(
                f"{client_certificate.variable}={_shown(client_certificate.path)} and {client_key.variable}="
                f"{_shown(client_key.path)}: do not load as a certificate and its unencrypted private key"
            ) from None


def _check_resource_variables(reader: _Reader) -> None:
    """What the SDK's ``Resource.create()`` would choke on or print, refused before it reads them."""
    service_name = reader.text("OTEL_SERVICE_NAME")
    if service_name is not None and not _encodes_as_utf8(service_name):
        # os.environ hands a non-UTF-8 byte over as a lone surrogate; the SDK keeps it, and
        # then every export fails to encode the resource.
        raise ConfigurationError("OTEL_SERVICE_NAME: holds bytes that are not UTF-8")
    attributes = reader.text("OTEL_RESOURCE_ATTRIBUTES")
    if attributes is not None:
        for position, entry in enumerate(attributes.split(","), start=1):
            problem = None
            if not entry.strip(_WHITESPACE):
                problem = "is empty"
            elif "=" not in entry:
                problem = "has no '='"
            elif not entry.partition("=")[0].strip(_WHITESPACE):
                problem = "has an empty key"
            elif not _encodes_as_utf8(entry) or not _encodes_as_utf8(unquote(entry)):
                problem = "holds bytes that are not UTF-8"
            if problem is not None:
                raise ConfigurationError(
                    f"OTEL_RESOURCE_ATTRIBUTES: entry {position} {problem}; expected comma-separated key=value "
                    "pairs with URL-encoded values"
                )
    detectors = reader.text("OTEL_EXPERIMENTAL_RESOURCE_DETECTORS")
    if detectors is not None:
        names = [name.strip(_WHITESPACE) for name in detectors.split(",") if name.strip(_WHITESPACE)]
        available = {entry.name for entry in entry_points(group=_RESOURCE_DETECTOR_GROUP)}
        for name in names:
            if name != "*" and name not in available:
                known = ", ".join(sorted(available | {"*"}))
                raise ConfigurationError(
                    f"OTEL_EXPERIMENTAL_RESOURCE_DETECTORS={_shown(detectors)}: unknown detector {name!r}; known: {known}"
                )


def _encodes_as_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
