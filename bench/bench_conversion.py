"""What one hostile message costs: the time to convert it and hand it to the SDK, and its size.

Run from the repository root: ``.venv/bin/python bench/bench_conversion.py`` (``--quick`` for CI,
which only proves the script still works; nothing here asserts a time).

For each shape a server can send over the wire (wide lists and maps, long keys, self-reference,
deep nesting, huge strings, secret-dense text that redaction lengthens, non-ASCII keys and levels)
and a few ordinary ones, it prints:

* **handle ms**: ``handler.handle(message)`` on a handler whose SDK provider has no processor:
  the walk (cuts, redaction) plus the SDK's own record building, on the caller's thread. Median
  of rounds, min..max. Target (issue 11): well under 50 ms at the 1 MiB cap whatever the shape, a
  few milliseconds under 100 KB.
* **encoded KiB**: the record's OTLP protobuf size (the SDK's encoder), against the 1 MiB cap.
* **estimate KiB**: ``ConvertedMessage.estimated_size``, what the delivery queue's byte budget counts
  (``ESTIMATED_COST`` in ``mcp_otel.conversion``); it should not be below the encoded size, and it
  follows the record's memory (``tracemalloc`` peak of building it, in the last column).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from mcp_otel import OTelLogHandler
from mcp_otel.conversion import convert_message


def _deep(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def shapes(scale: int) -> dict[str, tuple[Any, Any]]:
    """(level, data) per shape; ``scale`` 1 is the full size, larger divides the wide ones."""
    loop: dict[str, Any] = {}
    loop["self"] = loop
    wide = 10**6 // scale
    filled: dict[str, Any] = {f"k{i}": "v" * 1_000 for i in range(900)}
    filled["\U0001f600" * 32_000] = 1
    return {
        "ordinary: flat extra, 5 keys": ("info", {"msg": "fetched", "extra": {"city": "Lisbon", "ms": 35, "ok": True, "n": 3, "r": 0.5}}),
        "ordinary: 2 KB text, 20 keys": ("info", {"msg": "w " * 1_000, "extra": {f"key{i}": f"value {i}" for i in range(20)}}),
        "90 KB of nested lists and maps": (
            "info", {"msg": "m", "extra": {"rows": [{"id": i, "tags": ["a", "b"], "t": {"x": 1.5}} for i in range(900)]}}
        ),
        "10^6 ints as data": ("info", list(range(wide))),
        "10^6-entry map as data": ("info", {str(i): i for i in range(wide)}),
        "10^6 ints in extra": ("info", {"msg": "m", "extra": {"xs": list(range(wide))}}),
        "10^6-entry map in extra": ("info", {"msg": "m", "extra": {"m": {str(i): i for i in range(wide)}}}),
        "10^5 long keys in extra": ("info", {"msg": "m", "extra": {f"k{i}" * 40: i for i in range(wide // 10)}}),
        "10^5 long keys as data": ("info", {f"k{i}" * 40: i for i in range(wide // 10)}),
        "self reference": ("info", loop),
        "10^5 deep": ("info", _deep(10**5 // scale)),
        "100 MB string": ("info", "x" * (100_000_000 // scale)),
        "10^5 two-KB strings": ("info", ["y" * 2_000] * (wide // 10)),
        "10^5 non-ASCII strings": ("info", ["\u00fc" * 300] * (wide // 10)),
        "secret-dense text (pwd=x)": ("info", ["pwd=x " * 5_000] * 40),
        "secret-dense text (api key: a)": ("info", ["api key: a " * 3_000] * 40),
        "map filled, then a huge non-ASCII key": ("info", filled),
        "huge non-ASCII level, full body": ("\U0001f600" * 40_000, "z" * 2_000_000),
    }


def encoded_size(level: Any, data: Any) -> tuple[int, int]:
    converted = convert_message(level, data)
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    provider.get_logger("t").emit(body=converted.body, attributes=converted.attributes, severity_text=converted.severity_text)
    return len(encode_logs(exporter.get_finished_logs()).SerializeToString()), converted.estimated_size


def memory_peak(handler: OTelLogHandler, message: Any) -> int:
    tracemalloc.start()
    try:
        handler.handle(message)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller shapes, one round: prove the script runs (CI)")
    arguments = parser.parse_args()
    scale, rounds = (100, 1) if arguments.quick else (1, 7)
    handler = OTelLogHandler(LoggerProvider())  # no processor: the SDK builds the record and stops
    print(f"machine: {platform.machine()}, Python {platform.python_version()}; median of {rounds} rounds (min..max)")
    print(f"{'shape':<40} {'handle ms':>24} {'encoded KiB':>12} {'estimate KiB':>13} {'memory KiB':>11}")
    for name, (level, data) in shapes(scale).items():
        message = SimpleNamespace(level=level, logger="bench", data=data)
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            handler.handle(message)
            times.append((time.perf_counter() - started) * 1000)
        encoded, estimate = encoded_size(level, data)
        peak = memory_peak(handler, message)
        timing = f"{statistics.median(times):8.2f} ({min(times):6.2f}..{max(times):6.2f})"
        print(f"{name:<40} {timing:>24} {encoded / 1024:>12.1f} {estimate / 1024:>13.1f} {peak / 1024:>11.1f}")
    stats = handler.stats()
    assert stats["dropped"]["internal_error"] == 0, stats  # a crash is not a measurement


if __name__ == "__main__":
    main()
