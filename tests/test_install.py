"""The install route the README documents: a wheel built from the checkout, in a fresh environment elsewhere.

The wheel is built with pip (the project's build backend, hatchling, comes from the index), installed
into a new virtual environment in a temporary directory, and the installed ``mcp-otel`` runs there
with the checkout out of reach (the working directory is the temporary directory).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

from tests.conftest import REPOSITORY


def _run(arguments: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith(("OTEL_", "PYTHON"))}
    return subprocess.run(arguments, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)


def test_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(REPOSITORY)], tmp_path)
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("mcp_otel-*.whl")

    environment = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=True).create(environment)
    python = environment / "bin" / "python"
    installed = _run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], tmp_path)
    assert installed.returncode == 0, installed.stderr
    mcp_otel = environment / "bin" / "mcp-otel"

    located = _run([str(python), "-c", "import mcp_otel, pathlib; print(pathlib.Path(mcp_otel.__file__).parent)"], tmp_path)
    assert Path(located.stdout.strip()).is_relative_to(environment)  # not the checkout's copy
    typed = _run([str(python), "-c", "import importlib.resources as r; print(r.files('mcp_otel').joinpath('py.typed').is_file())"], tmp_path)
    assert typed.stdout.strip() == "True"

    demo = _run([str(mcp_otel), "demo"], tmp_path, timeout=120)
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout.strip().endswith("8 of 8 records acknowledged by the collector")

    config = _run([str(mcp_otel), "host-config", "--name", "demo", "--", str(python), "-m", "mcp_otel.demo_server"], tmp_path)
    assert config.returncode == 0, config.stderr
    entry = json.loads(config.stdout)["mcpServers"]["demo"]
    assert entry["command"] == str(mcp_otel)
    assert entry["args"] == ["proxy", "--server-name", "demo", "--", str(python), "-m", "mcp_otel.demo_server"]
