"""``mcp-otel host-config``: entries with absolute paths, in each host's shape, merged into files safely."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mcp_otel.errors import ConfigurationError
from mcp_otel.host_config import build_entry, mcp_otel_command, resolve_server_command, write_entry
from tests.conftest import PYTHON, REPOSITORY

# (host, the key holding the servers, what each entry has besides command, args and env)
SHAPES = [("claude", "mcpServers", {}), ("cursor", "mcpServers", {}), ("vscode", "servers", {"type": "stdio"})]


@pytest.mark.parametrize(("host", "section", "extra"), SHAPES, ids=[row[0] for row in SHAPES])
def test_entry_shape(host: Any, section: str, extra: dict[str, str]) -> None:
    configuration = build_entry(host, "weather", ["/usr/bin/python3", "/srv/weather.py"], environment={"A": "1"})
    (entry,) = configuration[section].values()
    assert list(configuration) == [section]
    assert {key: entry[key] for key in extra} == extra
    assert entry["env"] == {"A": "1"}
    assert entry["args"][-5:] == ["--server-name", "weather", "--", "/usr/bin/python3", "/srv/weather.py"]
    assert Path(entry["command"]).is_absolute()


def test_mcp_otel_command_is_this_installations_script() -> None:
    (command,) = mcp_otel_command()  # the test environment installed the console script
    assert command == str(Path(sys.executable).absolute().parent / "mcp-otel")
    completed = subprocess.run([command, "--version"], capture_output=True, text=True, timeout=60)
    assert completed.stdout.startswith("mcp-otel ")


RESOLVE_ROWS = [
    # (row id, command as typed, expected)
    ("relative script made absolute", ["examples/weather_server.py"], [str(REPOSITORY / "examples" / "weather_server.py")]),
    ("options and modules left alone", ["-m", "mcp_otel.demo_server"], ["-m", "mcp_otel.demo_server"]),
    ("a word that is no file left alone", ["--city=Lisbon"], ["--city=Lisbon"]),
]


@pytest.mark.parametrize(("arguments", "expected"), [row[1:] for row in RESOLVE_ROWS], ids=[row[0] for row in RESOLVE_ROWS])
def test_server_arguments(arguments: list[str], expected: list[str]) -> None:
    assert resolve_server_command([PYTHON, *arguments], cwd=REPOSITORY)[1:] == expected


def test_python_becomes_the_interpreter_it_starts() -> None:
    (program,) = resolve_server_command(["python3"])
    started = subprocess.run(["python3", "-c", "import sys; print(sys.executable)"], capture_output=True, text=True)
    assert program == started.stdout.strip()
    assert Path(program).is_absolute()


def test_a_program_not_on_the_path_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match="'no-such-program-here' is not a command on this PATH"):
        resolve_server_command(["no-such-program-here"])


def test_write_merges_keeps_other_servers_and_makes_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    original = {"mcpServers": {"other": {"command": "x"}, "weather": {"command": "old"}}, "theme": "dark"}
    path.write_text(json.dumps(original), encoding="utf-8")
    backup = write_entry(path, build_entry("claude", "weather", ["/usr/bin/python3", "w.py"]))
    written = json.loads(path.read_text(encoding="utf-8"))
    assert backup == tmp_path / "claude_desktop_config.json.bak"
    assert json.loads(backup.read_text(encoding="utf-8")) == original
    assert written["theme"] == "dark"
    assert written["mcpServers"]["other"] == {"command": "x"}
    assert written["mcpServers"]["weather"]["args"][-2:] == ["/usr/bin/python3", "w.py"]


def test_write_creates_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / ".vscode" / "mcp.json"
    assert write_entry(path, build_entry("vscode", "weather", ["/usr/bin/python3"])) is None
    assert json.loads(path.read_text(encoding="utf-8"))["servers"]["weather"]["type"] == "stdio"


@pytest.mark.parametrize(
    "content",
    ['{"servers": {} // a comment VS Code allows\n}', "[1, 2]", '{"mcpServers": []}'],
    ids=["JSON with comments", "not an object", "servers not an object"],
)
def test_write_refuses_a_file_it_cannot_merge_and_leaves_it_unchanged(tmp_path: Path, content: str) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError, match="host-config: "):
        write_entry(path, build_entry("claude", "weather", ["/usr/bin/python3"]))
    assert path.read_text(encoding="utf-8") == content
    assert not (tmp_path / "mcp.json.bak").exists()


def _cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "mcp_otel", *arguments], capture_output=True, text=True, cwd=REPOSITORY, timeout=60)


def test_cli_writes_the_file_and_names_the_backup(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    path.write_text("{}", encoding="utf-8")
    completed = _cli("host-config", "--write", str(path), "--", PYTHON, "examples/weather_server.py")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == f"wrote server 'weather_server' to {path} (the previous file is {path}.bak)"
    entry = json.loads(path.read_text(encoding="utf-8"))["mcpServers"]["weather_server"]
    assert entry["args"][-2:] == [PYTHON, str(REPOSITORY / "examples" / "weather_server.py")]


CLI_ERRORS = [
    ("no command", ["host-config"], "no server command given"),
    ("unknown program", ["host-config", "--", "no-such-program-here"], "not a command on this PATH"),
    ("env name unset", ["host-config", "--env", "MCP_OTEL_SURELY_UNSET", "--", PYTHON], "is not set in this environment"),
    ("env name not a name", ["host-config", "--env", "1=2", "--", PYTHON], "where NAME is letters, digits and _"),
    ("env name with a blank", ["host-config", "--env", "A B=2", "--", PYTHON], "where NAME is letters, digits and _"),
    ("empty entry name", ["host-config", "--name", "", "--", PYTHON], "non-empty name"),
    ("write to a directory", ["host-config", "--write", "/tmp", "--", PYTHON], "is a directory"),
    ("write where it cannot", ["host-config", "--write", "/proc/mcp-otel-test.json", "--", PYTHON], "cannot write"),
]


@pytest.mark.parametrize(("arguments", "message"), [row[1:] for row in CLI_ERRORS], ids=[row[0] for row in CLI_ERRORS])
def test_cli_errors_exit_2_with_one_line(arguments: list[str], message: str) -> None:
    completed = _cli(*arguments)
    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr
