"""stderr_parsing: the contract in its module docstring, row by row.

* the corpus: real captures under tests/data/stderr, each against its hand-written expected records;
* single lines, one row per format, and the level-position near-misses;
* multi-line joining, the quiet period and close(), blank lines and invalid UTF-8;
* caps: huge lines, a 100,000-line traceback, huge and deep JSON, memory held while flooding;
* Hypothesis: arbitrary bytes split anywhere give the records of the unsplit stream, and never raise.
"""

from __future__ import annotations

import json
import tracemalloc
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_otel import stderr_parsing
from mcp_otel.stderr_parsing import StderrEntry, StderrParser

CORPUS = Path(__file__).parent / "data" / "stderr"
CORPUS_NAMES = sorted(path.name.removesuffix(".stderr") for path in CORPUS.glob("*.stderr"))


def parse(data: bytes, **options: Any) -> list[StderrEntry]:
    parser = StderrParser(**options)
    return parser.feed(data, 0.0) + parser.close()


def parse_one(data: bytes, **options: Any) -> StderrEntry:
    records = parse(data, **options)
    assert len(records) == 1, records
    return records[0]


def local_ns(text: str) -> int:
    moment = datetime.fromisoformat(text)
    return round(moment.replace(microsecond=0).timestamp()) * 10**9 + moment.microsecond * 1000


def utc_ns(text: str) -> int:
    """An RFC 3339 time with Z and up to 9 fraction digits, in nanoseconds (typed out, not the parser's)."""
    assert text.endswith("Z")
    whole, _, fraction = text[:-1].partition(".")
    moment = datetime.fromisoformat(whole).replace(tzinfo=timezone.utc)
    return int(moment.timestamp()) * 10**9 + int(fraction.ljust(9, "0") or 0)


def expected_timestamp(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):
        return utc_ns(value)
    assert isinstance(value, dict)
    if "local" in value:
        return local_ns(value["local"])
    return int(value["ns"])


# ---------------------------------------------------------------------------------------------
# The corpus


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_corpus(name: str) -> None:
    data = (CORPUS / f"{name}.stderr").read_bytes()
    expected = json.loads((CORPUS / f"{name}.expected.json").read_text())["records"]
    records = parse(data)
    assert [record.body for record in records] == [item["body"] for item in expected]
    for record, item in zip(records, expected):
        assert record.severity_number == item["severity_number"], record
        assert record.severity_text == item["severity_text"], record
        assert record.logger == item["logger"], record
        assert record.timestamp_ns == expected_timestamp(item["timestamp"]), record
        assert sorted(record.attributes) == item["attribute_keys"], record
        for key, value in item["attributes"].items():
            assert record.attributes[key] == value, (key, record)
        assert record.truncated is False
        if "exception_type" in item:
            assert record.attributes["exception.type"] == item["exception_type"]
            assert record.attributes["exception.message"] == item["exception_message"]
        stacktrace = str(record.attributes.get("exception.stacktrace", ""))
        if "stacktrace_first_line" in item:
            assert stacktrace.splitlines()[0] == item["stacktrace_first_line"]
        if "stacktrace_first_line_contains" in item:
            assert item["stacktrace_first_line_contains"] in stacktrace.splitlines()[0]
        if "stacktrace_last_line" in item:
            assert stacktrace.splitlines()[-1] == item["stacktrace_last_line"]


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_corpus_split_into_small_chunks_gives_the_same_records(name: str) -> None:
    data = (CORPUS / f"{name}.stderr").read_bytes()
    parser = StderrParser()
    records: list[StderrEntry] = []
    for start in range(0, len(data), 7):
        records += parser.feed(data[start : start + 7], 0.0)
    assert records + parser.close() == parse(data)


def test_every_capture_has_expected_records() -> None:
    assert CORPUS_NAMES and all((CORPUS / f"{name}.expected.json").exists() for name in CORPUS_NAMES)
