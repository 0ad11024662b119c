"""The conversion contract, row by row (mcp_otel.conversion and the README table)."""

from __future__ import annotations

import dataclasses
import enum
import math
from collections import OrderedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry._logs import SeverityNumber

from mcp_otel.conversion import DEFAULT_LIMITS, NESTING_LIMIT_MARKER, ConversionLimits, convert_message, to_otel_value
from mcp_otel.levels import severity_for_level
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


# The fast path (flat extra under known keys) must give exactly what the general walk gives; an
# OrderedDict has the same items but always takes the general walk.
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
extras = st.dictionaries(st.text(max_size=70), scalars | st.lists(scalars, max_size=3), max_size=12)


@settings(max_examples=400, deadline=None)
@given(message=st.text(max_size=60), extra=extras, record_bytes=st.integers(min_value=1, max_value=2_000))
def test_fast_path_equals_the_general_walk(message: str, extra: dict[str, object], record_bytes: int) -> None:
    limits = ConversionLimits(max_string_length=50, max_attributes=8, max_record_bytes=record_bytes)
    fast = convert_message("info", {"msg": message, "extra": extra}, limits)
    general = convert_message("info", {"msg": message, "extra": OrderedDict(extra)}, limits)
    assert (fast.body, fast.truncated, fast.estimated_size) == (general.body, general.truncated, general.estimated_size)
    assert repr(fast.attributes) == repr(general.attributes)  # repr: NaN != NaN, but both became "NaN"


def test_redacted_keys_match_in_any_case_and_limits_copies_share_no_memo() -> None:
    limits = ConversionLimits(redacted_keys=frozenset({"X-Api-Key"}))
    converted = convert_message("info", {"msg": "m", "extra": {"x-api-key": "k", "City": "Lisbon"}}, limits)
    assert converted.attributes == {"x-api-key": "[REDACTED]", "City": "Lisbon"}
    stricter = dataclasses.replace(limits, redacted_keys=frozenset({"city"}))
    assert convert_message("info", {"msg": "m", "extra": {"City": "Lisbon"}}, stricter).attributes == {"City": "[REDACTED]"}
