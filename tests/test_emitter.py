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
from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits, LogRecordProcessor, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource

import mcp_otel.emitter
from bench.bench_handler import SHAPES
from mcp_otel import OTelLogHandler
from mcp_otel.emitter import clean_attribute_limits
from mcp_otel.stderr_parsing import StderrEntry
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
# Lines read from standard error: the same walk over their fields, then the handler's own keys.
STDERR_ROWS: list[tuple[str, StderrEntry]] = [
    ("a plain line", StderrEntry("started", 9, "INFO", None, None, {}, False)),
    ("a JSON line with fields", StderrEntry("done", 13, "WARNING", 10**18, "app.db", {"ms": 4, "rows": [1, {"id": "x"}],
                                                                                      "password": "p"}, False)),
    ("a cut line", StderrEntry("x" * 100, 17, "ERROR", None, "app", {"token": "t", "mcp_otel.truncated": 0}, True)),
]


class _CountingProcessor(LogRecordProcessor):
    """Changes a nested attribute in place, as a processor may: each record must hold its own."""

    def on_emit(self, log_record: Any) -> None:
        meta = (log_record.log_record.attributes or {}).get("meta")
        if isinstance(meta, dict):
            meta["seen"] = meta.get("seen", 0) + 1

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


@pytest.fixture
def two_paths(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """emit(message) -> (record by the one-cleaning path, record by the SDK's path).

    The handlers are bound with nested attributes, and a processor changes one of them in place.
    A message given as a StderrEntry is emitted as a line read from standard error.
    """
    exporters = [InMemoryLogRecordExporter(), InMemoryLogRecordExporter()]
    providers = [LoggerProvider(resource=Resource({"service.name": "t"}), shutdown_on_exit=False) for _ in exporters]
    for provider, exporter in zip(providers, exporters, strict=True):
        provider.add_log_record_processor(_CountingProcessor())
        provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    attributes = {"app": "a", "tags": ["x", "y"], "meta": {"build": [1, 2]}}
    fast, sdk = (OTelLogHandler(provider, attributes=attributes) for provider in providers)

    def handle(handler: OTelLogHandler, message: Any) -> None:
        if isinstance(message, StderrEntry):
            handler._handle_entry(message, 5)
        else:
            handler.handle(message)

    def emit(message: Any) -> tuple[ReadableLogRecord, ReadableLogRecord]:
        handle(fast, message)
        with monkeypatch.context() as patched:
            patched.setattr(mcp_otel.emitter, "clean_attribute_limits", lambda logger: None)
            handle(sdk, message)
        (one,), (other,) = (exporter.get_finished_logs() for exporter in exporters)
        for exporter in exporters:
            exporter.clear()
        return one, other

    yield emit
    for handler in (fast, sdk):
        assert_adds_up(handler.stats())
        assert handler.attributes == attributes  # the processor changed the records' copies only
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


@pytest.mark.parametrize("entry", [row[1] for row in STDERR_ROWS], ids=[row[0] for row in STDERR_ROWS])
def test_a_line_from_standard_error_gets_the_sdks_record(two_paths: Any, entry: StderrEntry) -> None:
    fast, sdk = two_paths(entry)
    assert _as_tuples(dict(fast.log_record.attributes or {})) == _as_tuples(dict(sdk.log_record.attributes or {}))
    assert (fast.log_record.body, fast.log_record.timestamp) == (sdk.log_record.body, sdk.log_record.timestamp)
    assert encode_logs([fast]).SerializeToString() == encode_logs([sdk]).SerializeToString()


def test_each_record_holds_its_own_copy_of_the_handlers_nested_attributes(two_paths: Any) -> None:
    # A processor changes a bound map in place: on each path, every record sees only its own change
    # (and the fixture checks that the handler's attributes are unchanged).
    for _ in range(3):
        for record in two_paths({"level": "info", "data": "m"}):
            meta = (record.log_record.attributes or {})["meta"]
            assert (meta["seen"], list(meta["build"])) == (1, [1, 2])


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
