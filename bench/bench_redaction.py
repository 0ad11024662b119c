"""What redaction costs per call: key checks, text of every size, and adversarial strings.

Run from the repository root: ``.venv/bin/python bench/bench_redaction.py`` (``--quick`` runs
few rounds, to prove the script still works). Nothing here asserts a time.

Each case runs in rounds of many calls; the cases take turns, round by round, so drift on a
shared machine spreads over all of them. Printed per call: the median over rounds, and the
lowest and highest round (the spread). For scale, the same rounds time the raw OTel SDK
``Logger.emit()`` of one record into a batch processor whose exporter drops batches, the floor
the handler is measured against, and "typical record": the redaction calls a FastMCP
``{"msg", "extra"}`` record with five extra keys costs (five key checks, three strings).

The adversarial strings (1 MB each: repeated near-matches of every text rule) print one time
each; the point is that they are linear, not how fast they are.

Last, accuracy: misses and false positives over the lists of tests/test_redaction.py, for these
rules and for the exact-name list they replaced (the twelve names of mcp-otel 0.1).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)

from mcp_otel.redaction import DEFAULT_RULES, RedactionRules
from tests.test_redaction import NOT_SECRET_KEYS, NOT_SECRET_TEXTS, SECRET_KEYS, TEXT_ROWS, accuracy

PARAGRAPH = (
    "The river town wakes slowly. By seven the bakery on the corner has its shutters up, and the "
    "smell of bread drifts across the square where the market traders are unloading crates of "
    "tomatoes, peppers and late summer peaches. Nobody hurries: the ferry to the far bank leaves "
    "at half past, and everyone knows the captain waits for the regulars. Ana, who has run the "
    "stall by the fountain for thirty years, says the trick is simple: arrive early, price fairly, "
    "and remember every face. Her grandson, home from university for the holidays, is less sure. "
    "He has built a small website for the stall (orders by phone, delivery on Thursdays) and keeps "
    "a notebook of which fruit sells best on which day. Last week it was figs; this week, to "
    "everyone's surprise, it is quince, which his grandmother insists nobody under sixty knows "
    "how to cook. In the afternoon the square empties. The older men gather under the plane "
    "trees to play cards, arguing about football and the price of diesel, while the children "
    "chase pigeons between the benches. Later, when the heat breaks, families walk along the "
    "embankment toward the old stone bridge, built in 1874 and restored twice since, once after "
    "the flood of 1921 and again in the 1990s. From the middle of the bridge you can see the "
    "whole valley: vineyards on the southern slopes, the dark line of the forest to the north, "
    "and on a clear evening the white tower of the monastery on the ridge. Tourists photograph "
    "it; locals barely notice it anymore. The town council has plans for a new cycle path, a "
    "larger car park and a museum of river trade, though, as Ana points out, the council has "
    "had plans for as long as she can remember. The bakery closes at eight, the last ferry "
    "crosses at nine, and by ten the only sound is the water against the piers."
)


# The exact names mcp-otel 0.1 redacted (conversion.DEFAULT_REDACTED_KEYS), for comparison.
OLD_EXACT_NAMES = ("password", "passwd", "token", "access_token", "refresh_token", "authorization", "api_key", "apikey",
                   "secret", "client_secret", "cookie", "set-cookie")

def two_kilobytes(text: str) -> str:
    return (text * (2048 // len(text) + 1))[:2048]


PARAGRAPH_2K = two_kilobytes(PARAGRAPH)
SECRET_2K = PARAGRAPH_2K[:1000] + " connecting with password=hunter2 to the replica " + PARAGRAPH_2K[1049:]
LOG_LINES = (
    "2024-05-01T12:00:00.123Z INFO request 8f3a2c1e-4b5d-4e6f-9a8b-7c6d5e4f3a2b handled in 35 ms "
    "status=200 path=/v1/items?limit=20&page=3 user=ana cache_hit=true\n"
)
MIXED_100K = (PARAGRAPH + "\n" + LOG_LINES * 4) * (100_000 // (len(PARAGRAPH) + 1 + 4 * len(LOG_LINES)) + 1)
MIXED_100K = MIXED_100K[:100_000]
JSON_2K = json.dumps(
    [{"id": index, "name": f"item {index}", "status": "ok", "duration_ms": index * 3, "path": f"/v1/items/{index}"}
     for index in range(40)]
)[:2048]  # fmt: skip

TEXT_CASES = {
    "redact_text short, no trigger ('Lisbon')": "Lisbon",
    "redact_text short id ('req-8f3a2c')": "req-8f3a2c",
    "redact_text UUID": "8f3a2c1e-4b5d-4e6f-9a8b-7c6d5e4f3a2b",
    "redact_text 60-char log sentence": "request 1234 handled in 35 ms for user ana (cache hit): ok",
    "redact_text 2 KB English, no secret": PARAGRAPH_2K,
    "redact_text 2 KB English, no secret, no colon": PARAGRAPH_2K.replace(":", ","),
    "redact_text 2 KB English, one secret": SECRET_2K,
    "redact_text 2 KB JSON (116 keys), no secret": JSON_2K,
    "redact_text 100 KB prose and log lines": MIXED_100K,
}

MEGABYTE = 1_000_000
ADVERSARIAL = {
    "a=a=a=...": "a=" * (MEGABYTE // 2),
    "key=key=...": "key=" * (MEGABYTE // 4),
    "token:token:...": "token:" * (MEGABYTE // 6),
    "password=password=...": "password=" * (MEGABYTE // 9),
    "Bearer Bearer ...": "Bearer " * (MEGABYTE // 7),
    "bearer + 1 MB of letters": "bearer " + "a" * MEGABYTE,
    "xx://a:a:a:...@": "xx://" + "a:" * (MEGABYTE // 2) + "@",
    "x://a: repeated": "x://a:" * (MEGABYTE // 6),
    "sk-sk-sk-...": "sk-" * (MEGABYTE // 3),
    "eyJa.eyJa....": "eyJaaaaa." * (MEGABYTE // 9),
    "--a --a ...": "--a " * (MEGABYTE // 4),
    "BEGIN PRIVATE KEY repeated": "-----BEGIN PRIVATE KEY-----" * (MEGABYTE // 27),
    "api key: api key: ...": "api key: " * (MEGABYTE // 9),
}


class DroppingExporter(LogRecordExporter):
    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def run_rounds(cases: dict[str, tuple[Callable[[], object], int]], rounds: int) -> dict[str, list[float]]:
    """Microseconds per call of each case, one figure per round; the cases take turns."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, (call, count) in cases.items():
            started = time.perf_counter()
            for _ in range(count):
                call()
            samples[name].append((time.perf_counter() - started) / count * 1e6)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few rounds: prove the script runs")
    arguments = parser.parse_args()
    rounds = 3 if arguments.quick else 21
    scale = 10 if arguments.quick else 1

    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(BatchLogRecordProcessor(DroppingExporter(), max_queue_size=1_000_000))
    otel_logger = provider.get_logger("bench.server")

    def raw_emit() -> None:
        otel_logger.emit(
            severity_number=SeverityNumber.INFO, severity_text="info", body="request 1234 handled",
            attributes={"request_id": "r-1234", "user": "ana", "duration_ms": 35, "cache_hit": True, "ratio": 0.25},
        )  # fmt: skip

    rules = DEFAULT_RULES
    is_secret_key = rules.is_secret_key
    redact_text = rules.redact_text
    is_secret_key("request_id")
    new_keys = [f"field_{index}_name" for index in range(4_000)]
    fresh: list[RedactionRules] = []
    position = [0]

    def new_key() -> None:
        # A distinct key each call, on rules whose memo has room (the cost includes storing it).
        if position[0] == len(new_keys):
            position[0] = 0
            fresh.append(RedactionRules())
        fresh[-1].is_secret_key(new_keys[position[0]])
        position[0] += 1

    fresh.append(RedactionRules())
    extra = {"request_id": "r-1234", "user": "ana", "duration_ms": 35, "cache_hit": True, "ratio": 0.25}
    message = "request 1234 handled"

    def typical_record() -> None:
        for key in extra:
            is_secret_key(key)
        redact_text(message)
        redact_text("r-1234")
        redact_text("ana")

    cases: dict[str, tuple[Callable[[], object], int]] = {
        "raw OTel SDK Logger.emit (for scale)": (raw_emit, 2_000 // scale),
        "is_secret_key, cached key": (lambda: is_secret_key("request_id"), 200_000 // scale),
        "is_secret_key, new key": (new_key, 4_000 // scale),
        "typical record (5 keys, 3 strings)": (typical_record, 50_000 // scale),
    }
    for name, text in TEXT_CASES.items():
        count = max(10, 200_000 // (len(text) // 10 + 1)) // scale
        cases[name] = (lambda text=text: redact_text(text), count)  # type: ignore[misc]
    samples = run_rounds(cases, rounds)
    provider.shutdown()

    print(f"Python {platform.python_version()} on {platform.machine()}, {rounds} rounds; microseconds per call")
    print(f"{'case':45s} {'median':>10s} {'min':>10s} {'max':>10s}")
    for name, figures in samples.items():
        print(f"{name:45s} {statistics.median(figures):10.3f} {min(figures):10.3f} {max(figures):10.3f}")
    print()
    for name, text in TEXT_CASES.items():
        if len(text) >= 2048:
            per_kilobyte = statistics.median(samples[name]) / (len(text) / 1024)
            print(f"{name:45s} {per_kilobyte:10.3f} us per KiB")
    print()
    print("Adversarial 1 MB strings, one call each (milliseconds; linear time is the point):")
    for name, text in ADVERSARIAL.items():
        started = time.perf_counter()
        redact_text(text)
        print(f"  {name:35s} {(time.perf_counter() - started) * 1e3:10.1f} ms")
    print()
    print(
        f"Accuracy over tests/test_redaction.py: {len(SECRET_KEYS)} secret keys, {len(NOT_SECRET_KEYS)} near-miss"
        f" keys, {len(TEXT_ROWS)} texts with a secret, {len(NOT_SECRET_TEXTS)} near-miss texts"
    )
    old_names = set(OLD_EXACT_NAMES)
    old = {
        "secret keys missed": sum(key.lower() not in old_names for key in SECRET_KEYS),
        "keys falsely redacted": sum(key.lower() in old_names for key, _ in NOT_SECRET_KEYS),
        "text secrets missed": len(TEXT_ROWS),  # the exact-name list never looks inside text
        "texts falsely redacted": 0,
    }
    print(f"  {'':35s} {'these rules':>12s} {'old list':>10s}")
    for name, count in accuracy(DEFAULT_RULES).items():
        print(f"  {name:35s} {count:12d} {old[name]:10d}")


if __name__ == "__main__":
    main()
