"""``OTelLogHandler``'s own contract, row by row: attribute precedence, scopes, min_level, counting, immutability."""

from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType, SimpleNamespace
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from mcp_otel import ConnectionLog, OTelLogHandler
from tests.support.accounting import NO_DROPS, assert_adds_up
from tests.support.spec import MCP_LEVELS, SEVERITY_NUMBER_BY_MCP_LEVEL


@pytest.fixture
def exported() -> Iterator[tuple[LoggerProvider, InMemoryLogRecordExporter]]:
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


def _one(exporter: InMemoryLogRecordExporter) -> ReadableLogRecord:
    (record,) = exporter.get_finished_logs()
    return record


def _message(extra: dict[str, Any] | None = None, *, level: str = "info", logger: str | None = "test") -> SimpleNamespace:
    return SimpleNamespace(level=level, logger=logger, data={"msg": "m", "extra": extra})


# (row id, the handler's attributes=, bind(), what the server reported, the server's extra, expected value of "k")
PRECEDENCE_ROWS = [
    ("extra alone", None, None, None, "extra", "extra"),
    ("reported wins over extra", None, None, "reported", "extra", "reported"),
    ("attributes= wins over reported", "given", None, "reported", "extra", "given"),
    ("bind wins over attributes=", "given", "bound", "reported", "extra", "bound"),
    ("bind wins over reported", None, "bound", "reported", None, "bound"),
]


@pytest.mark.parametrize(
    ("given", "bound", "reported", "extra", "expected"), [row[1:] for row in PRECEDENCE_ROWS], ids=[row[0] for row in PRECEDENCE_ROWS]
)
def test_attribute_precedence(
    exported: tuple[LoggerProvider, InMemoryLogRecordExporter],
    given: str | None, bound: str | None, reported: str | None, extra: str | None, expected: str,
) -> None:
    provider, exporter = exported
    handler = OTelLogHandler(provider, attributes={"k": given} if given else None)
    if bound:
        handler = handler.bind(k=bound)
    connection = ConnectionLog(handler)
    if reported:
        connection.learn({"k": reported})
    connection.handle(_message({"k": extra} if extra else None))
    assert _one(exporter).log_record.attributes["k"] == expected  # type: ignore[index]


def test_bind_returns_a_new_handler_and_leaves_the_original_unchanged(
    exported: tuple[LoggerProvider, InMemoryLogRecordExporter],
) -> None:
    provider, _ = exported
    handler = OTelLogHandler(provider, attributes={"a": 1})
    bound = handler.bind(b=2)
    assert bound is not handler
    assert dict(handler.attributes) == {"a": 1}
    assert dict(bound.attributes) == {"a": 1, "b": 2}
    assert bound.logger_provider is handler.logger_provider
    bound.handle(_message())
    assert handler.stats()["received"] == 1  # one pipeline, one set of counters


def test_more_than_256_logger_names_use_the_default_scope_and_an_attribute(
    exported: tuple[LoggerProvider, InMemoryLogRecordExporter],
) -> None:
    provider, exporter = exported
    handler = OTelLogHandler(provider)
    for index in range(257):
        handler.handle(_message(logger=f"logger-{index}"))
    records = exporter.get_finished_logs()
    assert [record.instrumentation_scope.name for record in records[:256]] == [f"logger-{index}" for index in range(256)]
    assert all("mcp_otel.logger" not in record.log_record.attributes for record in records[:256])  # type: ignore[operator]
    last = records[256]
    assert last.instrumentation_scope.name == "mcp_otel"
    assert last.log_record.attributes["mcp_otel.logger"] == "logger-256"  # type: ignore[index]


