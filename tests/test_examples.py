"""The scripts in ``examples/`` run and export what they say, and the host configs are valid.

Each example runs as a subprocess twice (all of them at once, in a module fixture): with ``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at a real
OTLP receiver (the records that arrive are checked, server by server), and with no endpoint,
where it must print one readable line per record instead.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PYTHON, REPOSITORY, otel_environment
from tests.support.otlp_receiver import OTLPReceiver, ReceivedRecord
from tests.support.spec import MCP_LEVELS

EXAMPLES = REPOSITORY / "examples"
LEVELS = tuple(MCP_LEVELS)


@dataclass(frozen=True)
class ServerRecords:
    """What one server's records must look like: scope (its logger), levels in order, ``city`` attribute."""

    scope: str
    levels: tuple[str, ...]
    city: str


@dataclass(frozen=True)
class Example:
    script: str
    records_by_server: dict[str, ServerRecords]  # by the records' mcp.server.name
    traced: bool = False  # records carry the trace id the script prints as "span trace id:"

    @property
    def record_count(self) -> int:
        return sum(len(server.levels) for server in self.records_by_server.values())


WEATHER = {"weather": ServerRecords("weather.weather", LEVELS, "Lisbon")}

EXAMPLE_ROWS = [
    Example("mcp_client_session.py", WEATHER),
    Example("mcp_client.py", WEATHER),
    Example("fastmcp_client.py", WEATHER),
    Example(
        "two_servers.py",
        {
            "weather-lisbon": ServerRecords("weather-lisbon.weather", LEVELS, "Lisbon"),
            "weather-oslo": ServerRecords("weather-oslo.weather", LEVELS, "Oslo"),
        },
    ),
    Example(
        "trace_correlation.py",
        {"traced-weather": ServerRecords("traced.weather", ("info", "warning"), "Lisbon")},
        traced=True,
    ),
]
EXAMPLE_IDS = [row.script.removesuffix(".py") for row in EXAMPLE_ROWS]
SERVER_SCRIPTS = {"stderr_server.py", "traced_server.py", "weather_server.py"}  # started by an example or a README snippet
STDERR_EXAMPLE = "stderr_client.py"
CONSOLE_LINE_ANY_TEXT = re.compile(r"^\s*(\d+) (\w*)\s+\[([^\]]*)\] ")
# What stderr_client.py's server writes to standard error, as records: (number, text, scope, body).
STDERR_RECORDS = [
    (13, "WARNING", "weather.server", "no API key configured, using the free tier"),
    (9, "INFO", "weather.server", "looking up Lisbon"),
    (5, "debug", "weather.stations", "station answered"),
    (17, "", "mcp_otel", "RuntimeError: could not save the forecast cache"),
]

# ReadableConsoleExporter's line: severity number, severity text, [scope], body, attributes.
CONSOLE_LINE = re.compile(r"^\s*(\d+) (\w+)\s+\[([^\]]*)\] ")


@dataclass(frozen=True)
class ExampleRun:
    """One finished run of an example; ``receiver`` is None for the run without an endpoint."""

    returncode: int
    stdout: str
    stderr: str
    receiver: OTLPReceiver | None

    def assert_succeeded(self, script: str) -> None:
        assert self.returncode == 0, f"{script} exited {self.returncode}\n{self.stdout}\n{self.stderr}"


