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
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry._logs import SeverityNumber
from opentelemetry.util.types import AnyValue

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "NESTING_LIMIT_MARKER",
    "SEVERITY_NUMBER_BY_LEVEL",
    "TRUNCATED_ATTRIBUTE",
    "ConvertedMessage",
    "convert_message",
    "severity_for_level",
    "to_otel_value",
]

# OTel logs data model, Appendix B, "Syslog" mapping (RFC 5424 severities).
SEVERITY_NUMBER_BY_LEVEL: Mapping[str, SeverityNumber] = {
    "debug": SeverityNumber.DEBUG,  # 5
    "info": SeverityNumber.INFO,  # 9
    "notice": SeverityNumber.INFO2,  # 10
    "warning": SeverityNumber.WARN,  # 13
    "error": SeverityNumber.ERROR,  # 17
    "critical": SeverityNumber.ERROR2,  # 18
    "alert": SeverityNumber.ERROR3,  # 19
    "emergency": SeverityNumber.FATAL,  # 21
}

DEFAULT_MAX_DEPTH = 32
NESTING_LIMIT_MARKER = "[nesting limit]"
TRUNCATED_ATTRIBUTE = "mcp_otel.truncated"

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_FASTMCP_KEYS = frozenset(("msg", "extra"))


def severity_for_level(level: object) -> SeverityNumber:
    """The SeverityNumber of an MCP level; UNSPECIFIED (0) for anything not among the eight."""
    if type(level) is str:
        return SEVERITY_NUMBER_BY_LEVEL.get(level, SeverityNumber.UNSPECIFIED)
    return SeverityNumber.UNSPECIFIED


@dataclass(slots=True)
class ConvertedMessage:
    """The record fields that depend on the message alone (not on time, context or the handler)."""

    severity_number: SeverityNumber
    severity_text: str | None
    body: AnyValue
    attributes: dict[str, AnyValue]
    truncated: bool = False


class _Cut:
    """Set when a value was cut at the nesting limit; one per conversion, so no shared state."""

    __slots__ = ("happened",)

    def __init__(self) -> None:
        self.happened = False


def to_otel_value(value: Any, max_depth: int = DEFAULT_MAX_DEPTH) -> AnyValue:
    """Convert any Python value to one OTLP can carry, by the rule in the module docstring."""
    return _convert(value, max_depth, _Cut())


def _convert(value: Any, depth_left: int, cut: _Cut) -> AnyValue:
    value_type = type(value)
    if value_type is str or value_type is bool or value is None:
        return value  # type: ignore[no-any-return]
    if value_type is int:
        return value if _INT64_MIN <= value <= _INT64_MAX else str(value)  # type: ignore[no-any-return]
    if value_type is float:
        return value if math.isfinite(value) else _non_finite_name(value)  # type: ignore[no-any-return]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, Mapping) or isinstance(value, (list, tuple)):
        if depth_left <= 0:
            cut.happened = True
            return NESTING_LIMIT_MARKER
        if isinstance(value, Mapping):
            return _convert_mapping(value, depth_left - 1, cut)
        return [_convert(item, depth_left - 1, cut) for item in value]
    if isinstance(value, bool):  # bool subclasses; checked before int
        return bool(value)
    if isinstance(value, int):  # int subclasses such as IntEnum
        return _convert(int(value), depth_left, cut)
    if isinstance(value, float):
        return _convert(float(value), depth_left, cut)
    if isinstance(value, str):
        return str(value)
    return _safe_str(value)


def _convert_mapping(mapping: Mapping[Any, Any], depth_left: int, cut: _Cut) -> dict[str, AnyValue]:
    converted: dict[str, AnyValue] = {}
    for key, item in mapping.items():
        key_text = key if type(key) is str else _safe_str(key)
        if key_text:
            converted[key_text] = _convert(item, depth_left, cut)
    return converted


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


def convert_message(level: Any, data: Any, max_depth: int = DEFAULT_MAX_DEPTH) -> ConvertedMessage:
    """Map an MCP message's ``level`` and ``data`` to severity, body and attributes.

    Never raises for any ``level`` or ``data``; see the module docstring for the rules.
    """
    cut = _Cut()
    attributes: dict[str, AnyValue]
    if _is_fastmcp_shape(data):
        body: AnyValue = data["msg"]
        extra = data["extra"]
        attributes = _convert_mapping(extra, max_depth, cut) if extra else {}
    elif type(data) is str:
        body = data
        attributes = {}
    else:
        body = _convert(data, max_depth, cut)
        attributes = {}
    severity_text = level if type(level) is str else (None if level is None else _safe_str(level))
    return ConvertedMessage(
        severity_number=severity_for_level(level),
        severity_text=severity_text,
        body=body,
        attributes=attributes,
        truncated=cut.happened,
    )
