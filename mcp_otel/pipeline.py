"""Build the export pipeline (LoggerProvider -> BatchLogRecordProcessor -> exporters) from ``OTEL_*``.

The OTel SDK and the OTLP exporters already read almost every variable themselves: endpoints,
headers, compression, timeouts, TLS, ``OTEL_BLRP_*``, ``OTEL_LOGRECORD_ATTRIBUTE_*`` and the
resource variables. What they leave to a "distro" is which exporters to build
(``OTEL_LOGS_EXPORTER``) and which OTLP protocol to speak (``OTEL_EXPORTER_OTLP[_LOGS]_PROTOCOL``);
that part is written here. The SDK also tolerates bad values silently (a malformed header is
skipped with a warning, a bad number falls back to its default), so every variable is checked
first, and a bad one raises one :class:`ConfigurationError` that names it.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import LogRecordExporter
from opentelemetry.sdk.resources import Resource

from mcp_otel.accounting import Accounting
from mcp_otel.delivery import DEFAULT_MAX_BATCH_RECORDS, DEFAULT_MAX_QUEUE_RECORDS, Delivery, ExporterDestination
from mcp_otel.emitter import Emitter
from mcp_otel.errors import ConfigurationError

__all__ = ["DEFAULT_PROTOCOL", "build_emitter", "endpoint_is_configured", "sdk_disabled", "validate_environment"]

DEFAULT_PROTOCOL = "grpc"  # as the Python SDK's own `otlp` exporter entry point and opentelemetry-instrument
_EXPORTER_ENTRY_POINT_BY_PROTOCOL = {"grpc": "otlp_proto_grpc", "http/protobuf": "otlp_proto_http"}
_EXPORTER_GROUP = "opentelemetry_logs_exporter"
_DEFAULT_OTLP_TIMEOUT_SECONDS = 10.0

# W3C-baggage-like "key=value,key2=value2"; values may hold "=" (base64 tokens). The SDK's own
# liberal pattern, made strict enough to reject what it would silently skip.
_HEADER_ITEM = re.compile(r"\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+\s*=.*")

_POSITIVE_INTEGER_VARIABLES = (
    "OTEL_BLRP_SCHEDULE_DELAY",
    "OTEL_BLRP_MAX_QUEUE_SIZE",
    "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_BLRP_EXPORT_TIMEOUT",
)
_NON_NEGATIVE_INTEGER_VARIABLES = (
    "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
)
_SECONDS_VARIABLES = ("OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT")
_BOOLEAN_VARIABLES = ("OTEL_EXPORTER_OTLP_INSECURE", "OTEL_EXPORTER_OTLP_LOGS_INSECURE", "OTEL_SDK_DISABLED")
_COMPRESSION_VARIABLES = ("OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION")
_HEADER_VARIABLES = ("OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_LOGS_HEADERS")
_FILE_VARIABLES = (
    "OTEL_EXPORTER_OTLP_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE",
    "OTEL_EXPORTER_OTLP_CLIENT_KEY",
    "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY",
)
_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")


def _variable(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def sdk_disabled(environ: Mapping[str, str] | None = None) -> bool:
    """``OTEL_SDK_DISABLED=true``: the spec's switch that turns every SDK into a no-op."""
    value = _variable(os.environ if environ is None else environ, "OTEL_SDK_DISABLED")
    return value is not None and value.lower() == "true"


