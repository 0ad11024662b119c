"""The ``mcp-otel`` command: ``--version`` and ``demo`` with and without a collector."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

import pytest

from mcp_otel import __version__
from tests.conftest import REPOSITORY
from tests.support.otlp_receiver import OTLPReceiver
from tests.support.spec import SEVERITY_NUMBER_BY_MCP_LEVEL

SPEC_SEVERITY = SEVERITY_NUMBER_BY_MCP_LEVEL


def _run_cli(*arguments: str, **variables: str) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    environment.update(variables)
    return subprocess.run(
        [sys.executable, "-m", "mcp_otel.cli", *arguments],
        env=environment, capture_output=True, text=True, timeout=120, cwd=REPOSITORY,
    )


def test_version() -> None:
    completed = _run_cli("--version")
    assert completed.returncode == 0
    assert completed.stdout.strip() == f"mcp-otel {__version__}"


def test_demo_without_collector_prints_all_eight_levels() -> None:
    completed = _run_cli("demo")
    assert completed.returncode == 0, completed.stderr
    printed = re.findall(r"^\s*(\d+) (\w+)\s+\[mcp-otel-demo\.weather\] (\w+) report for Lisbon", completed.stdout, re.M)
    assert {text: int(number) for number, text, _ in printed} == SPEC_SEVERITY
    assert all(text == level for _, text, level in printed)
    assert completed.stdout.strip().endswith("tool result: logged 8 messages for Lisbon\n8 of 8 records acknowledged by the collector")


def test_demo_with_endpoint_sends_to_the_collector() -> None:
    with OTLPReceiver("http/protobuf") as receiver:
        completed = _run_cli(
            "demo", "--level", "warning", "--city", "Faro",
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        )
        assert completed.returncode == 0, completed.stderr
        records = receiver.wait_for_records(5)
    # --level warning: the server sends warning and above only.
    assert sorted(record.severity_number for record in records) == [13, 17, 18, 19, 21]
    assert {record.body for record in records} == {f"{level} report for Faro" for level in
                                                   ("warning", "error", "critical", "alert", "emergency")}
    assert "report for" not in completed.stdout


BAD_OPTIONS = [
    ("negative flush timeout", ["proxy", "--flush-timeout", "-1", "--", "true"], "positive number of seconds"),
    ("zero flush timeout", ["proxy", "--flush-timeout", "0", "--", "true"], "positive number of seconds"),
    ("infinite flush timeout", ["proxy", "--flush-timeout", "inf", "--", "true"], "positive number of seconds"),
    ("flush timeout not a number", ["proxy", "--flush-timeout", "soon", "--", "true"], "positive number of seconds"),
    ("flush timeout past an hour", ["proxy", "--flush-timeout", "1e10", "--", "true"], "at most 3600"),
    ("empty server name", ["proxy", "--server-name", " ", "--", "true"], "non-empty server name"),
    ("server name with a newline", ["proxy", "--server-name", "a\nb", "--", "true"], "non-empty server name"),
    ("empty city", ["demo", "--city", ""], "non-empty city"),
    ("unknown proxy level", ["proxy", "--log-level", "verbose", "--", "true"], "invalid choice: 'verbose'"),
    ("unknown demo level", ["demo", "--level", "WARNING"], "invalid choice: 'WARNING'"),
    ("no command at all", [], "required: COMMAND"),
]


@pytest.mark.parametrize(("arguments", "message"), [row[1:] for row in BAD_OPTIONS], ids=[row[0] for row in BAD_OPTIONS])
def test_a_bad_option_exits_2_naming_it(arguments: list[str], message: str) -> None:
    completed = _run_cli(*arguments)
    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr


def test_every_command_and_option_is_described_in_help() -> None:
    from mcp_otel.cli import _build_parser

    parser = _build_parser()
    (commands,) = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    for name, subparser in commands.choices.items():
        assert subparser.description, f"{name} has no description"
        for action in subparser._actions:
            if action.dest not in ("help", "server_command"):
                assert action.help, f"{name} {action.option_strings} has no help"
    assert "Start the bundled example MCP server" in _run_cli("demo", "--help").stdout


def test_demo_validates_the_environment_without_an_endpoint() -> None:
    completed = _run_cli("demo", OTEL_BLRP_MAX_QUEUE_SIZE="lots")
    assert completed.returncode == 2
    assert "OTEL_BLRP_MAX_QUEUE_SIZE" in completed.stderr
    assert "report for" not in completed.stdout  # nothing started


def test_demo_exits_1_when_the_collector_acknowledged_nothing() -> None:
    from tests.support.otlp_receiver import free_port

    completed = _run_cli(
        "demo", OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{free_port()}", OTEL_EXPORTER_OTLP_TIMEOUT="1000"
    )
    assert completed.returncode == 1, completed.stderr
    assert completed.stdout.strip().endswith("0 of 8 records acknowledged by the collector")
    assert "last export failure: connection refused (http://127.0.0.1:" in completed.stderr  # the cause, named
