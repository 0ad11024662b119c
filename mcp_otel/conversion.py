"""From one MCP log message to the fields of one OTel LogRecord: a pure function, no I/O.

The contract (the same table stands in the package docstring and the README):

* ``level`` -> SeverityNumber by the OTel logs data model, Appendix B, RFC 5424 column:
  debug 5, info 9, notice 10, warning 13, error 17, critical 18, alert 19, emergency 21.
  Any other level -> 0 (UNSPECIFIED). SeverityText is the level exactly as received.
* ``data`` shaped like FastMCP's ``{"msg": str, "extra": mapping or null}`` (those two keys,
  no others) -> Body is ``msg``; each key of ``extra`` becomes one attribute, nested
  mappings and lists kept structured.
* ``data`` a string -> Body is that string; any other ``data`` -> Body is the same value,
  structured (a map stays a map, a list an array).
* ``logger`` -> the instrumentation scope name (chosen by the handler, not here).

Values OTel cannot carry are converted by one rule, applied at every depth (``to_otel_value``):

* str, bool, bytes and None pass through (None is an empty AnyValue).
* int outside the signed 64-bit range (OTLP ``int_value``) -> its decimal string.
* float NaN / Infinity / -Infinity -> the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``
  (protobuf could carry them, but OTLP/JSON and most backends cannot).
* mapping -> a map with string keys: a non-string key becomes ``str(key)``; an empty key is
  dropped (OTel keys must be non-empty).
* list, tuple -> array; any other object -> ``str(object)``.
* nesting deeper than ``max_depth`` (default 32) -> the marker string ``"[nesting limit]"``;
  a record with such a cut carries the attribute ``mcp_otel.truncated = true``.

A message is untrusted input, so ``ConversionLimits`` also caps string length (32 KiB
characters), ``extra`` keys (128), and the record's estimated size (1 MiB), each cut marked the
same way; and values under secret-looking keys (``password``, ``token``, ``authorization``,
``api_key``, ``secret``, ... at any depth, any case) become ``"[REDACTED]"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from opentelemetry._logs import SeverityNumber
from opentelemetry.util.types import AnyValue

from mcp_otel.levels import SEVERITY_NUMBER_BY_LEVEL

__all__ = [
    "DEFAULT_LIMITS",
    "NESTING_LIMIT_MARKER",
    "REDACTION_MARKER",
    "SIZE_LIMIT_MARKER",
    "ConversionLimits",
    "ConvertedMessage",
    "convert_message",
    "to_otel_value",
]

NESTING_LIMIT_MARKER = "[nesting limit]"
SIZE_LIMIT_MARKER = "[record size limit]"
REDACTION_MARKER = "[REDACTED]"
DEFAULT_REDACTED_KEYS = frozenset(
    ("password", "passwd", "token", "access_token", "refresh_token", "authorization", "api_key", "apikey", "secret",
     "client_secret", "cookie", "set-cookie")
)


@dataclass(frozen=True, slots=True)
class ConversionLimits:
    """Caps on what one untrusted message may cost; a cut is marked with ``mcp_otel.truncated``.

    ``max_string_length``: characters kept of any string (body, attribute, nested value; keys too).
    ``max_attributes``: ``extra`` keys kept, in the order the server sent them.
    ``max_depth``: nesting levels of maps and arrays kept; deeper -> ``"[nesting limit]"``.
    ``max_record_bytes``: an estimate of the record's size (string and bytes lengths, 8 per
    number, key or container); values past it -> ``"[record size limit]"``.
    ``redacted_keys``: map keys, at any depth, whose values become ``"[REDACTED]"`` (matched
    without regard to case; redaction is not a truncation and is not marked).
    """

    max_string_length: int = 32_768
    max_attributes: int = 128
    max_depth: int = 32
    max_record_bytes: int = 1_048_576
    redacted_keys: frozenset[str] = DEFAULT_REDACTED_KEYS
    # Keys already checked (short, non-empty, not secret): the fast path's one C-level set test.
    # A memo, not configuration: each ConversionLimits (replace() included) starts empty.
    _checked_keys: set[str] = field(default_factory=set, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # Keys are compared in lower case, so the configured names are too.
        object.__setattr__(self, "redacted_keys", frozenset(key.lower() for key in self.redacted_keys))

    def keys_are_checked(self, mapping: Mapping[Any, Any]) -> bool:
        """Whether every key of ``mapping`` is a short, non-empty, non-secret string."""
        checked = self._checked_keys
        if checked.issuperset(mapping):
            return True
        if len(checked) >= _MAX_CHECKED_KEYS:
            return False
        for key in mapping:
            if (
                type(key) is not str
                or not 0 < len(key) <= min(_MAX_CHECKED_KEY_LENGTH, self.max_string_length)
                or key.lower() in self.redacted_keys
            ):
                return False
        checked.update(mapping)
        return True


_MAX_CHECKED_KEYS = 4_096  # a server choosing endless new keys only loses the fast path
_MAX_CHECKED_KEY_LENGTH = 64  # so the memo holds at most 256 KiB of keys
DEFAULT_LIMITS = ConversionLimits()

_SEVERITY_NUMBER_BY_LEVEL_GET = SEVERITY_NUMBER_BY_LEVEL.get
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_FASTMCP_KEYS = frozenset(("msg", "extra"))


class ConvertedMessage(NamedTuple):
    """The record fields that depend on the message alone (not on time, context or the handler).

    ``attributes`` may be the message's own ``extra`` dict (when nothing in it needed
    converting): merge it into a new dict rather than changing it.
    """

    severity_number: SeverityNumber
    severity_text: str | None
    body: AnyValue
    attributes: dict[str, AnyValue]
    truncated: bool = False
    estimated_size: int = 0


class _Walk:
    """One conversion's state: the limits, the size budget left, and whether anything was cut."""

    __slots__ = ("budget", "cut", "limits", "redacted_keys")

    def __init__(self, limits: ConversionLimits) -> None:
        self.limits = limits
        self.budget = limits.max_record_bytes
        self.cut = False
        self.redacted_keys = limits.redacted_keys

    def string(self, text: str) -> str:
        if len(text) > self.limits.max_string_length:
            self.cut = True
            text = text[: self.limits.max_string_length]
        self.budget -= len(text)
        return text

    def is_secret(self, key: str) -> bool:
        return bool(self.redacted_keys) and key.lower() in self.redacted_keys


