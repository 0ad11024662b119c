"""The conversion contract, row by row (mcp_otel.conversion and the README table)."""

from __future__ import annotations

import enum
import math
from typing import Any

import hypothesis
import pytest
from hypothesis import strategies as st
from opentelemetry._logs import SeverityNumber

from mcp_otel import conversion
from mcp_otel.conversion import (
    DEFAULT_LIMITS,
    ESTIMATED_COST,
    MAX_REDACTION_CANDIDATES,
    NESTING_LIMIT_MARKER,
    REDACTION_MARKER,
    SIZE_LIMIT_MARKER,
    ConversionLimits,
    convert_message,
    to_otel_value,
)
from mcp_otel.levels import severity_for_level
from mcp_otel.redaction import NO_REDACTION, RedactionRules
from tests import test_redaction
from tests.support.spec import SEVERITY_ROWS

DEFAULT_MAX_DEPTH = DEFAULT_LIMITS.max_depth

SPEC_SEVERITY_ROWS = SEVERITY_ROWS


@pytest.mark.parametrize(("level", "severity_number"), SPEC_SEVERITY_ROWS, ids=[row[0] for row in SPEC_SEVERITY_ROWS])
def test_level_maps_to_appendix_b_severity(level: str, severity_number: int) -> None:
    converted = convert_message(level, "text")
    assert converted.severity_number.value == severity_number
    assert converted.severity_text == level


@pytest.mark.parametrize(
    ("level", "severity_text"),
    [
        ("verbose", "verbose"),
        ("WARNING", "WARNING"),
        ("", ""),
        (None, None),
        (42, "42"),
    ],
    ids=["unknown word", "upper case", "empty", "absent", "not a string"],
)
def test_level_outside_the_eight_is_unspecified_and_text_kept(level: object, severity_text: str | None) -> None:
    converted = convert_message(level, "text")
    assert converted.severity_number is SeverityNumber.UNSPECIFIED
    assert converted.severity_text == severity_text
    assert severity_for_level(level) is SeverityNumber.UNSPECIFIED


DATA_ROWS = [
    # id, data, expected body, expected attributes
    ("fastmcp msg+extra", {"msg": "hello", "extra": {"user": "ana", "n": 3}}, "hello", {"user": "ana", "n": 3}),
    ("fastmcp extra null", {"msg": "hello", "extra": None}, "hello", {}),
    (
        "fastmcp nested extra stays structured",
        {"msg": "m", "extra": {"req": {"path": "/x", "tags": ["a", "b"]}, "ids": [1, 2]}},
        "m",
        {"req": {"path": "/x", "tags": ["a", "b"]}, "ids": [1, 2]},
    ),
    ("string", "plain text", "plain text", {}),
    ("object with other keys", {"msg": "m", "extra": {}, "more": 1}, {"msg": "m", "extra": {}, "more": 1}, {}),
    ("msg not a string", {"msg": 5, "extra": None}, {"msg": 5, "extra": None}, {}),
    ("extra not a mapping", {"msg": "m", "extra": [1]}, {"msg": "m", "extra": [1]}, {}),
    ("msg only", {"msg": "m"}, {"msg": "m"}, {}),
    ("object", {"a": {"b": [1, "two", None]}}, {"a": {"b": [1, "two", None]}}, {}),
    ("array", [1, "x", {"k": True}], [1, "x", {"k": True}], {}),
    ("integer", 7, 7, {}),
    ("float", 2.5, 2.5, {}),
    ("bool", False, False, {}),
    ("null", None, None, {}),
]


@pytest.mark.parametrize(("data", "body", "attributes"), [row[1:] for row in DATA_ROWS], ids=[row[0] for row in DATA_ROWS])
def test_data_to_body_and_attributes(data: object, body: object, attributes: dict[str, object]) -> None:
    converted = convert_message("info", data)
    assert converted.body == body
    assert type(converted.body) is type(body)
    assert converted.attributes == attributes
    assert converted.truncated is False


class Color(enum.IntEnum):
    RED = 1


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")


