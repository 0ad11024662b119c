"""The proxy's process handling: the protocol channel, the server as a child, signals and exit status.

* ``take_protocol_channel()`` keeps a private duplicate of standard output for the protocol and
  points descriptor 1 at standard error, so nothing else in the process (``print``, the console
  exporter, a C library) can write into the host's protocol stream.
* ``start_server(command, capture_stderr)`` runs the server command as a child with pipes for its
  standard input and output (and standard error when it is read). On Linux the child is started
  through a few lines of Python that ask the kernel to SIGKILL it when the proxy dies
  (``PR_SET_PDEATHSIG``), so a proxy killed with SIGKILL leaves no server behind; it stays in the
  proxy's process group, so a host that signals the group reaches it directly as well.
* ``forward_signals(child)`` passes SIGTERM, SIGINT and SIGHUP on to the child.
* ``exit_status(returncode)`` is the child's status as a shell reports it (128 + N for signal N).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["CommandNotStarted", "exit_status", "forward_signals", "say", "start_server", "take_protocol_channel"]


def say(note: str) -> None:
    """One line for the host's log of the server (standard error, never the protocol channel)."""
    try:
        os.write(2, f"mcp-otel proxy: {note}\n".encode("utf-8", "replace"))
    except OSError:
        pass


def take_protocol_channel() -> int:
    """A private descriptor for standard output; descriptor 1 then points at standard error.

    ``os.dup`` descriptors are not inherited, so the child never gets it.
    """
    try:
        sys.stdout.flush()
    except (AttributeError, OSError, ValueError):
        pass
    protocol_fd = os.dup(1)
    try:
        os.dup2(2, 1)
    except OSError:  # no standard error at all: discard instead
        null_fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null_fd, 1)
        os.close(null_fd)
    return protocol_fd


# Not a preexec_fn: after fork, a preexec_fn runs the at-fork hooks (the delivery queue starts a
# thread in the child) in a process that already has gRPC and exporter threads.
_EXEC_WITH_PARENT_DEATH_SIGNAL = """\
import os, signal, sys
# Python ignores these two at startup, and an ignored signal stays ignored across exec.
for name in ("SIGPIPE", "SIGXFSZ"):
    signal.signal(getattr(signal, name), signal.SIG_DFL)
try:
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
except Exception:
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit(1)
try:
    os.execv(sys.argv[2], sys.argv[3:])
except OSError as error:
    sys.stderr.write(f"mcp-otel proxy: cannot start {sys.argv[3]!r}: {error.strerror}\\n")
    sys.exit(126 if isinstance(error, PermissionError) else 127)
"""


class CommandNotStarted(Exception):
    """The server command could not be started; ``status`` is what the proxy exits with."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _child_arguments(executable: str, command: Sequence[str]) -> list[str]:
    if sys.platform.startswith("linux") and sys.executable:
        # -I -S: no environment, user site or site import; the start costs about 30 ms.
        wrapper = [sys.executable, "-I", "-S", "-c", _EXEC_WITH_PARENT_DEATH_SIGNAL, str(os.getpid())]
        return [*wrapper, executable, *command]
    return [executable, *command[1:]]


def start_server(command: Sequence[str], *, capture_stderr: bool) -> subprocess.Popen[bytes]:
    """Start ``command``; raises :class:`CommandNotStarted` (status 127 not found, 126 not runnable)."""
    executable = shutil.which(command[0])
    if executable is None:
        raise CommandNotStarted(f"cannot start {command[0]!r}: command not found", 127)
    try:
        return subprocess.Popen(
            _child_arguments(executable, command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if capture_stderr else None,
            bufsize=0,
        )
    except OSError as error:
        status = 126 if isinstance(error, PermissionError) else 127
        raise CommandNotStarted(f"cannot start {command[0]!r}: {error.strerror or error}", status) from None


def forward_signals(child: subprocess.Popen[bytes]) -> None:
    """Pass SIGTERM, SIGINT and SIGHUP on to ``child`` (replaces this process's handlers)."""

    def forward(signal_number: int, frame: Any) -> None:
        try:
            child.send_signal(signal_number)
        except (OSError, ValueError):
            pass  # already gone, or a signal this platform cannot send (Windows sends only SIGTERM)

    for name in ("SIGTERM", "SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), forward)


def exit_status(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode
