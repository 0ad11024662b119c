"""The export pipeline a handler builds from the environment: provider -> delivery queue -> destinations.

``build_emitter()`` reads every variable once, strictly (``mcp_otel.settings``: a bad value is one
``ConfigurationError`` naming it), and assembles:

* a ``LoggerProvider`` with the resource from ``OTEL_SERVICE_NAME``/``OTEL_RESOURCE_ATTRIBUTES``
  and the attribute limits of ``OTEL_LOGRECORD_ATTRIBUTE_*``, passed explicitly (the SDK would
  otherwise read them again, and reads an empty one as "no limit");
* the delivery queue (``mcp_otel.delivery``) sized by ``OTEL_BLRP_*`` and the queue's byte budget;
* one destination per exporter ``OTEL_LOGS_EXPORTER`` names: an OTLP sender
  (``mcp_otel.senders``: one attempt per call, the queue retries) and any SDK exporter
  (``console``, entry points);
* with ``OTEL_LOGS_EXPORTER=none``: no queue at all (every message counts as filtered).

The SDK's own atexit hook is off (its shutdown can wait 30 s per processor for a dead collector);
the emitter registers a bounded one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits
from opentelemetry.sdk.resources import Resource

from mcp_otel.accounting import Accounting
from mcp_otel.delivery import Delivery, ExporterDestination
from mcp_otel.emitter import Emitter
from mcp_otel.senders import Sender, build_other_exporters, build_senders
from mcp_otel.settings import ExportSettings, read_export_settings

__all__ = ["build_emitter", "endpoint_is_configured", "sdk_disabled", "validate_environment"]

_DESTINATION_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_LOGS_EXPORTER")


def sdk_disabled(environ: Mapping[str, str] | None = None) -> bool:
    """``OTEL_SDK_DISABLED=true``: the specification's switch that turns every SDK into a no-op."""
    value = (os.environ if environ is None else environ).get("OTEL_SDK_DISABLED", "")
    return value.strip().lower() == "true"


def endpoint_is_configured(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the user pointed OTLP somewhere (or chose exporters) explicitly."""
    env = os.environ if environ is None else environ
    return any(env.get(name, "").strip() for name in _DESTINATION_VARIABLES)


def validate_environment() -> ExportSettings:
    """Every ``OTEL_*`` variable the export reads, checked; raises ``ConfigurationError`` naming a bad one."""
    return read_export_settings(os.environ)


def build_emitter() -> Emitter:
    """The pipeline from the environment (module docstring); raises ``ConfigurationError`` for a bad variable."""
    settings = read_export_settings(os.environ)
    accounting = Accounting()
    limits = LogRecordLimits(
        max_attributes=settings.attribute_count_limit,
        max_attribute_length=(
            LogRecordLimits.UNSET if settings.attribute_value_length_limit is None else settings.attribute_value_length_limit
        ),
    )
    provider = LoggerProvider(resource=Resource.create(), shutdown_on_exit=False, log_record_limits=limits)
    if not settings.exporters:
        return Emitter(provider, source="environment", accounting=accounting, owns_provider=True, exports_nothing=True)
    destinations: list[Sender | ExporterDestination] = [*build_senders(settings)]
    destinations += [ExporterDestination(exporter) for exporter in build_other_exporters(settings)]
    delivery = Delivery(
        destinations,
        accounting,
        max_queue_records=settings.max_queue_size,
        max_batch_records=settings.max_export_batch_size,
        schedule_delay_seconds=settings.schedule_delay_millis / 1000,
        export_timeout_seconds=settings.export_deadline_seconds,
    )
    provider.add_log_record_processor(delivery)
    return Emitter(provider, source="environment", delivery=delivery, accounting=accounting, owns_provider=True)