ODD_VALUE_ROWS = [
    ("int64 max kept", 2**63 - 1, 2**63 - 1),
    ("int64 min kept", -(2**63), -(2**63)),
    ("above int64 -> decimal string", 2**63, str(2**63)),
    ("below int64 -> decimal string", -(2**63) - 1, str(-(2**63) - 1)),
    ("NaN", math.nan, "NaN"),
    ("+Infinity", math.inf, "Infinity"),
    ("-Infinity", -math.inf, "-Infinity"),
    ("bytes kept", b"\x00\xff", b"\x00\xff"),
    ("bytearray -> bytes", bytearray(b"ab"), b"ab"),
    ("non-string keys -> str", {1: "a", None: "b", 2.5: "c"}, {"1": "a", "None": "b", "2.5": "c"}),
    ("empty key dropped", {"": 1, "k": 2}, {"k": 2}),
    ("tuple -> array", (1, 2), [1, 2]),
    ("set -> str", {3}, "{3}"),
    ("int subclass -> int", Color.RED, 1),
    ("integer past the digit limit -> marker", 10**5000, f"<integer of {(10**5000).bit_length()} bits>"),
    ("unprintable object", Unprintable(), "<unprintable Unprintable>"),
    ("nested odd values", {"a": [math.nan, 2**70]}, {"a": ["NaN", str(2**70)]}),
]


@pytest.mark.parametrize(("value", "expected"), [row[1:] for row in ODD_VALUE_ROWS], ids=[row[0] for row in ODD_VALUE_ROWS])
def test_values_otel_cannot_carry_are_converted(value: object, expected: object) -> None:
    converted = to_otel_value(value)
    assert converted == expected
    assert type(converted) is type(expected)


def _nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = {"d": value}
    return value


@pytest.mark.parametrize(
    ("depth", "truncated"),
    [(DEFAULT_MAX_DEPTH, False), (DEFAULT_MAX_DEPTH + 1, True), (5_000, True)],
    ids=["at the limit", "one past the limit", "far past the limit"],
)
def test_deep_nesting_is_cut_and_marked(depth: int, truncated: bool) -> None:
    converted = convert_message("info", _nested(depth))
    assert converted.truncated is truncated
    leaf = converted.body
    levels = 0
    while isinstance(leaf, dict):
        leaf = leaf["d"]
        levels += 1
    assert leaf == (NESTING_LIMIT_MARKER if truncated else "leaf")
    assert levels == min(depth, DEFAULT_MAX_DEPTH)


def test_self_referencing_structure_terminates() -> None:
    loop: dict[str, object] = {}
    loop["self"] = loop
    converted = convert_message("info", {"msg": "m", "extra": loop})
    assert converted.truncated is True


def test_deep_nesting_inside_extra_is_marked() -> None:
    converted = convert_message("info", {"msg": "m", "extra": {"deep": _nested(DEFAULT_MAX_DEPTH + 3)}})
    assert converted.body == "m"
    assert converted.truncated is True


SMALL = ConversionLimits(max_string_length=10, max_attributes=3, max_depth=2, max_record_bytes=2_000)

# (row id, data, expected body, expected attributes, truncated) under SMALL: the caps table.
CAP_ROWS: list[tuple[str, Any, Any, dict[str, Any], bool]] = [
    ("body string cut to max_string_length", "x" * 50, "x" * 10, {}, True),
    ("extra string cut", {"msg": "m", "extra": {"k": "y" * 50}}, "m", {"k": "y" * 10}, True),
    ("extra key cut", {"msg": "m", "extra": {"k" * 50: 1}}, "m", {"k" * 10: 1}, True),
    ("extra keeps its first max_attributes keys", {"msg": "m", "extra": {f"k{i}": i for i in range(5)}}, "m",
     {"k0": 0, "k1": 1, "k2": 2}, True),
    ("nesting deeper than max_depth", {"a": {"b": {"c": 1}}}, {"a": {"b": NESTING_LIMIT_MARKER}}, {}, True),
    ("within every cap", {"msg": "ok", "extra": {"a": 1}}, "ok", {"a": 1}, False),
]


@pytest.mark.parametrize(("data", "body", "attributes", "truncated"), [row[1:] for row in CAP_ROWS], ids=[row[0] for row in CAP_ROWS])
def test_caps(data: Any, body: Any, attributes: dict[str, Any], truncated: bool) -> None:
    converted = convert_message("info", data, SMALL)
    assert converted.body == body
    assert converted.attributes == attributes
    assert converted.truncated is truncated


def test_budget_spent_in_an_array_closes_it_with_one_marker() -> None:
    converted = convert_message("info", ["123456789"] * 1_000, SMALL)
    body = converted.body
    assert isinstance(body, list)
    assert 1 < len(body) < 100
    assert body[-1] == SIZE_LIMIT_MARKER and SIZE_LIMIT_MARKER not in body[:-1]
    assert converted.truncated is True


