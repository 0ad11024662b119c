"""A server's standard error as a log source: bytes in, records out, for the proxy and client code alike.

``mcp_otel.stderr_parsing`` says what a record is (formats, levels, tracebacks, caps); this module
drives it from a live byte stream and emits its records. The contract:

* **One reader per server.** :class:`StderrReader` takes bytes as they arrive (``feed``), from any
  one thread at a time, and emits each completed record through the connection's handler
  (``OTelLogHandler._handle_entry``): the same attributes as the server's notifications, the same
  conversion, caps and redaction as a message's ``extra``, the same accounting (one record is one
  received message), plus ``log.iostream = "stderr"``. Records are emitted in the order they were
  written.
* **Time.** A pending record (a traceback that may go on) is emitted when the next record starts,
  after ``quiet_seconds`` (default 0.25) without new bytes (a thread of the reader's own waits for
  that), or at ``close``. Timestamp is the line's own time when it has one, else the receipt time;
  ObservedTimestamp is the receipt time (when the reader got the bytes that completed the record).
* **Identity.** Until the connection knows the server's name (``mcp.server.name``, given explicitly
  or learnt from the handshake through ``learn``), records are held: at most ``hold_seconds``
  (default 2) after the first held one, and at most ``hold_bytes`` (default 1 MiB of body and
  attribute text) or ``MAX_HELD_RECORDS``. ``learn`` releases them with the server's identity.
  When a bound is reached first, or at ``close``, they are released with the fallback name
  (``fallback_name``: the command's basename in the proxy and the ``connect_*`` helpers), which
  then stays on this reader's records until the server says who it is; with no fallback they go
  out unnamed. A name given explicitly (``--server-name``, ``bind()``, attributes of
  ``capture_stderr``) is known from the start: nothing is held.
* **Never raises, never blocks on export.** ``feed`` parses and hands records over; the handler
  never waits for the collector. An internal failure is counted (``dropped["internal_error"]``).
* **Closing** (``close``) parses what is left, emits the pending record and every held one, and
  stops the reader's thread; bytes fed afterwards are ignored.

:class:`StderrCapture` (``OTelLogHandler.capture_stderr()``) is the client-side file: the write end
of an ``os.pipe()`` whose ``fileno()`` mcp's ``stdio_client(errlog=...)`` (through anyio and
asyncio), FastMCP's ``StdioTransport(log_file=...)`` (a file object is used as it is; a ``Path``
would be opened as a plain file, so pass the capture itself) and ``subprocess`` hand to the child
as its descriptor 2. A thread of its own reads the read end into a :class:`StderrReader` (and, with
``echo=True``, copies every byte to this process's standard error first). It is a
``typing.TextIO`` that can only be written to (``write`` takes str or bytes), so it type-checks
where a text file is expected. Both pipe ends are non-inheritable: the child gets the write end
only as its standard error (``subprocess`` dup2s it), so no other child keeps the pipe open.
``close()`` (or leaving ``with``; ``async with`` closes in a worker thread) closes this process's
write end, reads to end of file, waiting at most ``CLOSE_TIMEOUT_SECONDS`` for children that still
hold it (what such a child writes later is still read, so it never blocks, but not exported), and
closes the reader.
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

import anyio.to_thread

from mcp_otel.attributes import MCP_SERVER_NAME, server_attributes
from mcp_otel.connection import ConnectionLog
from mcp_otel.stderr_parsing import StderrEntry, StderrParser

if TYPE_CHECKING:
    from typing_extensions import Self

    from mcp_otel.handler import OTelLogHandler

__all__ = [
    "CLOSE_TIMEOUT_SECONDS",
    "HOLD_BYTES",
    "HOLD_SECONDS",
    "MAX_HELD_RECORDS",
    "QUIET_SECONDS",
    "StderrCapture",
    "StderrReader",
    "fallback_server_name",
]

QUIET_SECONDS = 0.25
HOLD_SECONDS = 2.0
HOLD_BYTES = 1 << 20
MAX_HELD_RECORDS = 1_000
CLOSE_TIMEOUT_SECONDS = 2.0
_READ_SIZE = 1 << 16  # a Linux pipe's capacity; one read never returns more


def fallback_server_name(command: str | Sequence[str] | None) -> str | None:
    """The name records carry when a server never says its own: the command's basename."""
    if command is None:
        return None
    first = command if isinstance(command, str) else (command[0] if command else "")
    name = os.path.basename(str(first).rstrip("/\\"))
    return name or None


def _held_size(entry: StderrEntry) -> int:
    """About what a held record costs: its text, and its fields at any depth (a walk, not recursion)."""
    size = len(entry.body)
    pending: list[object] = [entry.attributes]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            size += len(value)
        elif isinstance(value, dict):
            size += 16 * len(value)
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            size += 8 * len(value)
            pending.extend(value)
        else:
            size += 8
    return size


