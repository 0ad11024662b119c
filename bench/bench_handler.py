"""What the bridge costs next to the raw OTel SDK, on four message shapes, in two measures; p99 under outage.

Run from the repository root: ``.venv/bin/python bench/bench_handler.py`` (``--quick`` for CI, which
only proves the script still works; nothing here asserts a time).

Shapes (each as mcp's ``LoggingMessageNotificationParams``, all eight levels in turn):
  flat     FastMCP ``{"msg", "extra"}`` with five scalar keys
  nested   ``extra`` holding lists and maps (a request, tags, ids, a nested map of timings)
  text     ``data`` a plain 60-character string
  large    a 2 KB message with 20 keys

1. **Emit, per message, in one process.** Raw SDK: ``Logger.emit()`` with the fields already mapped
   (body = msg, attributes = extra), into the SDK's ``BatchLogRecordProcessor``. Handler:
   ``handler.handle(message)`` on the pipeline it builds (delivery queue), converting, redacting and
   counting. Both exporters drop what they get. This is the cost on the caller's thread: its CPU
   time (``time.thread_time``, so the batch threads' turns on the GIL are not counted), with the
   cyclic garbage collector paused during a round as ``timeit`` does (a collection's pause lands
   on whichever round triggers it; measure 2 counts collections). Median of interleaved rounds
   (the runs take turns, so the machine's drift falls on all alike), with min..max across rounds.
2. **Whole pipeline, CPU per exported record.** Every thread of the process (``time.process_time``):
   emit, batching, encoding and transport to a real OTLP receiver in another process (whose CPU is
   not counted), from the first emit until the last record was acknowledged. Raw SDK: its batch
   processor and OTLP exporter; handler: its own pipeline (delivery queue and senders). Median of
   rounds, min..max.
3. ``await handler(message)`` p99 over many calls with the collector down and with a collector that
   accepts and never answers.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mcp.types import LoggingMessageNotificationParams
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    LogRecordExporter,
    LogRecordExportResult,
)

from mcp_otel import OTelLogHandler
from mcp_otel.accounting import Accounting
from mcp_otel.delivery import Delivery, ExporterDestination
from mcp_otel.emitter import Emitter
from mcp_otel.levels import LEVELS, severity_for_level
from tests.support.otlp_receiver import OTLPReceiver, ReceiverProcess, free_port


def flat(index: int) -> Any:
    extra = {"request_id": f"r-{index}", "user": "ana", "duration_ms": index % 250, "cache_hit": index % 2 == 0, "ratio": 0.25}
    return {"msg": f"request {index} handled", "extra": extra}


def nested(index: int) -> Any:
    extra = {
        "request": {"method": "tools/call", "path": "/weather", "headers": {"accept": "application/json", "x-trace": f"t{index}"}},
        "tags": ["weather", "lisbon", "cache"],
        "ids": [index, index + 1, index + 2, index + 3],
        "timings": {"db_ms": 12.5, "api_ms": [3, 4, 5], "total_ms": 21},
    }
    return {"msg": f"request {index} handled", "extra": extra}


def text(index: int) -> Any:
    return f"fetched the forecast for Lisbon in {index % 250} ms from station LPPT"


def large(index: int) -> Any:
    sentence = "The forecast service answered after a retry, with wind from the north-west and light rain. "
    extra = {f"field_{k}": (f"value {k} for request {index}" if k % 3 else k * index) for k in range(20)}
    return {"msg": (f"{index} " + sentence * 23)[:2000], "extra": extra}


SHAPES: dict[str, Callable[[int], Any]] = {"flat": flat, "nested": nested, "text": text, "large": large}


def messages(shape: Callable[[int], Any], count: int) -> list[LoggingMessageNotificationParams]:
    return [
        LoggingMessageNotificationParams(level=LEVELS[index % 8], logger="bench.server", data=shape(index))
        for index in range(count)
    ]


def mapped(batch: Sequence[LoggingMessageNotificationParams]) -> list[tuple[Any, str, Any, Any]]:
    """The raw SDK's input: the same messages, fields already mapped."""
    fields = []
    for message in batch:
        data = message.data
        body, attributes = (data["msg"], data["extra"]) if isinstance(data, dict) else (data, None)
        fields.append((severity_for_level(message.level), message.level, body, attributes))
    return fields


class DroppingExporter(LogRecordExporter):
    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def raw_sdk_provider(exporter: LogRecordExporter) -> LoggerProvider:
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter, max_queue_size=1_000_000, max_export_batch_size=128))
    return provider


def handler_with_dropping_pipeline() -> OTelLogHandler:
    """The handler's own pipeline (the delivery queue) with a destination that drops what it gets."""
    accounting = Accounting()
    delivery = Delivery([ExporterDestination(DroppingExporter())], accounting, max_queue_records=1_000_000, max_queue_bytes=2**40)
    provider = LoggerProvider(shutdown_on_exit=False)
    provider.add_log_record_processor(delivery)
    handler = OTelLogHandler(provider)
    handler._emitter = Emitter(provider, source="bench", delivery=delivery, accounting=accounting)
    return handler


def emit_raw(logger: Any, fields: Sequence[tuple[Any, str, Any, Any]]) -> None:
    for severity, severity_text, body, attributes in fields:
        now = time.time_ns()
        logger.emit(timestamp=now, observed_timestamp=now, severity_number=severity, severity_text=severity_text,
                    body=body, attributes=attributes)


