"""From one MCP log message to the fields of one OTel LogRecord: a pure function, no I/O.

The contract (the same table stands in the package docstring and the README):

* ``level`` -> SeverityNumber by ``mcp_otel.levels`` (OTel logs data model, Appendix B); any
  other level -> 0 (UNSPECIFIED). SeverityText is the level exactly as received.
* ``data`` shaped like FastMCP's ``{"msg": str, "extra": mapping or null}`` (those two keys,
  no others) -> Body is ``msg``; each key of ``extra`` becomes one attribute, nested mappings and
  lists kept structured.
* ``data`` a string -> Body is that string; any other ``data`` -> Body is the same value,
  structured (a map stays a map, a list an array).

Values OTel cannot carry are converted by one rule, applied at every depth:

* str, bool, bytes and None pass through (None is an empty AnyValue).
* int outside the signed 64-bit range (OTLP ``int_value``) -> its decimal string.
* float NaN / Infinity / -Infinity -> the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.
* mapping -> a map with string keys: a non-string key becomes ``str(key)``; an empty key is
  dropped (OTel keys must be non-empty).
* list, tuple -> array; any other object -> ``str(object)``.

A message is untrusted input. One walk converts it, and bounds it as it goes
(``ConversionLimits``); every cut marks the record with ``mcp_otel.truncated = true``:

=======================  =====================================================================
limit (default)          what happens past it
=======================  =====================================================================
``max_string_length``    a string (body, value, key) keeps its first 32,768 characters
``max_attributes``       ``extra`` keeps its first 112 keys, in the order the server sent them
                         (the SDK's default limit is 128 attributes a record: the other 16
                         are room for the ones the handler adds, which the SDK would
                         otherwise make room for by dropping keys with a warning each time)
``max_depth``            a map or array nested deeper than 32 becomes ``"[nesting limit]"``
``max_record_bytes``     the walk spends a budget of 1 MiB of estimated size as it goes; when it
                         is gone, the array being walked ends with one ``"[record size limit]"``
                         item (a map gets one ``"[record size limit]"`` key holding how many
                         entries were left out), and nothing after it is visited: converting a
                         message costs O(limit), not O(input)
=======================  =====================================================================

The level is converted first, while the budget is whole, and a map key is charged before its
value: a key that would spend more than what is left closes the map with the marker instead.

The estimate (``ESTIMATED_COST``, one table) is an upper bound of the record's OTLP encoding
and follows its memory in Python: a string costs its length (four bytes a character when it is
not ASCII) plus a fixed overhead, a number or boolean a fixed cost, a container a fixed cost plus
a slot per item. A record at the cap encodes to less than the cap.

Secrets (``mcp_otel.redaction``, ``ConversionLimits.redaction``): a value under a secret-looking
key, at any depth, and the value of a ``[name, value]`` or ``{"name": ..., "value": ...}`` pair
naming a secret, become ``"[REDACTED]"``; every string (body, values) has the secret parts of its
text replaced. Redaction is not a cut and is not marked. What comes out of redaction is what the
budget is charged (``"x"`` becoming ``"[REDACTED]"`` costs the longer string), and a string is cut
to the budget before it is redacted, so redaction never works on more than the record can hold.
The walk judges a record's texts at once: it keeps them as it goes, and redacting them joined by
newlines tells whether redaction would change any of them (``RedactionRules.judges_joined_texts``
says why the answer holds for each); only then is the walk done again, redacting text by text. A
record with nothing to redact, nearly every record, pays one redaction pass instead of one a text.
One record's text may hold ``MAX_REDACTION_CANDIDATES`` (1,024) candidate secrets; past them, each
further string that could hold a secret (anything but letters and digits) becomes
``"[REDACTED]"`` whole and the record is marked as cut: judging candidates costs microseconds each,
and this keeps a secret-dense record (``"pwd=x pwd=x ..."``) at a few milliseconds instead of half
a second.

Keys a server may not set: ``extra`` keys that the handler sets itself (``RESERVED_KEYS``) or that
start with ``mcp_otel.`` keep their value under ``mcp_otel.extra.<key>``, so a server cannot
spoof ``mcp_otel.truncated``, ``mcp.server.name`` or a request's identity.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from opentelemetry._logs import SeverityNumber
from opentelemetry.util.types import AnyValue

from mcp_otel.attributes import RESERVED_KEYS, SERVER_VALUE_PREFIX
from mcp_otel.levels import SEVERITY_NUMBER_BY_LEVEL
from mcp_otel.redaction import DEFAULT_RULES, NO_REDACTION, REDACTION_MARKER, RedactionRules

__all__ = [
    "APPLICATION_LIMITS",
    "DEFAULT_LIMITS",
    "ESTIMATED_COST",
    "MAX_REDACTION_CANDIDATES",
    "NESTING_LIMIT_MARKER",
    "REDACTION_MARKER",
    "SIZE_LIMIT_MARKER",
    "ConversionLimits",
    "ConvertedMessage",
    "convert_message",
    "convert_text_record",
    "converted_message_fields",
    "to_otel_value",
]

NESTING_LIMIT_MARKER = "[nesting limit]"
SIZE_LIMIT_MARKER = "[record size limit]"

# What each piece is charged against max_record_bytes: the one place the budget is defined.
# Calibrated against tracemalloc and the OTLP encoder (bench/bench_conversion.py prints both
# next to the estimate for each shape): CPython spends 49 bytes on an empty str, 28-32 on a
# number, 56 on an empty list plus 8 a slot, and a dict ~100 bytes plus ~40 an entry; OTLP
# spends a few bytes of framing per value and per key-value.
ESTIMATED_COST: Mapping[str, int] = {
    "string": 56,  # plus the length (x4 when not ASCII)
    "scalar": 32,  # int, float, bool, None
    "container": 96,  # list, tuple, map (a list built by appending is over-allocated)
    "item": 8,  # each array slot
    "entry": 48,  # each map entry, besides its key string and value
    "record": 768,  # the SDK's objects around one record; in estimated_size, not in the budget
}
_STRING, _SCALAR, _CONTAINER, _ITEM, _ENTRY, _RECORD = (
    ESTIMATED_COST[name] for name in ("string", "scalar", "container", "item", "entry", "record")
)
_UNSPECIFIED = SeverityNumber.UNSPECIFIED
_KEY_ENTRY = _STRING + _ENTRY  # a map entry and its key string, besides the key's characters
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_FASTMCP_KEYS = frozenset(("msg", "extra"))
_MIN_CUT_STRING = 64  # a string cut to fit the budget keeps at least this much, or becomes the marker
# Candidate secrets one record's text may hold before redaction stops judging them one by one and
# replaces each further text that could hold one whole: judging costs a few microseconds each, so
# this bounds redaction at a few milliseconds a record (bench/bench_conversion.py).
MAX_REDACTION_CANDIDATES = 1_024


@dataclass(frozen=True, slots=True)
class ConversionLimits:
    """Caps on what one untrusted message may cost, and the redaction rules; see the module docstring."""

    max_string_length: int = 32_768
    max_attributes: int = 112
    max_depth: int = 32
    max_record_bytes: int = 1_048_576
    redaction: RedactionRules = DEFAULT_RULES

    def __post_init__(self) -> None:
        for name in ("max_string_length", "max_attributes", "max_depth", "max_record_bytes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"ConversionLimits.{name}={value!r}: expected a whole number >= 1")


DEFAULT_LIMITS = ConversionLimits()
# The application's own attributes (``attributes=``, ``bind()``): converted by the same rule, never redacted.
APPLICATION_LIMITS = ConversionLimits(redaction=NO_REDACTION)


# ConvertedMessage's fields as a plain tuple (the handler's hot path).
_Fields = tuple[SeverityNumber, str | None, AnyValue, dict[str, AnyValue], bool, int]


class ConvertedMessage(NamedTuple):
    """The record fields that depend on the message alone (not on time, context or the handler).

    ``estimated_size`` is what the record will hold in memory, in bytes (the walk's estimate plus the
    SDK's objects around it): the delivery queue's byte budget counts it.
    """

    severity_number: SeverityNumber
    severity_text: str | None
    body: AnyValue
    attributes: dict[str, AnyValue]
    truncated: bool = False
    estimated_size: int = 0


class _Walk:
    """One conversion: the limits, the budget left, and whether anything was cut.

    The walk runs inline in the MCP client's receive loop for every message, so the common
    cases (a short ASCII string, a small int, a flat map) are handled where they are met rather
    than through another call; every case charges the budget in the same place (``ESTIMATED_COST``).
    """

    __slots__ = ("budget", "cut", "max_string", "redaction_allowance", "rules", "texts")

    def __init__(self, limits: ConversionLimits, gather: bool = False) -> None:
        self.budget = limits.max_record_bytes
        self.cut = False
        self.max_string = limits.max_string_length
        self.rules = limits.redaction
        self.redaction_allowance = MAX_REDACTION_CANDIDATES
        # Gathering: the texts are kept to be judged at once after the walk (``_texts_may_hold_secret``),
        # not redacted one by one.
        self.texts: list[str] | None = [] if gather else None

    def text(self, text: str) -> str:
        """A string, cut to the string cap and to the budget, then redacted; charged as it comes out."""
        length = len(text)
        if length > self.max_string:
            text = text[: self.max_string]
            length = self.max_string
            self.cut = True
        cost = _STRING + (length if text.isascii() else 4 * length)
        if cost > self.budget:
            return self._cut_text(text)
        texts = self.texts
        if texts is not None:
            texts.append(text)
            self.budget -= cost
            return text
        redacted = self._redact(text)
        if redacted is not text:  # rare: charge what comes out, which may be longer
            return self._fit(redacted)
        self.budget -= cost
        return text

    def _cut_text(self, text: str) -> str:
        """``text`` cut to what the budget has left (before redaction, so that redaction works on
        no more than the record can hold), or the size marker when that is too little."""
        keep = (self.budget - _STRING) // (1 if text.isascii() else 4)
        self.cut = True
        if keep < _MIN_CUT_STRING:
            self.budget -= _STRING
            return SIZE_LIMIT_MARKER
        return self._fit(self._redact(text[:keep]))

    def _fit(self, text: str) -> str:
        """Charge ``text``, cut again when redaction made it longer than what is left."""
        width = 1 if text.isascii() else 4
        cost = _STRING + width * len(text)
        if cost > self.budget:
            keep = (self.budget - _STRING) // width
            self.cut = True
            if keep < _MIN_CUT_STRING:
                self.budget -= _STRING
                return SIZE_LIMIT_MARKER
            text = text[:keep]
            cost = _STRING + width * keep
        self.budget -= cost
        return text

    def _redact(self, text: str) -> str:
        """``text`` redacted, within the record's allowance of candidate secrets; past it, any text
        that could hold a secret is replaced whole (and the record is marked as cut)."""
        if self.texts is not None:
            self.texts.append(text)
            return text
        if self.redaction_allowance >= 0:  # exactly spent still judges a text with no candidate in it
            redacted, judged = self.rules.redact_text_within(text, self.redaction_allowance)
            if redacted is not None:
                self.redaction_allowance -= judged
                return redacted
            self.redaction_allowance = -1  # past it
        elif text.isalnum() and "A" not in text:  # letters and digits: no secret but AKIA.../AIza...
            return text
        self.cut = True
        return REDACTION_MARKER

    def value(self, value: Any, depth_left: int) -> AnyValue:
        value_type = type(value)
        if value_type is str:
            return self.text(value)
        if self.budget <= 0:
            self.cut = True
            return SIZE_LIMIT_MARKER
        if value_type is int:
            self.budget -= _SCALAR
            return value if _INT64_MIN <= value <= _INT64_MAX else self.text(_int_text(value))
        if value_type is bool or value is None or value_type is float:
            self.budget -= _SCALAR
            return value if value_type is not float or math.isfinite(value) else _non_finite_name(value)
        if value_type is dict or value_type is list or value_type is tuple or isinstance(value, (Mapping, list, tuple)):
            if depth_left <= 0:
                self.cut = True
                self.budget -= _STRING
                return NESTING_LIMIT_MARKER
            if value_type is list or value_type is tuple or not isinstance(value, Mapping):
                return self.array(value, depth_left - 1)
            return self.mapping(value, depth_left - 1)
        self.budget -= _SCALAR
        if isinstance(value, (bytes, bytearray)):
            if len(value) > self.max_string:
                value = value[: self.max_string]
                self.cut = True
            self.budget -= len(value)
            return bytes(value)
        if isinstance(value, int):  # int subclasses such as IntEnum
            return self.value(int(value), depth_left)
        if isinstance(value, float):
            return self.value(float(value), depth_left)
        return self.text(str.__str__(value) if isinstance(value, str) else _safe_str(value))

    def array(self, items: list[Any] | tuple[Any, ...], depth_left: int) -> list[AnyValue]:
        # The budget is a local in the loop (written back around each call that spends it), and
        # a gathered ASCII string or an in-range scalar is taken where it is met: together they
        # halve the cost of a small item (bench/bench_handler.py).
        budget = self.budget - _CONTAINER
        secret_slot = self.rules.secret_pair_slot(items) if len(items) == 2 else None
        texts = self.texts
        max_string = self.max_string
        converted: list[AnyValue] = []
        append = converted.append
        for index, item in enumerate(items):
            if budget <= 0:
                append(SIZE_LIMIT_MARKER)
                self.cut = True
                break
            budget -= _ITEM
            if index == secret_slot:
                append(REDACTION_MARKER)
                continue
            item_type = type(item)
            if item_type is str:
                length = len(item)
                if texts is not None and length <= max_string and _STRING + length <= budget and item.isascii():
                    budget -= _STRING + length
                    texts.append(item)
                    append(item)
                    continue
            elif budget > _SCALAR and (
                (item_type is int and _INT64_MIN <= item <= _INT64_MAX) or item_type is bool or item is None
            ):
                budget -= _SCALAR
                append(item)
                continue
            self.budget = budget
            value = self.text(item) if item_type is str else self.value(item, depth_left)
            budget = self.budget
            append(value)
            if value is SIZE_LIMIT_MARKER:  # the budget ran out on this item: it is the closing marker
                self.cut = True
                break
        self.budget = budget
        return converted

    def mapping(
        self, mapping: Mapping[Any, Any], depth_left: int, max_keys: int = -1, reserved: bool = False
    ) -> dict[str, AnyValue]:
        """A map; ``max_keys`` caps its entries (``extra``), ``reserved`` renames keys the handler sets."""
        # As in ``array``: a local budget, and the common entries taken where they are met.
        budget = self.budget - _CONTAINER
        rules = self.rules
        secret_slot = rules.secret_pair_slot(mapping) if len(mapping) == 2 else None
        known_secret_key = rules.known_secret_key
        is_secret_key = rules.is_secret_key
        max_string = self.max_string
        texts = self.texts
        converted: dict[str, AnyValue] = {}
        count = 0
        for raw_key, item in mapping.items():
            if budget <= 0 or count == max_keys:
                self.cut = True
                if budget <= 0:
                    converted[SIZE_LIMIT_MARKER] = len(mapping) - count
                break
            count += 1
            key = raw_key if type(raw_key) is str else _safe_str(raw_key)
            length = len(key)
            if length > max_string:
                key = key[:max_string]
                length = max_string
                self.cut = True
            elif not length:
                continue
            key_cost = _KEY_ENTRY + (length if key.isascii() else 4 * length)
            if key_cost >= budget:  # the key alone would spend what is left: close the map here
                converted[SIZE_LIMIT_MARKER] = len(mapping) - count + 1
                self.cut = True
                break
            budget -= key_cost
            # Every key the handler sets has a dot (tests/test_conversion.py): most keys have none,
            # and one memchr costs a third of the two checks.
            if reserved and "." in key and (key in RESERVED_KEYS or key.startswith("mcp_otel.")):
                key = SERVER_VALUE_PREFIX + key
            secret = known_secret_key(key)
            if secret or (secret is None and is_secret_key(key)) or (secret_slot is not None and raw_key == secret_slot):
                converted[key] = REDACTION_MARKER
                continue
            item_type = type(item)
            if item_type is str:
                length = len(item)
                if texts is not None and length <= max_string and _STRING + length <= budget and item.isascii():
                    budget -= _STRING + length
                    texts.append(item)
                    converted[key] = item
                    continue
                self.budget = budget
                value: AnyValue = self.text(item)
                budget = self.budget
            elif budget > _SCALAR and (
                (item_type is int and _INT64_MIN <= item <= _INT64_MAX) or item_type is bool or item is None
            ):
                budget -= _SCALAR
                converted[key] = item
                continue
            else:
                self.budget = budget
                value = self.value(item, depth_left)
                budget = self.budget
            if value is SIZE_LIMIT_MARKER:  # the budget ran out on this entry: close the map instead
                converted[SIZE_LIMIT_MARKER] = len(mapping) - count + 1
                self.cut = True
                break
            converted[key] = value
        self.budget = budget
        return converted


def _texts_may_hold_secret(walk: _Walk) -> bool:
    """After a gathering walk: whether redaction would change a text it kept, so that the walk must
    be done again redacting text by text. Judging the texts at once, joined by newlines, costs one
    pass where judging each costs a call and a search (``RedactionRules.judges_joined_texts``)."""
    texts = walk.texts
    if not texts:
        return False
    joined = texts[0] if len(texts) == 1 else "\n".join(texts)
    return walk.rules.redact_text_within(joined, MAX_REDACTION_CANDIDATES)[0] is not joined


_Converted = TypeVar("_Converted")


def _walked(limits: ConversionLimits, convert: Callable[..., _Converted], *arguments: Any) -> _Converted:
    """``convert(walk, *arguments)`` by a walk that judges its texts at once, done again by one
    that redacts text by text only when redaction would change one of them (module docstring)."""
    walk = _Walk(limits, limits.redaction.judges_joined_texts)
    converted = convert(walk, *arguments)
    if walk.texts and _texts_may_hold_secret(walk):
        converted = convert(_Walk(limits), *arguments)
    return converted


def to_otel_value(value: Any, limits: ConversionLimits = DEFAULT_LIMITS) -> AnyValue:
    """Convert any Python value to one OTLP can carry, by the rule and the limits in the module docstring."""
    return _walked(limits, _Walk.value, value, limits.max_depth)


def convert_message(level: Any, data: Any, limits: ConversionLimits = DEFAULT_LIMITS) -> ConvertedMessage:
    """Map an MCP message's ``level`` and ``data`` to severity, body and attributes.

    Never raises for any ``level`` or ``data``; see the module docstring for the rules.
    """
    return tuple.__new__(ConvertedMessage, converted_message_fields(level, data, limits))


def converted_message_fields(level: Any, data: Any, limits: ConversionLimits) -> _Fields:
    """``convert_message`` as a plain tuple, for the handler's hot path: a NamedTuple costs ~0.2 us more.

    ``_walked``, written out: its frame and argument packing cost ~0.15 us a message (~2% of the SDK's emit).
    """
    walk = _Walk(limits, limits.redaction.judges_joined_texts)
    converted = _convert_message(walk, level, data, limits)
    if walk.texts and _texts_may_hold_secret(walk):
        converted = _convert_message(_Walk(limits), level, data, limits)
    return converted


def _convert_message(walk: _Walk, level: Any, data: Any, limits: ConversionLimits) -> _Fields:
    # The level first, while the budget is whole: it is short, and must never overshoot the cap.
    if type(level) is str and (length := len(level)) <= walk.max_string and level.isascii():  # the usual level
        severity_text: str | None = level
        walk.budget -= _STRING + length
    else:
        severity_text = None if level is None else _level_text(level, walk)
    attributes: dict[str, AnyValue]
    if type(data) is dict and data.keys() == _FASTMCP_KEYS and type(data["msg"]) is str and (
        (extra := data["extra"]) is None or type(extra) is dict or isinstance(extra, Mapping)
    ):
        body: AnyValue = walk.text(data["msg"])
        attributes = walk.mapping(extra, limits.max_depth, limits.max_attributes, reserved=True) if extra else {}
    elif type(data) is str:
        body = walk.text(data)
        attributes = {}
    else:
        body = walk.value(data, limits.max_depth)
        attributes = {}
    severity_number = SEVERITY_NUMBER_BY_LEVEL.get(level, _UNSPECIFIED) if type(level) is str else _UNSPECIFIED
    return severity_number, severity_text, body, attributes, walk.cut, _RECORD + limits.max_record_bytes - walk.budget


def convert_text_record(
    severity_number: int,
    severity_text: str | None,
    body: str,
    fields: Mapping[str, Any],
    limits: ConversionLimits = DEFAULT_LIMITS,
) -> ConvertedMessage:
    """A record read from text (a server's standard error) to the same fields, by the same walk.

    The body is one string and ``fields`` become attributes exactly as a message's ``extra`` does:
    the same caps, the same redaction, the same renaming of keys the handler sets itself.
    """
    return tuple.__new__(
        ConvertedMessage, _walked(limits, _convert_text_record, severity_number, severity_text, body, fields, limits)
    )


def _convert_text_record(
    walk: _Walk,
    severity_number: int,
    severity_text: str | None,
    body: str,
    fields: Mapping[str, Any],
    limits: ConversionLimits,
) -> _Fields:
    converted_body = walk.text(body)
    attributes = walk.mapping(fields, limits.max_depth, limits.max_attributes, reserved=True) if fields else {}
    text = None if severity_text is None else _level_text(severity_text, walk)
    number = SeverityNumber(severity_number) if 0 <= severity_number <= 24 else SeverityNumber.UNSPECIFIED
    return number, text, converted_body, attributes, walk.cut, _RECORD + limits.max_record_bytes - walk.budget


def _level_text(level: object, walk: _Walk) -> str:
    """The level as received, as text; cut like any string, never redacted (it names, it does not hold)."""
    text = level if type(level) is str else _safe_str(level)
    if len(text) > walk.max_string:
        text = text[: walk.max_string]
        walk.cut = True
    walk.budget -= _STRING + (len(text) if text.isascii() else 4 * len(text))
    return text


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
        text = str(value)
    except Exception:  # a hostile __str__ must not break the conversion
        return f"<unprintable {type(value).__name__}>"
    return text if type(text) is str else f"<unprintable {type(value).__name__}>"
