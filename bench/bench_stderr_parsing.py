"""How fast StderrParser reads each format: microseconds per line and lines per second.

Run from the repository root: ``.venv/bin/python bench/bench_stderr_parsing.py`` (``--quick`` only
proves the script still works; nothing here asserts a time).

1. Per format: a stream of distinct lines of one format (a record each, or the continuation lines
   of one record for the traceback and Rich rows), fed in 64 KiB chunks, then close(). Each row is
   timed ``--repeats`` times, rows interleaved so that machine drift spreads over all of them; the
   table shows the median and the spread (min..max) in microseconds per line, after one warm-up
   round that is not counted.
2. Floods of 100,000 lines: a 100,000-line traceback, and 100,000 stdlib log lines. Next to them,
   the time the writer itself spends: CPython's logging formatting and writing the same 100,000
   lines to /dev/null, the least a server pays to produce them.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcp_otel.stderr_parsing import StderrParser

CHUNK = 65_536


def rich(index: int) -> str:
    message = f"Processing request of type CallToolRequest number {index}"
    return f"[11/25/26 04:00:12] INFO     {message:<51} server.py:{index % 900 + 100}"


def rich_ansi(index: int) -> str:
    return (
        "\x1b[2;36m[11/25/26 04:00:12]\x1b[0m\x1b[2;36m \x1b[0m\x1b[34mINFO    \x1b[0m "
        f"Processing request \x1b[1;36m{index}\x1b[0m                     "
        "\x1b]8;id=1;file:///srv/server.py\x1b\\\x1b[2mserver.py\x1b[0m\x1b]8;;\x1b\\\x1b[2m:\x1b[0m\x1b[2m664\x1b[0m"
    )


FORMATS: dict[str, Callable[[int], str]] = {
    "unrecognised text": lambda i: f"Listening on stdio, request {i} handled",
    "plain LEVEL: prefix": lambda i: f"WARNING: request {i} was slow",
    "basicConfig LEVEL:name:msg": lambda i: f"INFO:mcp.server.lowlevel.server:Processing request of type {i}",
    "stdlib asctime - name - level": lambda i: f"2026-11-25 04:00:12,{i % 1000:03d} - weather - INFO - request {i}",
    "loguru": lambda i: f"2026-11-25 04:00:12.{i % 1000:03d} | INFO     | app.server:handle:{i % 500} - request {i}",
    "Rich (mcp SDK, FastMCP)": rich,
    "Rich with ANSI + OSC 8": rich_ansi,
    "structlog console": lambda i: f"2026-11-25T04:00:12.{i % 1000000:06d}Z [info     ] request handled     id={i}",
    "rust tracing": lambda i: f"2026-11-25T04:00:12.{i % 1000000:06d}Z  INFO my_app::server: request {i}",
    "JSON pino": lambda i: (
        f'{{"level":30,"time":1764043212{i % 1000:03d},"pid":7,"hostname":"vm","name":"srv","msg":"request {i}"}}'
    ),
    "JSON python-json-logger": lambda i: (
        f'{{"asctime": "2026-11-25 04:00:12,345", "levelname": "INFO", "name": "srv", "message": "request {i}", '
        f'"funcName": "main", "lineno": {i % 500}}}'
    ),
    "logfmt (Go slog text)": lambda i: f'time=2026-11-25T04:00:12.364Z level=INFO msg="request handled" id={i} ok=true',
    "traceback frames (one record)": lambda i: f'  File "/srv/app/module_{i % 50}.py", line {i % 900}, in handler',
    "Node stack frames (one record)": lambda i: f"    at handler{i} (/srv/app/index.js:{i % 900}:17)",
}


def stream_of(make_line: Callable[[int], str], count: int, head: str = "") -> bytes:
    return (head + "".join(make_line(index) + "\n" for index in range(count))).encode()


def parse_seconds(data: bytes) -> tuple[float, int]:
    parser = StderrParser()
    start = time.perf_counter()
    records = 0
    for offset in range(0, len(data), CHUNK):
        records += len(parser.feed(data[offset : offset + CHUNK], 0.0))
    records += len(parser.close())
    return time.perf_counter() - start, records


HEADS = {
    "traceback frames (one record)": "ERROR:app:failed\nTraceback (most recent call last):\n",
    "Node stack frames (one record)": "TypeError: fetch failed\n",
}


def per_format(lines: int, repeats: int) -> None:
    streams = {name: stream_of(make, lines, HEADS.get(name, "")) for name, make in FORMATS.items()}
    timings: dict[str, list[float]] = {name: [] for name in FORMATS}
    records: dict[str, int] = {}
    for data in streams.values():  # warm-up round, not counted (caches, allocator)
        parse_seconds(data)
    for _ in range(repeats):
        for name, data in streams.items():
            seconds, records[name] = parse_seconds(data)
            timings[name].append(seconds / lines * 1e6)
    print(f"\n1. Per format: {lines:,} lines each, {repeats} runs, microseconds per line")
    print(f"{'format':34} {'median us':>9} {'spread (min..max)':>19} {'lines/s':>11} {'records':>8}")
    for name, samples in timings.items():
        median = statistics.median(samples)
        spread = f"{min(samples):.2f}..{max(samples):.2f}"
        print(f"{name:34} {median:9.2f} {spread:>19} {1e6 / median:11,.0f} {records[name]:8,}")


def writer_seconds(count: int) -> float:
    """CPython logging formatting and writing ``count`` lines to /dev/null (what a server pays)."""
    logger = logging.getLogger("bench.writer")
    logger.propagate = False
    with open(os.devnull, "w") as sink:
        handler = logging.StreamHandler(sink)
        handler.setFormatter(logging.Formatter("%(asctime)s - %(name)s - %(levelname)s - %(message)s"))
        logger.addHandler(handler)
        try:
            start = time.perf_counter()
            for index in range(count):
                logger.warning("request %d handled", index)
            return time.perf_counter() - start
        finally:
            logger.removeHandler(handler)


def floods(count: int, repeats: int) -> None:
    traceback = stream_of(FORMATS["traceback frames (one record)"], count, HEADS["traceback frames (one record)"])
    traceback += b"RecursionError: maximum recursion depth exceeded\n"
    log_lines = stream_of(FORMATS["stdlib asctime - name - level"], count)
    rows: list[tuple[str, Callable[[], float]]] = [
        (f"parse a {count:,}-line traceback", lambda: parse_seconds(traceback)[0]),
        (f"parse {count:,} stdlib log lines", lambda: parse_seconds(log_lines)[0]),
        (f"write {count:,} lines with logging", lambda: writer_seconds(count)),
    ]
    samples: dict[str, list[float]] = {name: [] for name, _ in rows}
    for _ in range(repeats):
        for name, run in rows:
            samples[name].append(run())
    print(f"\n2. Floods of {count:,} lines, {repeats} runs, seconds")
    print(f"{'':34} {'median s':>9} {'spread (min..max)':>19} {'lines/s':>11}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:34} {median:9.3f} {f'{min(values):.3f}..{max(values):.3f}':>19} {count / median:11,.0f}")


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--quick", action="store_true", help="tiny sizes: only proves the script runs")
    arguments.add_argument("--repeats", type=int, default=7)
    options = arguments.parse_args()
    lines, flood, repeats = (200, 1_000, 1) if options.quick else (20_000, 100_000, options.repeats)
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    per_format(lines, repeats)
    floods(flood, max(1, repeats // 2))


if __name__ == "__main__":
    main()