def test_budget_spent_in_a_map_closes_it_with_one_marker_counting_what_was_left_out() -> None:
    converted = convert_message("info", {f"k{index}": index for index in range(1_000)}, SMALL)
    body = converted.body
    assert isinstance(body, dict)
    left_out = body.pop(SIZE_LIMIT_MARKER)
    assert body == {f"k{index}": index for index in range(len(body))}
    assert left_out == 1_000 - len(body)


def test_the_estimate_never_passes_the_budget_by_more_than_one_piece() -> None:
    for data in (list(range(10**5)), ["é" * 9] * 10**4, {str(i): [i] for i in range(10**4)}, "w" * 10**6):
        converted = convert_message("info", data, SMALL)
        assert converted.truncated is True
        assert converted.estimated_size - ESTIMATED_COST["record"] <= SMALL.max_record_bytes + 200


# Secrets (the rules themselves are tests/test_redaction.py's): where the walk applies them.
REDACTION_ROWS: list[tuple[str, Any, Any, dict[str, Any]]] = [
    ("secret key in extra", {"msg": "m", "extra": {"X-Api-Key": "k", "city": "Lisbon"}}, "m",
     {"X-Api-Key": REDACTION_MARKER, "city": "Lisbon"}),
    ("secret key at any depth", {"msg": "m", "extra": {"auth": {"clientSecret": "s", "token_count": 3}}}, "m",
     {"auth": REDACTION_MARKER}),
    ("nested non-secret parent", {"msg": "m", "extra": {"db": {"password": "p", "host": "h"}}}, "m",
     {"db": {"password": REDACTION_MARKER, "host": "h"}}),
    ("[name, value] pair", {"msg": "m", "extra": {"headers": [["Authorization", "Bearer abc123def456"], ["Accept", "x"]]}},
     "m", {"headers": [["Authorization", REDACTION_MARKER], ["Accept", "x"]]}),
    ("{name, value} pair", {"msg": "m", "extra": {"env": [{"name": "DB_PASSWORD", "value": "p"}]}}, "m",
     {"env": [{"name": "DB_PASSWORD", "value": REDACTION_MARKER}]}),
    ("secret in the body's text", "connecting with password=hunter2 to db", "connecting with password=[REDACTED] to db", {}),
    ("secret in a value's text", {"msg": "m", "extra": {"url": "postgres://app:s3cret@db/x"}}, "m",
     {"url": "postgres://app:[REDACTED]@db/x"}),
    ("look-alikes kept", {"msg": "max_tokens=512", "extra": {"input_tokens": 30, "author": "ana", "public_key": "pk"}},
     "max_tokens=512", {"input_tokens": 30, "author": "ana", "public_key": "pk"}),
]


@pytest.mark.parametrize(("data", "body", "attributes"), [row[1:] for row in REDACTION_ROWS], ids=[row[0] for row in REDACTION_ROWS])
def test_redaction_in_the_walk(data: Any, body: Any, attributes: dict[str, Any]) -> None:
    converted = convert_message("info", data)
    assert (converted.body, converted.attributes, converted.truncated) == (body, attributes, False)


def test_redaction_rules_are_configurable() -> None:
    limits = ConversionLimits(redaction=RedactionRules(extra_key_words=("city",)))
    assert convert_message("info", {"msg": "m", "extra": {"City": "Lisbon"}}, limits).attributes == {"City": REDACTION_MARKER}
    off = ConversionLimits(redaction=NO_REDACTION)
    assert convert_message("info", {"msg": "m", "extra": {"password": "p"}}, off).attributes == {"password": "p"}


RESERVED_ROWS = [
    ("mcp_otel.truncated", True),
    ("mcp_otel.logger", "spoof"),
    ("mcp.server.name", "evil"),
    ("jsonrpc.request.id", 7),
    ("gen_ai.tool.name", "delete_everything"),
]


@pytest.mark.parametrize(("key", "value"), RESERVED_ROWS, ids=[row[0] for row in RESERVED_ROWS])
def test_a_server_cannot_set_a_key_the_handler_sets(key: str, value: Any) -> None:
    converted = convert_message("info", {"msg": "m", "extra": {key: value, "city": "Lisbon"}})
    assert converted.attributes == {f"mcp_otel.extra.{key}": value, "city": "Lisbon"}
    assert converted.truncated is False