def to_otel_value(value: Any, limits: ConversionLimits = DEFAULT_LIMITS) -> AnyValue:
    """Convert any Python value to one OTLP can carry, by the rule in the module docstring."""
    return _convert(value, limits.max_depth, _Walk(limits))


def _convert(value: Any, depth_left: int, walk: _Walk) -> AnyValue:
    if walk.budget <= 0:
        walk.cut = True
        return SIZE_LIMIT_MARKER
    value_type = type(value)
    if value_type is str:
        return walk.string(value)
    walk.budget -= 8
    if value_type is bool or value is None:
        return value  # type: ignore[no-any-return]
    if value_type is int:
        return value if _INT64_MIN <= value <= _INT64_MAX else walk.string(_int_text(value))
    if value_type is float:
        return value if math.isfinite(value) else _non_finite_name(value)
    if isinstance(value, (bytes, bytearray)):
        if len(value) > walk.limits.max_string_length:
            walk.cut = True
            value = value[: walk.limits.max_string_length]
        walk.budget -= len(value)
        return bytes(value)
    if isinstance(value, Mapping) or isinstance(value, (list, tuple)):
        if depth_left <= 0:
            walk.cut = True
            return NESTING_LIMIT_MARKER
        if isinstance(value, Mapping):
            return _convert_mapping(value, depth_left - 1, walk)
        return [_convert(item, depth_left - 1, walk) for item in value]
    if isinstance(value, int):  # int subclasses such as IntEnum
        return _convert(int(value), depth_left, walk)
    if isinstance(value, float):
        return _convert(float(value), depth_left, walk)
    if isinstance(value, str):
        return walk.string(str(value))
    return walk.string(_safe_str(value))


