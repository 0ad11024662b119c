"""The emitter's one-cleaning path gives the same records as the SDK's own ``Logger.emit``, row by row.

``mcp_otel.emitter`` hands an exact SDK ``Logger`` the conversion walk's attributes without the
SDK cleaning them again. These tests emit every message shape twice, through that path and through
``Logger.emit``'s own, and compare what an exporter gets and what it encodes to; and they check that
every case where the SDK would change something takes the SDK's path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry._logs import NoOpLogger
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.sdk._logs import Logger as SDKLogger
from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

import mcp_otel.emitter
from bench.bench_handler import SHAPES
from mcp_otel import OTelLogHandler
from mcp_otel.emitter import clean_attribute_limits
from tests.support.accounting import assert_adds_up


def _loop() -> dict[str, Any]:
    loop: dict[str, Any] = {"name": "loop"}
    loop["self"] = loop
    return loop


# (row id, level, logger, data): what real and hostile servers send.
MESSAGE_ROWS: list[tuple[str, Any, Any, Any]] = [
    *((f"bench {name}", "warning", "bench.server", shape(7)) for name, shape in SHAPES.items()),
    ("no extra", "info", None, {"msg": "m", "extra": None}),
    ("every scalar type", "debug", "s", {"msg": "m", "extra": {"s": "x", "i": 2**63 - 1, "big": 2**70, "f": 1.5,
                                                               "nan": float("nan"), "b": True, "n": None, "y": b"\x00\xff"}}),
    ("non-string and empty keys", "info", "s", {"msg": "m", "extra": {1: "one", "": "dropped", (1, 2): "tuple"}}),
    ("nested lists and maps", "error", "s", {"msg": "m", "extra": {"a": [[1, [2, {"k": ("t", None)}]], {}], "e": []}}),
    ("non-ASCII", "info", "sérvér", {"msg": "ünïcode ✓", "extra": {"città": "Lisbõa", "emoji": ["😀"]}}),
    ("secrets redacted", "info", "s", {"msg": "Authorization: Bearer abcdefgh12345678", "extra": {"password": "p", "h": [["x-api-key", "k"]]}}),
    ("reserved key renamed", "info", "s", {"msg": "m", "extra": {"mcp_otel.truncated": False, "mcp.server.name": "spoof"}}),
    ("112 keys, cut to the cap", "info", "s", {"msg": "m", "extra": {f"k{i}": i for i in range(200)}}),
    ("plain string", "notice", "s", "hello"),
    ("list as data", "info", "s", [1, "two", {"three": 3}]),
    ("map as data", "info", "s", {"a": 1, "b": [2]}),
    ("self reference", "info", "s", _loop()),
    ("wide list, cut by the budget", "info", "s", {"msg": "m", "extra": {"xs": list(range(300_000))}}),
    ("long scope name", "info", "x" * 400, "m"),
    ("unknown level", "loud", "s", "m"),
    ("level not a string", 5, 7, "m"),
]


@pytest.fixture
def two_paths(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """emit(message) -> (record by the one-cleaning path, record by the SDK's path)."""
    exporters = [InMemoryLogRecordExporter(), InMemoryLogRecordExporter()]
    providers = [LoggerProvider(resource=Resource({"service.name": "t"}), shutdown_on_exit=False) for _ in exporters]
    for provider, exporter in zip(providers, exporters, strict=True):
        provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    fast, sdk = (OTelLogHandler(provider, attributes={"app": "a", "tags": ["x", "y"]}) for provider in providers)

    def emit(message: dict[str, Any]) -> tuple[ReadableLogRecord, ReadableLogRecord]:
        fast.handle(message)
        with monkeypatch.context() as patched:
            patched.setattr(mcp_otel.emitter, "clean_attribute_limits", lambda logger: None)
            sdk.handle(message)
        (one,), (other,) = (exporter.get_finished_logs() for exporter in exporters)
        for exporter in exporters:
            exporter.clear()
        return one, other

    yield emit
    for handler in (fast, sdk):
        assert_adds_up(handler.stats())
    for provider in providers:
        provider.shutdown()


def _as_tuples(value: Any) -> Any:
    """The SDK cleans arrays into tuples; the walk's lists encode the same."""
    if isinstance(value, (list, tuple)):
        return tuple(_as_tuples(item) for item in value)
    if isinstance(value, dict):
        return {key: _as_tuples(item) for key, item in value.items()}
    return value


@pytest.mark.parametrize(("level", "logger", "data"), [row[1:] for row in MESSAGE_ROWS], ids=[row[0] for row in MESSAGE_ROWS])
def test_the_one_cleaning_path_gives_the_sdks_record(two_paths: Any, level: Any, logger: Any, data: Any) -> None:
    fast, sdk = two_paths({"level": level, "logger": logger, "data": data})
    for record in (fast, sdk):  # the only fields that differ by nature
        record.log_record.timestamp = record.log_record.observed_timestamp = 1
    assert _as_tuples(dict(fast.log_record.attributes or {})) == _as_tuples(dict(sdk.log_record.attributes or {}))
    assert fast.log_record.body == sdk.log_record.body
    assert (fast.log_record.severity_number, fast.log_record.severity_text) == (
        sdk.log_record.severity_number, sdk.log_record.severity_text
    )
    assert fast.instrumentation_scope == sdk.instrumentation_scope
    assert fast.dropped_attributes == sdk.dropped_attributes == 0
    assert encode_logs([fast]).SerializeToString() == encode_logs([sdk]).SerializeToString()


def test_the_one_cleaning_path_is_taken(two_paths: Any) -> None:
    # The walk's own lists reach the exporter; the SDK's cleaning would have made them tuples.
    fast, sdk = two_paths({"level": "info", "logger": "s", "data": {"msg": "m", "extra": {"tags": ["a", "b"]}}})
    assert type((fast.log_record.attributes or {})["tags"]) is list
    assert type((sdk.log_record.attributes or {})["tags"]) is tuple


def test_a_record_over_the_sdks_attribute_count_limit_takes_the_sdks_path() -> None:
    # The SDK drops the oldest attributes past its count limit and counts them: the walk does not.
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(log_record_limits=LogRecordLimits(max_log_record_attributes=3), shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    OTelLogHandler(provider).handle({"level": "info", "data": {"msg": "m", "extra": {f"k{i}": i for i in range(5)}}})
    (record,) = exporter.get_finished_logs()
    assert dict(record.log_record.attributes or {}) == {"k2": 2, "k3": 3, "k4": 4}
    assert record.dropped_attributes == 2


class _LoggerSubclass(SDKLogger):
    pass


def _as_subclass(logger: Any) -> Any:
    logger.__class__ = _LoggerSubclass
    return logger


def _sdk_logger(limits: LogRecordLimits | None = None) -> Any:
    return LoggerProvider(log_record_limits=limits, shutdown_on_exit=False).get_logger("t")


# (row id, logger, whether attributes go in uncleaned)
LIMIT_ROWS = [
    ("SDK logger, default limits", lambda: _sdk_logger(), True),
    ("no count limit", lambda: _sdk_logger(LogRecordLimits(max_log_record_attributes=LogRecordLimits.UNSET)), True),
    ("a value-length limit", lambda: _sdk_logger(LogRecordLimits(max_log_record_attribute_length=8)), False),
    ("a global value-length limit", lambda: _sdk_logger(LogRecordLimits(max_attribute_length=8)), False),
    ("a subclass of the SDK's Logger", lambda: _as_subclass(_sdk_logger()), False),
    ("not an SDK logger", lambda: NoOpLogger("t"), False),
]


@pytest.mark.parametrize(("make", "uncleaned"), [row[1:] for row in LIMIT_ROWS], ids=[row[0] for row in LIMIT_ROWS])
def test_attributes_go_in_uncleaned_only_where_the_sdk_would_change_nothing(make: Any, uncleaned: bool) -> None:
    assert (clean_attribute_limits(make()) is not None) is uncleaned


def test_a_value_length_limit_is_applied_by_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4")
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    OTelLogHandler(provider).handle({"level": "info", "data": {"msg": "m", "extra": {"city": "Lisbon", "xs": ["abcdef"]}}})
    (record,) = exporter.get_finished_logs()
    assert _as_tuples(dict(record.log_record.attributes or {})) == {"city": "Lisb", "xs": ("abcd",)}
