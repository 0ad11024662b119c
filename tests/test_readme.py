"""Every fenced Python block of the README runs as it stands, from the repository root.

Each block runs as its own script (all at once) against its own real OTLP receiver: a client
snippet must exit 0 and deliver the weather server's records; a server snippet (it calls
``server.run()``) must start and end cleanly at the end of its input.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from typing import NamedTuple

import pytest

from tests.conftest import PYTHON, REPOSITORY
from tests.support.otlp_receiver import OTLPReceiver

README = (REPOSITORY / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"^```python\n(.*?)^```$", README, re.MULTILINE | re.DOTALL)
# What examples/weather_server.py logs, by body.
WEATHER_BODIES = re.compile(r"looking up \w+|station answered|no station under water")
# What examples/stderr_server.py writes to standard error, by body: four records a run.
STDERR_BODIES = re.compile(
    r"no API key configured, using the free tier|looking up \w+|station answered"
    r"|RuntimeError: could not save the forecast cache"
)


class BlockRun(NamedTuple):
    returncode: int
    output: str
    receiver: OTLPReceiver


def _is_server(block: str) -> bool:
    return "server.run()" in block


@pytest.fixture(scope="module")
def block_runs() -> Iterator[list[BlockRun]]:
    with ExitStack() as stack:
        started = []
        for block in PYTHON_BLOCKS:
            receiver = stack.enter_context(OTLPReceiver("grpc"))
            environment = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
            environment.update(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, OTEL_BLRP_SCHEDULE_DELAY="50")
            process = subprocess.Popen(
                [PYTHON, "-c", block], cwd=REPOSITORY, env=environment, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )
            stack.callback(lambda process=process: process.poll() is None and process.kill())
            started.append((process, receiver))
        runs = []
        for process, receiver in started:
            output, _ = process.communicate(timeout=120)
            runs.append(BlockRun(process.returncode, output, receiver))
        yield runs


def test_the_readme_has_python_blocks() -> None:
    assert len(PYTHON_BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)), ids=[f"block {i + 1}" for i in range(len(PYTHON_BLOCKS))])
def test_readme_block_runs(block_runs: list[BlockRun], index: int) -> None:
    run = block_runs[index]
    assert run.returncode == 0, f"README python block {index + 1} failed:\n{PYTHON_BLOCKS[index]}\n---\n{run.output}"
    if _is_server(PYTHON_BLOCKS[index]):
        return
    if "examples/stderr_server.py" in PYTHON_BLOCKS[index]:
        # Each run of the standard-error server: four records, named after the server.
        expected = 4 * PYTHON_BLOCKS[index].count('call_tool("forecast"')
        records = run.receiver.wait_for_records(expected)
        assert len(records) == expected, (run.output, [record.body for record in records])
        assert all(STDERR_BODIES.fullmatch(str(record.body)) for record in records), [r.body for r in records]
        assert {(r.attributes["log.iostream"], r.attributes["mcp.server.name"]) for r in records} == {
            ("stderr", "weather-stderr")
        }
        return
    # Each forecast call logs "looking up" (info) and "station answered" (debug).
    calls = PYTHON_BLOCKS[index].count('call_tool("forecast"') + PYTHON_BLOCKS[index].count("for city in (\"Lisbon\", \"Oslo\")")
    expected = calls * (1 if 'level="info"' in PYTHON_BLOCKS[index] else 2)
    records = run.receiver.wait_for_records(expected)
    assert len(records) == expected, (run.output, [record.body for record in records])
    assert all(WEATHER_BODIES.fullmatch(str(record.body)) for record in records), [r.body for r in records]
    assert all(record.attributes.get("city") for record in records)