class StderrReader:
    """Bytes of one server's standard error in, records out through its connection; see the module docstring."""

    def __init__(
        self,
        connection: ConnectionLog,
        *,
        fallback_name: str | None = None,
        quiet_seconds: float = QUIET_SECONDS,
        hold_seconds: float = HOLD_SECONDS,
        hold_bytes: int = HOLD_BYTES,
    ) -> None:
        self._connection = connection
        self._fallback_name = fallback_name
        self._hold_seconds = hold_seconds
        self._hold_bytes = hold_bytes
        # The parser holds at most one record of the handler's own size cap.
        self._parser = StderrParser(
            quiet_seconds=quiet_seconds, max_record_bytes=connection.handler._limits.max_record_bytes
        )
        self._condition = threading.Condition()
        self._held: list[tuple[StderrEntry, int]] = []
        self._held_bytes = 0
        self._hold_deadline: float | None = None
        self._holding = not self._named()
        self._fallback_handler: OTelLogHandler | None = None
        self._received_ns = time.time_ns()
        self._closed = False
        self._timer = threading.Thread(target=self._wait_for_quiet, name="mcp_otel-stderr", daemon=True)
        self._timer.start()

    # ---------------------------------------------------------------- input

    def feed(self, data: bytes) -> None:
        """Parse ``data`` (any bytes, any length) and emit what it completes; never raises."""
        with self._condition:
            if self._closed or not data:
                return
            try:
                self._received_ns = time.time_ns()
                self._deliver(self._parser.feed(data, time.monotonic()))
            except Exception as error:  # the reader must go on whatever it meets
                self._connection.handler._count_internal_error(error)
            self._condition.notify()

    def learn(self, attributes: Mapping[str, Any]) -> None:
        """What the server said about itself (for this reader's connection); releases held records once named."""
        self._connection.learn(attributes)
        with self._condition:
            if self._named():
                self._fallback_handler = None
                if self._holding:
                    self._holding = False
                    self._release(self._connection.handler)
            elif self._fallback_handler is not None:
                self._fallback_handler = self._with_fallback_name()

    def close(self) -> None:
        """Emit the pending record and every held one; stop the reader's thread. Idempotent."""
        with self._condition:
            if self._closed:
                return
            self._closed = True
            try:
                self._deliver(self._parser.close())
            except Exception as error:
                self._connection.handler._count_internal_error(error)
            if self._holding:
                self._give_up_holding()
            self._condition.notify()
        if threading.current_thread() is not self._timer:
            self._timer.join()

    # ---------------------------------------------------------------- output (the condition's lock held)

    def _named(self) -> bool:
        return MCP_SERVER_NAME in self._connection.handler._attributes

    def _deliver(self, entries: Iterable[StderrEntry]) -> None:
        received_ns = self._received_ns
        for entry in entries:
            if self._holding:
                if self._hold_deadline is None:
                    self._hold_deadline = time.monotonic() + self._hold_seconds
                self._held.append((entry, received_ns))
                self._held_bytes += _held_size(entry)
                if self._held_bytes > self._hold_bytes or len(self._held) >= MAX_HELD_RECORDS:
                    self._give_up_holding()
            else:
                self._emitting_handler()._handle_entry(entry, received_ns)

    def _emitting_handler(self) -> OTelLogHandler:
        return self._fallback_handler or self._connection.handler

    def _give_up_holding(self) -> None:
        """No name in time: the fallback name from now on (until ``learn`` names the server)."""
        self._holding = False
        if self._fallback_name and not self._named():
            self._fallback_handler = self._with_fallback_name()
        self._release(self._emitting_handler())

    def _with_fallback_name(self) -> OTelLogHandler:
        handler = self._connection.handler
        return handler._derive(reported={**server_attributes(name=self._fallback_name), **handler._reported})

    def _release(self, handler: OTelLogHandler) -> None:
        held, self._held, self._held_bytes, self._hold_deadline = self._held, [], 0, None
        for entry, received_ns in held:
            handler._handle_entry(entry, received_ns)

    # ---------------------------------------------------------------- the quiet period and the hold bound

    def _wait_for_quiet(self) -> None:
        with self._condition:
            while not self._closed:
                deadlines = [
                    deadline
                    for deadline in (self._parser.pending_deadline, self._hold_deadline if self._holding else None)
                    if deadline is not None
                ]
                now = time.monotonic()
                if deadlines and min(deadlines) <= now:
                    try:
                        self._deliver(self._parser.poll(now))
                        if self._holding and self._hold_deadline is not None and self._hold_deadline <= now:
                            self._give_up_holding()
                    except Exception as error:
                        self._connection.handler._count_internal_error(error)
                    continue
                self._condition.wait(None if not deadlines else min(deadlines) - now)


