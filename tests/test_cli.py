"""The ``mcp-otel`` command: ``--version`` and ``demo`` with and without a collector."""

from __future__ import annotations

import os
import re
import subprocess
import sys

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