def test_every_key_the_handler_sets_has_a_dot() -> None:
    # The walk checks for a dot before it checks a key against the handler's own.
    from mcp_otel.attributes import LOGGER_NAME, RESERVED_KEYS, TRUNCATED

    assert all("." in key for key in (*RESERVED_KEYS, LOGGER_NAME, TRUNCATED, "mcp_otel."))


def _deep_list(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def _map_filled_then_a_huge_key() -> dict[str, Any]:
    # Entries up to just under the budget, then a key whose cost alone is larger than what is left.
    filled: dict[str, Any] = {f"k{i}": "v" * 1_000 for i in range(900)}
    filled["\U0001f600" * 32_000] = 1
    return filled


def _hostile_shapes() -> list[tuple[str, Any, Any]]:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    return [
        ("10^6 ints as data", "info", list(range(10**6))),
        ("10^6-entry map as data", "info", {str(i): i for i in range(10**6)}),
        ("10^6 ints in extra", "info", {"msg": "m", "extra": {"xs": list(range(10**6))}}),
        ("10^6-entry map in extra", "info", {"msg": "m", "extra": {"m": {str(i): i for i in range(10**6)}}}),
        ("10^5 long keys in extra", "info", {"msg": "m", "extra": {f"k{i}" * 40: i for i in range(10**5)}}),
        ("10^5 long keys as data", "info", {f"k{i}" * 40: i for i in range(10**5)}),
        ("self reference", "info", loop),
        ("10^5 deep", "info", _deep_list(10**5)),
        ("100 MB string", "info", "x" * 100_000_000),
        ("10^5 two-KB strings", "info", ["y" * 2_000] * 10**5),
        ("10^5 non-ASCII strings", "info", ["ü" * 300] * 10**5),
        # Redaction lengthens short secrets ("x" -> "[REDACTED]"): what comes out is what is charged.
        ("secret-dense text", "info", ["pwd=x " * 5_000] * 40),
        ("secret-dense extra", "info", {"msg": "pwd=x " * 5_000, "extra": {f"k{i}": "token: a " * 3_000 for i in range(60)}}),
        ("map filled, then a huge non-ASCII key", "info", _map_filled_then_a_huge_key()),
        ("huge non-ASCII level, full body", "\U0001f600" * 40_000, "z" * 2_000_000),
    ]


@pytest.mark.parametrize(("name", "level", "data"), _hostile_shapes(), ids=[row[0] for row in _hostile_shapes()])
def test_a_hostile_message_encodes_within_the_cap(name: str, level: Any, data: Any) -> None:
    # Timing is bench/bench_conversion.py's to show; here: the record is cut, marked and small, and
    # the estimate the queue's byte budget counts is not below what the record encodes to.
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

    converted = convert_message(level, data)
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    provider.get_logger("t").emit(
        body=converted.body, attributes=converted.attributes, severity_text=converted.severity_text
    )
    encoded = len(encode_logs(exporter.get_finished_logs()).SerializeToString())
    assert converted.truncated is True
    assert encoded <= DEFAULT_LIMITS.max_record_bytes + 4_096
    assert encoded <= converted.estimated_size
    assert converted.estimated_size <= DEFAULT_LIMITS.max_record_bytes + ESTIMATED_COST["record"] + 4_096


def test_past_the_redaction_allowance_a_text_that_could_hold_a_secret_is_replaced_whole() -> None:
    # More candidate secrets than one record may judge (MAX_REDACTION_CANDIDATES): the dense text,
    # and every later text that could hold a secret, become the marker; none of them leaks.
    dense = "api key: abc " * (MAX_REDACTION_CANDIDATES + 1)
    extra = {"dense": dense, "later": "password=hunter2 and more", "city": "Lisbon", "sentence": "all fine here"}
    converted = convert_message("info", {"msg": "m", "extra": extra})
    assert converted.attributes == {
        "dense": REDACTION_MARKER,
        "later": REDACTION_MARKER,
        "city": "Lisbon",  # letters and digits alone hold no secret: kept
        "sentence": REDACTION_MARKER,
    }
    assert converted.truncated is True


@pytest.mark.parametrize("judge_each", [False, True], ids=["texts judged at once", "text by text"])
def test_a_record_that_spends_the_allowance_exactly_keeps_its_other_texts(judge_each: bool) -> None:
    # 1,024 candidates (none a secret) are within the allowance: nothing is past it, so a later
    # text is judged as usual, whichever way the walk judges texts.
    data = {"msg": "key=1 " * MAX_REDACTION_CANDIDATES, "extra": {"a": "hello world", "b": "password=hunter2"}}
    converted = _judged_text_by_text("info", data) if judge_each else convert_message("info", data)
    assert converted.body == data["msg"]
    assert converted.attributes == {"a": "hello world", "b": REDACTION_MARKER}
    assert converted.truncated is True  # "b" was judged past the allowance: replaced whole, and marked
    data["extra"] = {"a": "hello world"}
    converted = _judged_text_by_text("info", data) if judge_each else convert_message("info", data)
    assert (converted.attributes, converted.truncated) == ({"a": "hello world"}, False)


def test_within_the_redaction_allowance_only_the_secret_parts_are_replaced() -> None:
    text = "api key: abc " * (MAX_REDACTION_CANDIDATES // 2)
    converted = convert_message("info", {"msg": "m", "extra": {"dense": text, "sentence": "all fine here"}})
    assert converted.attributes["dense"] == "api key: [REDACTED] " * (MAX_REDACTION_CANDIDATES // 2)
    assert converted.attributes["sentence"] == "all fine here"
    assert converted.truncated is False


# ---------------------------------------------------------------------------------------------
# A record's texts are judged at once (joined by newlines) and the walk done again redacting text
# by text only when that changes something: the result must be what judging each text gives.


def _judged_text_by_text(level: Any, data: Any, limits: ConversionLimits = DEFAULT_LIMITS) -> Any:
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(conversion, "_texts_may_hold_secret", lambda walk: True)
        return convert_message(level, data, limits)


def _records_holding(texts: list[str]) -> list[Any]:
    """The same texts as body and extra values, nested in lists and maps, and as data."""
    return [
        {"msg": texts[0], "extra": {f"k{index}": text for index, text in enumerate(texts[1:])}},
        {"msg": "m", "extra": {"xs": texts, "m": {"a": texts[-1], "n": [1, texts[0]]}}},
        texts,
        "\n".join(texts),
    ]


# Neighbours that read across the newline the texts are joined by, were it not a boundary.
NEIGHBOUR_ROWS = [
    ("separator, then the value", ["password=", "hunter2"]),
    ("key, then the separator", ["password", "=hunter2"]),
    ("scheme, then the token", ["Authorization: Bearer", "abcdefgh12345678"]),
    ("open quote", ['token: "abc', 'def"']),
    ("option, then its value", ["--password", "hunter2"]),
    ("URL split at the @", ["https://user:", "pw@host"]),
    ("private key block over three texts", ["-----BEGIN PRIVATE KEY-----", "MIIEvQ", "-----END PRIVATE KEY-----"]),
    ("a secret, then prose", ["password=hunter2", "north-west and light rain"]),
    ("prose with false candidates", ["north-west and light rain", "max_tokens=512", "author=ana"]),
    ("a token split", ["ghp_", "a" * 36]),
    *((f"secret: {text[:30]}", [f"before {index}", text, "after"]) for index, (_, text, _) in enumerate(test_redaction.TEXT_ROWS)),
    *((f"not secret: {why}", ["before", text, "after"]) for text, why in test_redaction.NOT_SECRET_TEXTS),
]


@pytest.mark.parametrize("texts", [row[1] for row in NEIGHBOUR_ROWS], ids=[row[0] for row in NEIGHBOUR_ROWS])
def test_judging_a_records_texts_at_once_gives_what_judging_each_gives(texts: list[str]) -> None:
    for data in _records_holding(texts):
        assert convert_message("info", data) == _judged_text_by_text("info", data)


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(st.lists(st.lists(test_redaction.ALPHABET, max_size=24).map("".join), min_size=1, max_size=6))
def test_any_texts_are_judged_at_once_as_each_would_be(texts: list[str]) -> None:
    for data in _records_holding(texts):
        assert convert_message("info", data) == _judged_text_by_text("info", data)


def test_texts_are_judged_one_by_one_with_extra_patterns() -> None:
    # An extra pattern may be anchored (^...$): joined texts would not answer for each.
    anchored = ConversionLimits(redaction=RedactionRules(extra_text_patterns=(r"^\d{4}$",)))
    assert anchored.redaction.judges_joined_texts is False
    assert convert_message("info", {"msg": "pin", "extra": {"a": "1234", "b": "x"}}, anchored).attributes == {
        "a": REDACTION_MARKER, "b": "x"
    }
    assert DEFAULT_LIMITS.redaction.judges_joined_texts is True