class StderrCapture(TextIO):
    """A file for a server's standard error whose records a handler emits; see the module docstring.

    Made by ``OTelLogHandler.capture_stderr()``. A ``typing.TextIO``, so that ``stdio_client(errlog=...)``,
    ``StdioTransport(log_file=...)`` and ``subprocess`` accept it under ``mypy --strict`` too; it
    can only be written to.
    """

    def __init__(self, handler: OTelLogHandler, *, echo: bool = False, fallback_name: str | None = None) -> None:
        self.reader = StderrReader(ConnectionLog(handler), fallback_name=fallback_name)
        self._echo = echo
        # os.pipe() descriptors are non-inheritable (PEP 446): the child gets the write end as its
        # descriptor 2 only, through subprocess's dup2.
        self._read_fd, self._write_fd = os.pipe()
        self._write_lock = threading.Lock()
        self._closed = False
        self._pump = threading.Thread(target=self._read_to_end, name="mcp_otel-stderr-pipe", daemon=True)
        self._pump.start()

    # ---------------------------------------------------------------- the file a child writes to

    def fileno(self) -> int:
        """The pipe's write end: what ``subprocess`` makes the child's standard error."""
        if self._closed:
            raise ValueError("I/O operation on closed stderr capture")
        return self._write_fd

    def write(self, text: str | bytes, /) -> int:  # bytes too, as a server writes them
        """Write ``text`` (str as UTF-8, or bytes) into the pipe, as the server would."""
        data = text.encode("utf-8", "replace") if isinstance(text, str) else bytes(text)
        with self._write_lock:
            if self._closed:
                raise ValueError("I/O operation on closed stderr capture")
            _write_all(self._write_fd, data)
        return len(text)

    def writelines(self, lines: Iterable[str], /) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Nothing to do: ``write`` is unbuffered."""

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def name(self) -> str:
        return "<mcp_otel stderr capture>"

    @property
    def mode(self) -> str:
        return "w"

    @property
    def encoding(self) -> str:
        return "utf-8"

    @property
    def errors(self) -> str | None:
        return "replace"

    @property
    def line_buffering(self) -> int:
        return False

    @property
    def newlines(self) -> Any:
        return None

    @property
    def buffer(self) -> BinaryIO:
        raise io.UnsupportedOperation("a stderr capture has no binary buffer; write bytes to it directly")

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def read(self, n: int = -1, /) -> str:
        raise io.UnsupportedOperation("not readable")

    def readline(self, limit: int = -1, /) -> str:
        raise io.UnsupportedOperation("not readable")

    def readlines(self, hint: int = -1, /) -> list[str]:
        raise io.UnsupportedOperation("not readable")

    def __next__(self) -> str:
        raise io.UnsupportedOperation("not readable")

    def __iter__(self) -> Iterator[str]:
        raise io.UnsupportedOperation("not readable")

    def seek(self, offset: int, whence: int = 0, /) -> int:
        raise io.UnsupportedOperation("not seekable")

    def tell(self) -> int:
        raise io.UnsupportedOperation("not seekable")

    def truncate(self, size: int | None = None, /) -> int:
        raise io.UnsupportedOperation("not seekable")

    # ---------------------------------------------------------------- identity, closing

    def learn(self, attributes: Mapping[str, Any]) -> None:
        """The server's identity (``mcp_otel.session_attributes(...)``): releases records held until now."""
        self.reader.learn(attributes)

    def close(self, timeout_seconds: float = CLOSE_TIMEOUT_SECONDS) -> None:
        """Close the write end, read what is left (at most ``timeout_seconds``), emit the last record."""
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            os.close(self._write_fd)
        # End of file comes once every child holding the write end has exited; one that lives on
        # (a keep-alive transport, a grandchild) must not hold the caller: its later bytes are
        # still read (so it never blocks on a full pipe) but no longer exported.
        self._pump.join(timeout_seconds)
        self.reader.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None, /
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        """``close()`` in a worker thread, so the event loop never waits for the pipe's end."""
        await anyio.to_thread.run_sync(self.close)

    def __repr__(self) -> str:
        return f"<StderrCapture fd={self._write_fd} closed={self._closed}>"

    def _read_to_end(self) -> None:
        try:
            while True:
                try:
                    data = os.read(self._read_fd, _READ_SIZE)
                except InterruptedError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                if self._echo:
                    try:
                        _write_all(2, data)
                    except OSError:
                        pass
                self.reader.feed(data)
        finally:
            os.close(self._read_fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
