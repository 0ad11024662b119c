"""The proxy's ``--stderr`` under a flood: does the server's standard error wait for telemetry?

Run from the repository root: ``.venv/bin/python bench/bench_stderr_flood.py`` (``--quick`` proves it
runs; nothing here asserts a time).

A child writes N stderr lines as fast as the pipe takes them (stdlib lines, one JSON line in ten,
a chained traceback every thousand lines). Timed: the child alone with its standard error read by
this script ("direct"), and behind ``mcp-otel proxy --stderr`` exporting to a live OTLP receiver
in another process ("proxied"). Printed: the child's writing time, the bytes the host got (they
must equal what was written), and the records the collector acknowledged versus dropped (from the
proxy's drop summary). Median of rounds.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from tests.support.otlp_receiver import ReceiverProcess  # noqa: E402

CHILD = """
import json, sys, time
count = int(sys.argv[1])
out = sys.stderr
started = time.perf_counter()
for index in range(count):
    if index % 1000 == 999:
        try:
            try:
                raise KeyError(index)
            except KeyError as error:
                raise RuntimeError(f"step {index} failed") from error
        except RuntimeError:
            import traceback; traceback.print_exc()
    elif index % 10 == 9:
        out.write(json.dumps({"level": "warn", "msg": "slow", "index": index}) + "\\n")
    else:
        out.write(f"2026-07-28 12:00:00,000 INFO bench.flood: line {index}\\n")
out.flush()
print(f"{time.perf_counter() - started:.4f}", file=sys.stdout)
"""
# The proxy's own drop summary: written to the host's standard error too, possibly mid-line.
DROP_SUMMARY = re.compile(rb"mcp_otel: (\d+) log record\(s\) dropped so far \([^)\n]*\)[^\n]*\n")


def run_once(command: list[str], environment: dict[str, str]) -> tuple[float, bytes, int]:
    """The child's writing seconds, the standard error the caller got, and the proxy's drop count."""
    completed = subprocess.run(command, capture_output=True, env=environment, cwd=REPOSITORY, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    dropped = [int(count) for count in DROP_SUMMARY.findall(completed.stderr)]
    return float(completed.stdout.split()[-1]), completed.stderr, dropped[-1] if dropped else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small flood, one round: prove the script runs (CI)")
    arguments = parser.parse_args()
    count, rounds = (10_000, 1) if arguments.quick else (100_000, 3)
    base = {name: value for name, value in os.environ.items() if not name.startswith(("OTEL_", "MCP_OTEL_"))}
    child = [sys.executable, "-c", CHILD, str(count)]
    rows: dict[str, list[tuple[float, int, int, int]]] = {"direct": [], "proxied": []}
    with tempfile.TemporaryDirectory() as directory:
        for round_number in range(rounds):
            records_path = Path(directory) / f"records-{round_number}.jsonl"
            with ReceiverProcess("grpc", records_path) as collector:
                environment = {**base, "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint}
                seconds, written, _ = run_once(child, base)
                rows["direct"].append((seconds, len(written), 0, 0))
                proxied = [sys.executable, "-m", "mcp_otel", "proxy", "--stderr", "--flush-timeout", "120", "--", *child]
                seconds, relayed, dropped = run_once(proxied, environment)
                # Tracebacks name the file "<string>" either way, so the bytes are comparable.
                whole = len(written) if DROP_SUMMARY.sub(b"", relayed) == written else -1  # -1: bytes went missing
                time.sleep(0.5)
                rows["proxied"].append((seconds, whole, len(collector.records()), dropped))
    print(f"a stderr flood of {count} lines ({rounds} rounds; median):")
    print(f"  {'':<9}{'child writing s':>16}{'bytes to host':>15}{'records exported':>18}{'dropped':>9}")
    for name, samples in rows.items():
        columns = [statistics.median(column) for column in zip(*samples, strict=True)]
        print(f"  {name:<9}{columns[0]:>16.3f}{columns[1]:>15,.0f}{columns[2]:>18,.0f}{columns[3]:>9,.0f}")


if __name__ == "__main__":
    main()