@pytest.mark.parametrize("min_level", MCP_LEVELS, ids=[f"min_level={level}" for level in MCP_LEVELS])
def test_min_level_keeps_that_level_and_above(exported: tuple[LoggerProvider, InMemoryLogRecordExporter], min_level: Any) -> None:
    provider, exporter = exported
    handler = OTelLogHandler(provider, min_level=min_level)
    for level in [*MCP_LEVELS, "verbose"]:
        handler.handle(_message(level=level))
    kept = [record.log_record.severity_text for record in exporter.get_finished_logs()]
    threshold = SEVERITY_NUMBER_BY_MCP_LEVEL[min_level]
    assert kept == [level for level in MCP_LEVELS if SEVERITY_NUMBER_BY_MCP_LEVEL[level] >= threshold] + ["verbose"]
    stats = handler.stats()
    assert stats["filtered"] == 9 - len(kept)
    assert_adds_up(stats, 9)


def test_a_message_after_shutdown_is_counted_as_dropped(exported: tuple[LoggerProvider, InMemoryLogRecordExporter]) -> None:
    provider, exporter = exported
    handler = OTelLogHandler(provider)
    handler.handle(_message())
    handler.shutdown()
    handler.handle(_message())
    stats = handler.stats()
    assert len(exporter.get_finished_logs()) == 1
    assert stats["dropped"] == {**NO_DROPS, "shutdown": 1}
    assert_adds_up(stats, 2)


def test_logs_exporter_none_counts_every_message_as_filtered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_LOGS_EXPORTER", "none")
    with OTelLogHandler() as handler:
        for _ in range(5):
            handler.handle(_message())
        stats = handler.stats()
    assert (stats["filtered"], stats["queued"], stats["exported"], stats["dropped"]) == (5, 0, 0, NO_DROPS)
    assert_adds_up(stats, 5)


def test_a_disabled_handler_does_nothing_and_reports_zeros(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    handler = OTelLogHandler()
    handler.handle(_message())
    assert handler.logger_provider is None
    assert handler.stats() == {"received": 0, "filtered": 0, "exported": 0, "queued": 0, "dropped": NO_DROPS,
                               "unattributed": 0}


@pytest.mark.anyio
async def test_awaiting_the_handler_is_handle(exported: tuple[LoggerProvider, InMemoryLogRecordExporter]) -> None:
    provider, exporter = exported
    handler = OTelLogHandler(provider)
    assert await handler(_message()) is None
    assert _one(exporter).log_record.body == "m"


class _DictSubclass(dict):  # type: ignore[type-arg]
    pass


def _as_mcp_params(fields: dict[str, Any]) -> Any:
    from mcp.types import LoggingMessageNotificationParams

    return LoggingMessageNotificationParams(**fields)


# (row id, how the fields arrive): every form handle() accepts reads the same message.
PARAMS_FORMS = [
    ("mcp's LoggingMessageNotificationParams", _as_mcp_params),
    ("raw JSON-RPC params (a dict)", dict),
    ("a dict subclass", _DictSubclass),
    ("a read-only mapping", lambda fields: MappingProxyType(dict(fields))),
    ("an object with attributes", lambda fields: SimpleNamespace(**fields)),
]


@pytest.mark.parametrize("form", [row[1] for row in PARAMS_FORMS], ids=[row[0] for row in PARAMS_FORMS])
def test_every_form_of_params_is_read_alike(exported: tuple[LoggerProvider, InMemoryLogRecordExporter], form: Any) -> None:
    provider, exporter = exported
    OTelLogHandler(provider).handle(form({"level": "error", "logger": "weather", "data": {"msg": "m", "extra": {"k": 1}}}))
    record = _one(exporter)
    assert (record.log_record.body, record.log_record.severity_text, dict(record.log_record.attributes or {})) == (
        "m", "error", {"k": 1}
    )
    assert record.instrumentation_scope is not None and record.instrumentation_scope.name == "weather"


def test_params_without_the_fields_make_an_empty_record(exported: tuple[LoggerProvider, InMemoryLogRecordExporter]) -> None:
    provider, exporter = exported
    handler = OTelLogHandler(provider)
    handler.handle(object())
    record = _one(exporter)
    assert (record.log_record.body, record.log_record.severity_text) == (None, None)
    assert_adds_up(handler.stats(), received=1)
    assert handler.stats()["exported"] == 1