def per_message(count: int, repeats: int) -> dict[str, dict[str, list[float]]]:
    """Microseconds per message, per shape and route, one sample per round."""
    results: dict[str, dict[str, list[float]]] = {}
    for shape_name, shape in SHAPES.items():
        batch = messages(shape, count)
        fields = mapped(batch)
        raw_logger = raw_sdk_provider(DroppingExporter()).get_logger("bench.server")
        handler = handler_with_dropping_pipeline()
        runs: dict[str, Callable[[], None]] = {
            # Bound as defaults: each round's closures use that round's objects, whatever runs later.
            "raw SDK": lambda raw_logger=raw_logger, fields=fields: emit_raw(raw_logger, fields),
            "handler": lambda handler=handler, batch=batch: [handler.handle(m) for m in batch],  # type: ignore[func-returns-value]
        }
        samples: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(repeats):
            for name, run in runs.items():
                gc.collect()
                gc.disable()  # as timeit does: a collection's pause lands on whichever round triggers it
                started = time.thread_time()
                run()
                samples[name].append((time.thread_time() - started) / count * 1e6)
                gc.enable()
        results[shape_name] = samples
        handler.shutdown(1_000)
    return results


def pipeline_cpu(count: int, repeats: int) -> dict[str, dict[str, list[float]]]:
    """Process CPU microseconds per record acknowledged by a real gRPC receiver in another process."""
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as directory:
        for shape_name, shape in SHAPES.items():
            batch = messages(shape, count)
            fields = mapped(batch)
            samples: dict[str, list[float]] = {"raw SDK": [], "handler": []}
            for round_number in range(repeats):
                for route in samples:
                    out = Path(directory) / f"{shape_name}-{route}-{round_number}.jsonl"
                    with ReceiverProcess("grpc", out) as receiver:
                        started = time.process_time()
                        if route == "raw SDK":
                            provider = raw_sdk_provider(OTLPLogExporter(endpoint=receiver.endpoint, insecure=True))
                            emit_raw(provider.get_logger("bench.server"), fields)
                            provider.force_flush(120_000)
                            provider.shutdown()
                        else:
                            os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.endpoint
                            handler = OTelLogHandler()
                            for message in batch:
                                handler.handle(message)
                            handler.shutdown(timeout_millis=120_000)
                            assert handler.stats()["exported"] == count, handler.stats()
                        spent = time.process_time() - started
                        receiver.wait_for_count(count, timeout=120)
                    samples[route].append(spent / count * 1e6)
            results[shape_name] = samples
    os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    return results


def p99_under_outage(calls: int) -> dict[str, float]:
    results = {}
    with OTLPReceiver("grpc", respond="never") as never_answers:
        for name, port in (("collector down", free_port()), ("collector never answers", never_answers.port)):
            os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{port}"
            handler = OTelLogHandler()
            batch = messages(flat, calls)
            durations: list[float] = []

            async def run(handler: OTelLogHandler = handler, batch: Any = batch, durations: list[float] = durations) -> None:
                for message in batch:
                    started = time.perf_counter()
                    await handler(message)
                    durations.append(time.perf_counter() - started)

            asyncio.run(run())
            handler.shutdown(timeout_millis=1_000)
            results[name] = statistics.quantiles(durations, n=100)[98] * 1e6
    del os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"]
    return results


def print_table(title: str, results: dict[str, dict[str, list[float]]]) -> None:
    print(title)
    print(f"  {'shape':<8} {'raw SDK':>22} {'handler':>22} {'ratio':>7}  (median, min..max)")
    for shape_name, samples in results.items():
        raw, handler = statistics.median(samples["raw SDK"]), statistics.median(samples["handler"])
        cells = [f"{statistics.median(s):7.2f} ({min(s):6.2f}..{max(s):6.2f})" for s in (samples["raw SDK"], samples["handler"])]
        print(f"  {shape_name:<8} {cells[0]:>22} {cells[1]:>22} {handler / raw:6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: prove the script runs (CI)")
    parser.add_argument("--only", choices=("emit", "pipeline", "outage"), help="run one measure")
    arguments = parser.parse_args()
    if arguments.quick:
        count, repeats, pipeline_count, pipeline_repeats, calls = 1_000, 2, 500, 1, 500
    else:
        count, repeats, pipeline_count, pipeline_repeats, calls = 20_000, 15, 10_000, 5, 10_000
    for name in [name for name in os.environ if name.startswith(("OTEL_", "MCP_OTEL_"))]:
        del os.environ[name]
    logging.getLogger("opentelemetry").setLevel(logging.CRITICAL)  # outage retries are expected noise
    logging.getLogger("mcp_otel").setLevel(logging.ERROR)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}")
    if arguments.only in (None, "emit"):
        print_table(f"\n1. emit, microseconds per message ({count} messages x {repeats} interleaved rounds):", per_message(count, repeats))
    if arguments.only in (None, "pipeline"):
        print_table(
            f"\n2. whole pipeline to a real gRPC receiver, CPU microseconds per exported record "
            f"({pipeline_count} records x {pipeline_repeats} rounds):",
            pipeline_cpu(pipeline_count, pipeline_repeats),
        )
    if arguments.only in (None, "outage"):
        print(f"\n3. await handler(msg) p99 over {calls} calls during an outage:")
        for name, microseconds in p99_under_outage(calls).items():
            print(f"  {name:<48} {microseconds:7.1f} us")


if __name__ == "__main__":
    main()