def endpoint_is_configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the user pointed OTLP somewhere (or chose exporters) explicitly."""
    env = os.environ if environ is None else environ
    return any(_variable(env, name) for name in (*_ENDPOINT_VARIABLES, "OTEL_LOGS_EXPORTER"))


def _validate(environ: Mapping[str, str]) -> None:
    for name in _POSITIVE_INTEGER_VARIABLES:
        value = _variable(environ, name)
        if value is not None and not (value.isdigit() and int(value) > 0):
            raise ConfigurationError(f"{name}={value!r}: expected a positive whole number of records or milliseconds")
    queue_size = _variable(environ, "OTEL_BLRP_MAX_QUEUE_SIZE")
    batch_size = _variable(environ, "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE")
    if batch_size is not None and int(batch_size) > int(queue_size or DEFAULT_MAX_QUEUE_RECORDS):
        raise ConfigurationError(
            f"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE={batch_size!r} exceeds the queue size "
            f"(OTEL_BLRP_MAX_QUEUE_SIZE={queue_size or DEFAULT_MAX_QUEUE_RECORDS})"
        )
    for name in _NON_NEGATIVE_INTEGER_VARIABLES:
        value = _variable(environ, name)
        if value is not None and not value.isdigit():
            raise ConfigurationError(f"{name}={value!r}: expected a whole number >= 0")
    for name in _SECONDS_VARIABLES:
        value = _variable(environ, name)
        if value is not None:
            try:
                seconds = float(value)
            except ValueError:
                seconds = -1.0
            if not seconds > 0:
                raise ConfigurationError(f"{name}={value!r}: expected a positive number of seconds")
    for name in _BOOLEAN_VARIABLES:
        value = _variable(environ, name)
        if value is not None and value.lower() not in ("true", "false"):
            raise ConfigurationError(f"{name}={value!r}: expected 'true' or 'false'")
    for name in _COMPRESSION_VARIABLES:
        value = _variable(environ, name)
        if value is not None and value.lower() not in ("gzip", "deflate", "none"):
            raise ConfigurationError(f"{name}={value!r}: expected 'gzip', 'deflate' or 'none'")
    for name in _HEADER_VARIABLES:
        value = _variable(environ, name)
        if value is None:
            continue
        for position, item in enumerate(value.split(","), start=1):
            if item.strip() and not _HEADER_ITEM.fullmatch(item):
                # Never echo the value: header variables carry credentials.
                raise ConfigurationError(
                    f"{name}: malformed entry number {position}; "
                    "expected comma-separated key=value pairs (values URL-encoded)"
                )
    for name in _FILE_VARIABLES:
        value = _variable(environ, name)
        if value is not None and not os.path.isfile(value):
            raise ConfigurationError(f"{name}={value!r}: no such file")
    for name in _ENDPOINT_VARIABLES:
        value = _variable(environ, name)
        if value is not None and re.search(r"\s", value):
            raise ConfigurationError(f"{name}={value!r}: expected a URL such as http://localhost:4317")


def _otlp_protocol(environ: Mapping[str, str]) -> str:
    for name in ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        value = _variable(environ, name)
        if value is None:
            continue
        if value not in _EXPORTER_ENTRY_POINT_BY_PROTOCOL:
            supported = ", ".join(repr(p) for p in _EXPORTER_ENTRY_POINT_BY_PROTOCOL)
            raise ConfigurationError(f"{name}={value!r}: unsupported OTLP protocol; supported: {supported}")
        return value
    return DEFAULT_PROTOCOL


def _exporter_factories(environ: Mapping[str, str]) -> list[Callable[[], LogRecordExporter]]:
    """The exporters ``OTEL_LOGS_EXPORTER`` names (default ``otlp``), as zero-argument factories."""
    value = _variable(environ, "OTEL_LOGS_EXPORTER") or "otlp"
    names = [name.strip() for name in value.split(",") if name.strip()]
    if names == ["none"]:
        return []
    available = {entry.name: entry for entry in entry_points(group=_EXPORTER_GROUP)}
    factories: list[Callable[[], LogRecordExporter]] = []
    for name in names:
        if name == "none":
            raise ConfigurationError(f"OTEL_LOGS_EXPORTER={value!r}: 'none' cannot be combined with other exporters")
        entry_name = _EXPORTER_ENTRY_POINT_BY_PROTOCOL[_otlp_protocol(environ)] if name == "otlp" else name
        if entry_name not in available:
            known = ", ".join(sorted({"otlp", "none", *available}))
            raise ConfigurationError(f"OTEL_LOGS_EXPORTER={value!r}: unknown exporter {name!r}; known: {known}")
        exporter_class = available[entry_name].load()
        if entry_name in _EXPORTER_ENTRY_POINT_BY_PROTOCOL.values():
            options: dict[str, Any] = {"timeout": _otlp_export_timeout_seconds(environ)}
            if entry_name == "otlp_proto_http" and _certificate_is_configured(environ):
                options["session"] = _session_keeping_its_certificate()
            exporter_class = functools.partial(exporter_class, **options)
        factories.append(exporter_class)
    return factories


def _certificate_is_configured(environ: Mapping[str, str]) -> bool:
    return any(_variable(environ, name) for name in _FILE_VARIABLES[:2])


def _session_keeping_its_certificate() -> Any:
    """A requests Session whose own CA file is not replaced by ``REQUESTS_CA_BUNDLE``.

    The HTTP exporter puts ``OTEL_EXPORTER_OTLP_CERTIFICATE`` into ``session.verify``, but
    requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` override a session's ``verify``
    for every request (psf/requests#3829), so on machines that set those (many CI images
    do) the collector's certificate would be silently ignored and TLS would fail.
    """
    import requests

    class SessionKeepingItsCertificate(requests.Session):
        def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            if verify is None and isinstance(self.verify, str):
                settings["verify"] = self.verify
            return settings

    return SessionKeepingItsCertificate()


def _otlp_export_timeout_seconds(environ: Mapping[str, str]) -> float:
    """The OTLP exporter's deadline per export: the smaller of the OTLP and the BLRP timeouts.

    The Python SDK reads ``OTEL_BLRP_EXPORT_TIMEOUT`` but never applies it (its BatchProcessor
    says "Not used", opentelemetry-python#4555); the OTLP exporter's own ``timeout`` bounds
    one export including its retries, so handing the smaller value to it honours both.
    """
    otlp_seconds = float(
        _variable(environ, "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT")
        or _variable(environ, "OTEL_EXPORTER_OTLP_TIMEOUT")
        or _DEFAULT_OTLP_TIMEOUT_SECONDS
    )
    blrp_milliseconds = _variable(environ, "OTEL_BLRP_EXPORT_TIMEOUT")
    if blrp_milliseconds is None:
        return otlp_seconds
    return min(otlp_seconds, int(blrp_milliseconds) / 1000)


def validate_environment() -> None:
    """Raise :class:`ConfigurationError` for the first ``OTEL_*`` variable the pipeline cannot use."""
    _validate(os.environ)
    _exporter_factories(os.environ)


def build_emitter() -> Emitter:
    """The pipeline from the environment: a provider, the delivery queue, and the exporters.

    Raises :class:`ConfigurationError` for any variable the pipeline cannot use.
    """
    environ = os.environ
    _validate(environ)
    factories = _exporter_factories(environ)
    accounting = Accounting()
    # No SDK atexit hook: its shutdown waits up to 30 s per processor for a dead collector. The
    # emitter registers its own, bounded one.
    provider = LoggerProvider(resource=Resource.create(), shutdown_on_exit=False)
    if not factories:  # OTEL_LOGS_EXPORTER=none
        return Emitter(provider, source="environment", accounting=accounting, owns_provider=True, exports_nothing=True)
    try:
        exporters = [factory() for factory in factories]
    except Exception as error:  # e.g. the grpc exporter refusing a certificate it cannot read
        raise ConfigurationError(f"OTEL_LOGS_EXPORTER: building the exporter failed: {error}") from error
    delivery = Delivery(
        [ExporterDestination(exporter) for exporter in exporters],
        accounting,
        max_queue_records=int(_variable(environ, "OTEL_BLRP_MAX_QUEUE_SIZE") or DEFAULT_MAX_QUEUE_RECORDS),
        max_batch_records=int(_variable(environ, "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE") or DEFAULT_MAX_BATCH_RECORDS),
        schedule_delay_seconds=int(_variable(environ, "OTEL_BLRP_SCHEDULE_DELAY") or 1_000) / 1000,
        export_timeout_seconds=_otlp_export_timeout_seconds(environ),
    )
    provider.add_log_record_processor(delivery)
    return Emitter(provider, source="environment", delivery=delivery, accounting=accounting, owns_provider=True)