def _convert_mapping(
    mapping: Mapping[Any, Any], depth_left: int, walk: _Walk, max_keys: int | None = None
) -> dict[str, AnyValue]:
    converted: dict[str, AnyValue] = {}
    for key, item in mapping.items():
        if max_keys is not None and len(converted) >= max_keys:
            walk.cut = True
            break
        key_text = walk.string(key if type(key) is str else _safe_str(key))
        if not key_text:
            continue
        walk.budget -= 8
        converted[key_text] = REDACTION_MARKER if walk.is_secret(key_text) else _convert(item, depth_left, walk)
    return converted


def _int_text(number: int) -> str:
    try:
        return str(number)
    except ValueError:  # past Python's int-to-str digit limit (4,300 digits by default)
        return f"<integer of {number.bit_length()} bits>"


def _non_finite_name(number: float) -> str:
    if math.isnan(number):
        return "NaN"
    return "Infinity" if number > 0 else "-Infinity"


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except Exception:  # a hostile __str__ must not break the conversion
        return f"<unprintable {type(value).__name__}>"


def _is_fastmcp_shape(data: Any) -> bool:
    return (
        type(data) is dict
        and data.keys() == _FASTMCP_KEYS
        and type(data["msg"]) is str
        and (data["extra"] is None or isinstance(data["extra"], Mapping))
    )


def _flat_extra_size(extra: dict[Any, Any], limits: ConversionLimits, size: int) -> int:
    """The record's estimated size when nothing in ``extra`` needs converting, else -1.

    The common case (a few short scalar fields under known keys) then costs a set test and one
    pass of type checks instead of the general walk, and ``extra`` itself becomes the attributes.
    The size is counted exactly as the walk counts it (``size`` arrives holding the body's), and
    a record that would reach the size cap goes the general way, so both paths give the same
    record. Anything unusual returns -1.
    """
    if len(extra) > limits.max_attributes or not (
        limits._checked_keys.issuperset(extra) or limits.keys_are_checked(extra)
    ):
        return -1
    max_string_length = limits.max_string_length
    # Per entry the walk counts len(key) + 8, then 8 for a scalar or len(value) for a string.
    size += sum(map(len, extra)) + 16 * len(extra)
    for value in extra.values():
        value_type = type(value)
        if value_type is str:
            if len(value) > max_string_length:
                return -1
            size += len(value) - 8
        elif value_type is int:
            if not _INT64_MIN <= value <= _INT64_MAX:
                return -1
        elif value_type is float:
            if value - value != 0.0:  # NaN and the infinities
                return -1
        elif value_type is not bool and value is not None:
            return -1
    return size if size < limits.max_record_bytes else -1


def convert_message(level: Any, data: Any, limits: ConversionLimits = DEFAULT_LIMITS) -> ConvertedMessage:
    """Map an MCP message's ``level`` and ``data`` to severity, body and attributes.

    Never raises for any ``level`` or ``data``; see the module docstring for the rules.
    """
    severity_number = _SEVERITY_NUMBER_BY_LEVEL_GET(level, SeverityNumber.UNSPECIFIED) if type(level) is str else (
        SeverityNumber.UNSPECIFIED
    )
    if type(data) is dict and data.keys() == _FASTMCP_KEYS and type(level) is str:
        message, extra = data["msg"], data["extra"]
        if (
            type(message) is str
            and type(extra) is dict
            and len(message) <= limits.max_string_length
            and len(level) <= limits.max_string_length
        ):
            size = _flat_extra_size(extra, limits, len(message))
            if size >= 0:
                return ConvertedMessage(severity_number, level, message, extra, False, size)
    walk = _Walk(limits)
    attributes: dict[str, AnyValue]
    if _is_fastmcp_shape(data):
        body: AnyValue = walk.string(data["msg"])
        extra = data["extra"]
        attributes = _convert_mapping(extra, limits.max_depth, walk, limits.max_attributes) if extra else {}
    elif type(data) is str:
        body = walk.string(data)
        attributes = {}
    else:
        body = _convert(data, limits.max_depth, walk)
        attributes = {}
    if type(level) is str:
        severity_text: str | None = level[: limits.max_string_length]
    else:
        severity_text = None if level is None else _safe_str(level)[: limits.max_string_length]
    return ConvertedMessage(severity_number, severity_text, body, attributes, walk.cut, limits.max_record_bytes - walk.budget)
