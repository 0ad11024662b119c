"""``mcp-otel host-config``: a host configuration entry that runs a server behind ``mcp-otel proxy``.

Desktop hosts start servers without a shell and with a short ``PATH``, so a bare ``mcp-otel`` or
``python`` in their configuration is often not found. The entry this builds uses absolute paths:

* ``command``: this installation's ``mcp-otel`` script (the one next to the running interpreter),
  or, when there is none, this interpreter with ``-m mcp_otel``;
* the server command: its first word resolved on the current ``PATH`` to an absolute path (a
  ``python`` is asked for its ``sys.executable``, so that a pyenv or asdf shim becomes the
  interpreter it would run here), and each later word that names an existing file, relative to
  the current directory, made absolute.

=========  ======================================  ===========================================
host       file                                    shape
=========  ======================================  ===========================================
claude     ``claude_desktop_config.json``          ``{"mcpServers": {NAME: {command, args, env}}}``
cursor     ``~/.cursor/mcp.json``                  the same as claude
vscode     ``.vscode/mcp.json``                    ``{"servers": {NAME: {"type": "stdio", ...}}}``
=========  ======================================  ===========================================

``write_entry`` merges the entry into an existing file (other servers are kept; an entry with the
same name is replaced), after copying the file to ``<file>.bak``. A file that is not plain JSON
(VS Code allows comments) is left untouched and reported, rather than rewritten without them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, get_args

from mcp_otel.errors import ConfigurationError

__all__ = ["HOSTS", "Host", "build_entry", "mcp_otel_command", "resolve_server_command", "write_entry"]

Host = Literal["claude", "cursor", "vscode"]
HOSTS: tuple[Host, ...] = get_args(Host)


def mcp_otel_command() -> list[str]:
    """The absolute command that starts this installation's ``mcp-otel``."""
    interpreter = Path(sys.executable).absolute()
    script = interpreter.parent / ("mcp-otel.exe" if os.name == "nt" else "mcp-otel")
    if script.is_file():
        return [str(script)]
    return [str(interpreter), "-m", "mcp_otel"]


def resolve_server_command(command: Sequence[str], cwd: Path | None = None) -> list[str]:
    """``command`` with its program and any existing file arguments made absolute."""
    if not command:
        raise ConfigurationError("host-config: no server command given (put it after --)")
    directory = cwd or Path.cwd()
    program = shutil.which(command[0])
    if program is None:
        raise ConfigurationError(f"host-config: {command[0]!r} is not a command on this PATH")
    resolved = [_real_interpreter(program) if _PYTHON_NAME.fullmatch(Path(command[0]).name) else str(Path(program).absolute())]
    for argument in command[1:]:
        candidate = directory / argument
        resolved.append(str(candidate.absolute()) if not argument.startswith("-") and candidate.is_file() else argument)
    return resolved


_PYTHON_NAME = re.compile(r"python(?:\d+(?:\.\d+)?)?(?:\.exe)?")


def _real_interpreter(program: str) -> str:
    """The interpreter ``program`` starts: version-manager shims (pyenv, asdf) pick one by the
    current directory and environment, which a desktop host does not share, so ask it."""
    try:
        completed = subprocess.run(
            [program, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True, timeout=30
        )
        executable = completed.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        executable = ""
    return executable if executable and Path(executable).is_absolute() else str(Path(program).absolute())


def build_entry(
    host: Host,
    name: str,
    server_command: Sequence[str],
    *,
    proxy_options: Sequence[str] = (),
    environment: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The whole configuration object for ``host`` holding one server entry ``name``."""
    command, *prefix = mcp_otel_command()
    entry: dict[str, Any] = {
        "command": command,
        "args": [*prefix, "proxy", "--server-name", name, *proxy_options, "--", *server_command],
    }
    if environment:
        entry["env"] = dict(environment)
    if host == "vscode":
        return {"servers": {name: {"type": "stdio", **entry}}}
    return {"mcpServers": {name: entry}}


def write_entry(path: Path, configuration: Mapping[str, Any]) -> Path | None:
    """Merge ``configuration`` (from ``build_entry``) into the JSON file at ``path``; the backup's path.

    Returns None when the file did not exist. Raises ``ConfigurationError`` when it is not a JSON
    object, without changing it.
    """
    ((section, servers),) = configuration.items()
    existing: dict[str, Any] = {}
    backup = None
    if path.is_dir():
        raise ConfigurationError(f"host-config: --write {path} is a directory; name the configuration file")
    if path.exists():
        try:
            existing = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise ConfigurationError(f"host-config: cannot read {path} ({error.strerror}); it was left unchanged") from None
        except (ValueError, UnicodeDecodeError) as error:
            raise ConfigurationError(
                f"host-config: {path} is not plain JSON ({error.__class__.__name__}); it was left unchanged. "
                "Paste the printed entry in by hand."
            ) from None
        if not isinstance(existing, dict) or not isinstance(existing.get(section, {}), dict):
            raise ConfigurationError(f"host-config: {path} does not hold a JSON object with a {section!r} object")
    existing.setdefault(section, {}).update(servers)
    try:
        if path.exists():
            backup = path.with_name(path.name + ".bak")
            shutil.copy2(path, backup)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(existing, indent=2) + "\n", encoding="utf-8")
        temporary.replace(path)
    except OSError as error:
        raise ConfigurationError(f"host-config: cannot write {path} ({error.strerror}); it was left unchanged") from None
    return backup
