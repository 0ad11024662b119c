"""The proxy under a log flood: does the host's traffic wait for telemetry?

Run from the repository root: ``.venv/bin/python bench/bench_proxy_flood.py`` (``--quick`` for CI,
which only proves it runs; nothing here asserts a time).

A server (``tests/servers/flood_server.py``) answers one ``tools/call`` by writing N log
notifications as fast as the pipe takes them, then the result. Meanwhile the host sends a ``ping``
every 2 ms and times each answer. Measured directly and through ``mcp-otel proxy`` exporting to a
live OTLP receiver in another process: the flood's duration (the tools/call round trip) and the
pings' round trip (p50, p99, max). Targets (issue 12): proxied p99 under 10 ms, and the flood at
most 3x its direct time. Median of rounds, min..max.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from tests.support.otlp_receiver import ReceiverProcess  # noqa: E402

FLOOD_SERVER = str(REPOSITORY / "tests" / "servers" / "flood_server.py")
_ANSWER_ID = re.compile(rb'"id": ?("ping-\d+"|"flood"|0)(?=\s*[,}])')


def run_once(command: list[str], environment: dict[str, str], count: int, stderr: Any) -> tuple[float, list[float]]:
    """One session: the flood's seconds, and the pings' round trips in ms."""
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=environment, cwd=REPOSITORY
    )
    assert process.stdin is not None and process.stdout is not None
    sent: dict[object, float] = {}
    answered: dict[object, float] = {}
    flood_done = threading.Event()
    lock = threading.Lock()

    def read() -> None:
        # Raw reads and one regular-expression scan per read: a reader that parsed 200k lines
        # would itself be the bottleneck, and its GIL would delay the ping answers it times.
        assert process.stdout is not None
        fd = process.stdout.fileno()
        rest = b""
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return
            now = time.perf_counter()
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            data, rest = data[:cut], data[cut:]
            for match in _ANSWER_ID.finditer(data):
                answer_id: object = json.loads(match.group(1))
                with lock:
                    answered[answer_id] = now
                if answer_id == "flood":
                    flood_done.set()

    def send(message: dict[str, object]) -> None:
        assert process.stdin is not None
        with lock:
            sent[message["id"]] = time.perf_counter()
        process.stdin.write(json.dumps(message).encode() + b"\n")
        process.stdin.flush()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                                                                       "clientInfo": {"name": "bench", "version": "1"}}})
    while 0 not in answered:
        time.sleep(0.001)
    process.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    send({"jsonrpc": "2.0", "id": "flood", "method": "tools/call", "params": {"name": "flood", "arguments": {"count": count}}})
    ping = 0
    while not flood_done.wait(0.002):
        ping += 1
        send({"jsonrpc": "2.0", "id": f"ping-{ping}", "method": "ping"})
    time.sleep(0.1)
    process.stdin.close()
    process.wait(60)
    reader.join(5)
    with lock:
        flood_seconds = answered["flood"] - sent["flood"]
        round_trips = [(answered[key] - sent[key]) * 1000 for key in sent if str(key).startswith("ping") and key in answered]
    return flood_seconds, round_trips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small flood, one round: prove the script runs (CI)")
    arguments = parser.parse_args()
    count, rounds = (20_000, 1) if arguments.quick else (200_000, 5)
    base = {name: value for name, value in os.environ.items() if not name.startswith(("OTEL_", "MCP_OTEL_"))}
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as directory, ReceiverProcess("grpc", Path(directory) / "records.jsonl") as collector:
        proxied_environment = {**base, "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint}
        routes = {
            "direct": ([sys.executable, FLOOD_SERVER], base),
            "proxied": ([sys.executable, "-m", "mcp_otel", "proxy", "--", sys.executable, FLOOD_SERVER], proxied_environment),
        }
        delivered: list[int] = []
        drop_summaries: list[str] = []
        for _ in range(rounds):
            for name, (command, environment) in routes.items():
                before = len(collector.records()) if name == "proxied" else 0
                with tempfile.TemporaryFile() as stderr:
                    flood, round_trips = run_once(command, environment, count, stderr)
                    stderr.seek(0)
                    summaries = [line for line in stderr.read().decode(errors="replace").splitlines() if "dropped" in line]
                if name == "proxied":
                    # The proxy has exited: what it exported is in the collector's file by now.
                    delivered.append(len(collector.records()) - before)
                    drop_summaries.append(summaries[-1].strip() if summaries else "no drops reported")
                quantiles = statistics.quantiles(round_trips, n=100, method="inclusive") if len(round_trips) > 1 else [round_trips[0]] * 99
                sample = results.setdefault(name, {"flood s": [], "ping p50 ms": [], "ping p99 ms": [], "ping max ms": []})
                sample["flood s"].append(flood)
                sample["ping p50 ms"].append(quantiles[49])
                sample["ping p99 ms"].append(quantiles[98])
                sample["ping max ms"].append(max(round_trips))
    print(f"a flood of {count} log notifications, pings every 2 ms ({rounds} rounds; median, min..max):")
    print(f"  {'':<9}" + "".join(f"{column:>24}" for column in results["direct"]))
    for name, sample in results.items():
        cells = [f"{statistics.median(v):8.2f} ({min(v):6.2f}..{max(v):6.2f})" for v in sample.values()]
        print(f"  {name:<9}" + "".join(f"{cell:>24}" for cell in cells))
    ratio = statistics.median(results["proxied"]["flood s"]) / statistics.median(results["direct"]["flood s"])
    print(f"  flood time proxied / direct: {ratio:.2f}x")
    print(f"  records the collector received per proxied round (of {count}): {delivered}")
    print(f"  the proxy's last drop summary: {drop_summaries[-1]}")


if __name__ == "__main__":
    main()
