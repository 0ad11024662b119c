"""The public surface: the names ``mcp_otel`` exports, their kinds, and that user code type-checks against them."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import mcp_otel
from tests.conftest import REPOSITORY

# name -> what it is; a change here is a change to the public API (say so in CHANGELOG.md).
PUBLIC_NAMES = {
    "ConfigurationError": "class",
    "ConnectionLog": "class",
    "ConversionLimits": "class",
    "LoggingLevel": "type",
    "OTelLogHandler": "class",
    "__version__": "str",
    "connect_client": "function",
    "connect_fastmcp": "function",
    "connect_session": "function",
    "send_log": "coroutine function",
    "session_attributes": "function",
}


def _kind(value: object) -> str:
    if isinstance(value, str):
        return "str"
    if inspect.isclass(value):
        return "class"
    if inspect.iscoroutinefunction(value):
        return "coroutine function"
    if inspect.isfunction(value):
        return "function"
    return "type"  # a typing construct such as Literal[...]


def test_all_is_pinned() -> None:
    assert sorted(mcp_otel.__all__) == sorted(PUBLIC_NAMES)


@pytest.mark.parametrize(("name", "kind"), sorted(PUBLIC_NAMES.items()), ids=sorted(PUBLIC_NAMES))
def test_exported_name_is_what_it_says(name: str, kind: str) -> None:
    assert _kind(getattr(mcp_otel, name)) == kind
    assert name in dir(mcp_otel)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        mcp_otel.no_such_name  # type: ignore[attr-defined]  # noqa: B018


USER_CODE = '''
import sys
from typing import assert_type

from mcp import Client, StdioServerParameters
from mcp_otel import ConnectionLog, LoggingLevel, OTelLogHandler, connect_client, send_log


async def main() -> None:
    level: LoggingLevel = "info"
    server = StdioServerParameters(command=sys.executable, args=["server.py"])
    async with OTelLogHandler(min_level=level) as handler:
        async with connect_client(server, handler, level="debug") as client:
            assert_type(client, Client)
            await client.call_tool("forecast", {"city": "Lisbon"})
        connection = ConnectionLog(handler.bind(team="search"))
        await connection({"level": "info", "data": "x"})
        assert_type(handler.stats()["received"], int)
        assert_type(await handler.aflush(), bool)
    reveal_type(send_log)
'''

WRONG_USER_CODE = '''
from mcp_otel import OTelLogHandler
OTelLogHandler(min_level="verbose")
'''


def _mypy(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    snippet = tmp_path / "user_code.py"
    snippet.write_text(textwrap.dedent(source), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--python-version", "3.11", str(snippet)],
        capture_output=True, text=True, cwd=REPOSITORY, timeout=300,
    )


def test_user_code_type_checks_strictly(tmp_path: Path) -> None:
    completed = _mypy(tmp_path, USER_CODE)
    assert completed.returncode == 0, completed.stdout
    # The lazily imported name keeps its real signature for type checkers.
    assert 'Revealed type is "def (context: Any, level: Literal[' in completed.stdout


def test_a_wrong_level_is_a_type_error(tmp_path: Path) -> None:
    completed = _mypy(tmp_path, WRONG_USER_CODE)
    assert completed.returncode == 1
    assert 'Argument "min_level" to "OTelLogHandler" has incompatible type "Literal[\'verbose\']"' in completed.stdout