@pytest.fixture(scope="module")
def example_runs() -> Iterator[dict[tuple[str, str], ExampleRun]]:
    """Every example, once exporting to its own receiver ("otlp") and once printing ("console").

    All twenty-odd processes run at once: each spends most of its second or two importing.
    """
    with ExitStack() as stack, otel_environment():
        started: dict[tuple[str, str], tuple[subprocess.Popen[str], OTLPReceiver | None]] = {}
        for row in EXAMPLE_ROWS:
            receiver = stack.enter_context(OTLPReceiver("grpc"))  # the default protocol: only the endpoint is set
            for mode, environment, mode_receiver in (
                ("otlp", {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}, receiver),
                ("console", dict(os.environ), None),
            ):
                process = subprocess.Popen(
                    [PYTHON, str(EXAMPLES / row.script)],
                    cwd=REPOSITORY,
                    env=environment,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                stack.callback(_kill, process)
                started[(row.script, mode)] = (process, mode_receiver)
        runs = {}
        for key, (process, receiver) in started.items():
            stdout, stderr = process.communicate(timeout=90)
            runs[key] = ExampleRun(process.returncode, stdout, stderr, receiver)
        yield runs


def _kill(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


def _printed_trace_id(stdout: str) -> str:
    match = re.search(r"^span trace id:\s+([0-9a-f]{32})$", stdout, re.MULTILINE)
    assert match, f"no 'span trace id:' line in:\n{stdout}"
    return match.group(1)


@pytest.mark.parametrize("example", EXAMPLE_ROWS, ids=EXAMPLE_IDS)
def test_example_exports_to_the_otlp_endpoint(example_runs: dict[tuple[str, str], ExampleRun], example: Example) -> None:
    run = example_runs[(example.script, "otlp")]
    run.assert_succeeded(example.script)
    assert run.receiver is not None
    records = run.receiver.wait_for_records(example.record_count)
    assert len(records) == example.record_count, [record.body for record in records]
    assert not CONSOLE_LINE.search(run.stdout), "records were printed although an endpoint was set"

    by_server: dict[str, list[ReceivedRecord]] = {}
    for record in records:
        by_server.setdefault(record.attributes["mcp.server.name"], []).append(record)
    assert set(by_server) == set(example.records_by_server)
    for server_name, expected in example.records_by_server.items():
        server_records = sorted(by_server[server_name], key=lambda record: record.severity_number)
        assert tuple(record.severity_text for record in server_records) == expected.levels
        assert {record.scope_name for record in server_records} == {expected.scope}
        assert {record.attributes["city"] for record in server_records} == {expected.city}

    expected_trace_id = _printed_trace_id(run.stdout) if example.traced else ""
    assert {record.trace_id for record in records} == {expected_trace_id}


@pytest.mark.parametrize("example", EXAMPLE_ROWS, ids=EXAMPLE_IDS)
def test_example_prints_records_without_an_endpoint(
    example_runs: dict[tuple[str, str], ExampleRun], example: Example
) -> None:
    run = example_runs[(example.script, "console")]
    run.assert_succeeded(example.script)
    printed = [match.groups() for line in run.stdout.splitlines() if (match := CONSOLE_LINE.match(line))]
    expected = sorted(
        (level, server.scope) for server in example.records_by_server.values() for level in server.levels
    )
    assert sorted((text, scope) for _, text, scope in printed) == expected, run.stdout


def test_every_example_script_is_smoke_tested_and_documented() -> None:
    scripts = {path.name for path in EXAMPLES.glob("*.py")}
    assert scripts == {row.script for row in EXAMPLE_ROWS} | SERVER_SCRIPTS | {STDERR_EXAMPLE}
    for name in sorted(scripts):
        source = (EXAMPLES / name).read_text(encoding="utf-8")
        assert len(source.splitlines()) < 60, f"{name} is meant to stay short"
        docstring = ast.get_docstring(ast.parse(source)) or ""
        assert f"python examples/{name}" in docstring, f"{name}'s docstring does not say how to run it"


@pytest.mark.parametrize("exporting", [True, False], ids=["otlp", "console"])
def test_stderr_example(exporting: bool) -> None:
    with otel_environment(), OTLPReceiver("grpc") as receiver:
        environment = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint} if exporting else dict(os.environ)
        completed = subprocess.run(
            [PYTHON, str(EXAMPLES / STDERR_EXAMPLE)], cwd=REPOSITORY, env=environment, capture_output=True,
            text=True, timeout=90,
        )
        assert completed.returncode == 0, completed.stderr
        assert "tool result: Lisbon: 21.5 °C, sunny" in completed.stdout
        if not exporting:
            # A record whose line stated no level has no severity text: an empty column.
            printed = [match.groups() for line in completed.stdout.splitlines() if (match := CONSOLE_LINE_ANY_TEXT.match(line))]
            assert sorted((int(number), scope) for number, _, scope in printed) == sorted(
                (number, scope) for number, _, scope, _ in STDERR_RECORDS
            ), completed.stdout
            return
        records = sorted(receiver.wait_for_records(len(STDERR_RECORDS)), key=lambda record: record.severity_number)
    assert [
        (record.severity_number, record.severity_text, record.scope_name, record.body) for record in records
    ] == sorted(STDERR_RECORDS)
    for record in records:
        assert record.attributes["log.iostream"] == "stderr"
        assert record.attributes["mcp.server.name"] == "weather-stderr"  # the first line too: held until known
    assert records[-1].attributes["exception.type"] == "RuntimeError"
    assert "ConnectionError: cache server went away" in records[-1].attributes["exception.stacktrace"]


# (file, the --host that prints its shape, the service name in its env)
HOST_CONFIGS = [
    ("claude_desktop_config.json", "claude", "claude-desktop"),
    ("vscode_mcp.json", "vscode", "vscode"),
]
SAMPLE_VENV = "/home/you/mcp-otel/.venv/bin"


@pytest.mark.parametrize(("file_name", "host", "service"), HOST_CONFIGS, ids=[row[0] for row in HOST_CONFIGS])
def test_host_config_example_is_what_host_config_prints(file_name: str, host: str, service: str) -> None:
    """The checked-in sample is ``mcp-otel host-config``'s output, with this machine's paths as samples."""
    printed = subprocess.run(
        [PYTHON, "-m", "mcp_otel", "host-config", "--host", host, "--name", "weather",
         "--env", "OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317", "--env", f"OTEL_SERVICE_NAME={service}",
         "--", PYTHON, "-m", "mcp_otel.demo_server"],
        capture_output=True, text=True, cwd=REPOSITORY, timeout=60, check=True,
    ).stdout
    bin_directory = str(Path(PYTHON).parent)
    generated = json.loads(printed.replace(bin_directory, SAMPLE_VENV).replace(
        json.dumps(str(Path(PYTHON).resolve()))[1:-1], f"{SAMPLE_VENV}/python"))
    sample = json.loads((EXAMPLES / "host_config" / file_name).read_text(encoding="utf-8"))
    assert generated == sample
