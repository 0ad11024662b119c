"""What the bridge costs: microseconds per message next to the raw SDK, p99 under outage, records per second.

Run from the repository root: ``.venv/bin/python bench/bench_handler.py`` (``--quick`` for CI,
which only proves the script still works; nothing here asserts a time).

1. Per message, in one process, on the same messages (FastMCP ``{"msg", "extra"}`` payloads with
   five extra keys, all eight levels, as mcp's ``LoggingMessageNotificationParams``), each into a
   ``BatchLogRecordProcessor`` whose exporter drops batches:
   * raw SDK floor: ``Logger.emit()`` with the fields already mapped;
   * FastMCP's default handler -> stdlib ``logging`` -> the SDK's ``LoggingHandler``;
   * ``await OTelLogHandler(...)(message)``, and its synchronous ``handler.handle(message)`` (the
     difference is the coroutine every async MCP callback costs).
2. ``await handler(message)`` p99 over 10,000 calls with the collector down and with a collector
   that accepts and never answers.
3. Records per second through a real OTLP receiver over gRPC and HTTP, raw SDK and handler.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcp.types import LoggingMessageNotificationParams
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)

from mcp_otel import OTelLogHandler
from mcp_otel.levels import severity_for_level
from tests.support.otlp_receiver import OTLPReceiver, free_port

LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]


class DroppingExporter(LogRecordExporter):
    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def messages(count: int) -> list[LoggingMessageNotificationParams]:
    return [
        LoggingMessageNotificationParams(
            level=LEVELS[index % 8],  # type: ignore[arg-type]
            logger="bench.server",
            data={
                "msg": f"request {index} handled",
                "extra": {"request_id": f"r-{index}", "user": "ana", "duration_ms": index % 250,
                          "cache_hit": index % 2 == 0, "ratio": 0.25},
            },
        )
        for index in range(count)
    ]


def dropping_provider() -> LoggerProvider:
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(BatchLogRecordProcessor(DroppingExporter(), max_queue_size=1_000_000))
    return provider


def median_microseconds(runs: dict[str, Callable[[], None]], count: int, repeats: int) -> dict[str, float]:
    """Median time per message of each run over ``repeats`` rounds. The runs take turns, so drift
    in the machine's speed falls on all alike; the median rather than the best, because the batch
    processor's own thread wakes at moments no run chooses (best-of swung 10.8-14.2 us here)."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            samples[name].append((time.perf_counter() - started) / count * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


def per_message(count: int, repeats: int) -> dict[str, float]:
    batch = messages(count)
    raw_logger = dropping_provider().get_logger("bench.server")
    mapped = [(severity_for_level(m.level), m.level, m.data["msg"], m.data["extra"]) for m in batch]

    def raw_floor() -> None:
        for severity, text, body, extra in mapped:
            now = time.time_ns()
            raw_logger.emit(timestamp=now, observed_timestamp=now, severity_number=severity,
                            severity_text=text, body=body, attributes=extra)

    from fastmcp.client.logging import default_log_handler

    route_logger = logging.getLogger("fastmcp.client.from_server")
    route_logger.handlers[:] = [LoggingHandler(logger_provider=dropping_provider())]
    route_logger.setLevel(logging.DEBUG)
    route_logger.propagate = False
    handler = OTelLogHandler(logger_provider=dropping_provider())
    loop = asyncio.new_event_loop()

    async def fastmcp_route() -> None:
        for message in batch:
            await default_log_handler(message)

    async def this_handler() -> None:
        for message in batch:
            await handler(message)

    results = median_microseconds(
        {
            "raw SDK floor (Logger.emit, fields mapped)": raw_floor,
            "FastMCP default -> logging -> LoggingHandler": lambda: loop.run_until_complete(fastmcp_route()),
            "mcp_otel OTelLogHandler (await handler(msg))": lambda: loop.run_until_complete(this_handler()),
            "mcp_otel handler.handle(msg) (no coroutine)": lambda: [handler.handle(message) for message in batch],
        },
        count,
        repeats,
    )
    loop.close()
    return results


def p99_under_outage(calls: int) -> dict[str, float]:
    results = {}
    with OTLPReceiver("grpc", respond="never") as never_answers:
        for name, port in (("collector down", free_port()), ("collector never answers", never_answers.port)):
            os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{port}"
            handler = OTelLogHandler()
            batch = messages(calls)
            durations = []

            async def run() -> None:
                for message in batch:
                    started = time.perf_counter()
                    await handler(message)
                    durations.append(time.perf_counter() - started)

            asyncio.run(run())
            handler.shutdown(timeout_millis=1_000)
            results[name] = statistics.quantiles(durations, n=100)[98] * 1e6
    del os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"]
    return results


def records_per_second(count: int) -> dict[str, float]:
    results = {}
    for protocol in ("grpc", "http/protobuf"):
        for route in ("raw SDK", "OTelLogHandler"):
            with OTLPReceiver(protocol) as receiver:  # type: ignore[arg-type]
                os.environ["OTEL_EXPORTER_OTLP_PROTOCOL"] = protocol
                os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.endpoint
                batch = messages(count)
                handler = OTelLogHandler()
                started = time.perf_counter()
                if route == "raw SDK":
                    logger = handler.logger_provider.get_logger("bench.server")
                    for m in batch:
                        now = time.time_ns()
                        logger.emit(timestamp=now, observed_timestamp=now, severity_number=severity_for_level(m.level),
                                    severity_text=m.level, body=m.data["msg"], attributes=m.data["extra"])
                else:
                    for m in batch:
                        handler.handle(m)
                handler.shutdown(timeout_millis=120_000)
                receiver.wait_for_records(count, timeout=120)
                results[f"{route} over {protocol}"] = count / (time.perf_counter() - started)
    for name in ("OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        del os.environ[name]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: prove the script runs (CI)")
    arguments = parser.parse_args()
    count, repeats, calls, end_to_end = (2_000, 2, 1_000, 1_000) if arguments.quick else (20_000, 15, 10_000, 20_000)
    logging.getLogger("opentelemetry").setLevel(logging.CRITICAL)  # outage retries are expected noise
    logging.getLogger("mcp_otel").setLevel(logging.ERROR)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}")
    print(f"\nmicroseconds per message ({count} messages, median of {repeats} interleaved rounds):")
    floor = None
    for name, microseconds in per_message(count, repeats).items():
        floor = floor or microseconds
        print(f"  {name:<48} {microseconds:7.2f} us  ({microseconds / floor:.2f}x floor)")
    print(f"\nawait handler(msg) p99 over {calls} calls during an outage:")
    for name, microseconds in p99_under_outage(calls).items():
        print(f"  {name:<48} {microseconds:7.1f} us")
    print(f"\nend to end, {end_to_end} records into a real OTLP receiver:")
    for name, rate in records_per_second(end_to_end).items():
        print(f"  {name:<48} {rate:9.0f} records/s")


if __name__ == "__main__":
    main()
