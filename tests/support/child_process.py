"""A server process a test starts, waits for on its TCP ports, stops gracefully or kills outright.

Shared by the receiver process (``otlp_receiver.ReceiverProcess``) and the rotel collector
(``rotel.RotelCollector``): both log to a file that errors quote, and both are killed in tests.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

LOOPBACK_HOST = "127.0.0.1"


class ChildProcess:
    """One child at a time; ``start_child`` launches it, ``kill``/``stop`` end it."""

    name = "child process"

    def __init__(self, log_path: Path, startup_timeout: float) -> None:
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start_child(
        self, command: Sequence[str], ports: Sequence[int], *, env: Mapping[str, str], cwd: Path | None = None
    ) -> None:
        """Launch ``command`` with its output in ``log_path``; return once every port accepts TCP."""
        if self.is_running:
            raise RuntimeError(f"{self.name} is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                list(command), cwd=cwd, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, env=dict(env)
            )
        deadline = time.monotonic() + self.startup_timeout
        waiting_for = list(ports)
        while waiting_for:
            exit_code = self._process.poll()
            if exit_code is not None:
                raise RuntimeError(f"{self.name} exited with {exit_code} during startup:\n{self.output()}")
            try:
                with socket.create_connection((LOOPBACK_HOST, waiting_for[0]), timeout=0.2):
                    waiting_for.pop(0)
                    continue
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(
                    f"{self.name} did not listen on port {waiting_for[0]} within {self.startup_timeout}s:\n{self.output()}"
                )
            time.sleep(0.02)

    def output(self) -> str:
        """Everything the child printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else "(no output)"

    def kill(self) -> None:
        """SIGKILL (a crash, not a shutdown: what the child holds is lost) and reap."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
        if self._process is not None:
            self._process.wait(10)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, escalating to SIGKILL when the child has not exited after ``timeout``."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
