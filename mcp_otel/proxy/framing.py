"""Line framing and classification for the proxy: MCP's stdio transport is one JSON-RPC message per line.

* ``read_lines(fd)`` yields each line with its newline (and an unterminated rest at the end), of any
  length, from raw ``os.read`` calls. ``read_blocks(fd)`` yields the same bytes as blocks of whole
  lines, one block per read that completed a line: the relay forwards and hands over a block at
  once, which costs one system call and one hand-over per read instead of per line.
* ``write_all(fd, data)`` writes every byte.
* ``mentions(line, needles)`` is the cheap test that decides whether a line is parsed at all: a
  needle is a quoted JSON string in each spelling a line may carry it (plain, and with ``\\/``
  escapes, which some encoders write for every slash).
* ``parse`` and ``reencode`` read and write one line; a line that cannot be re-encoded exactly
  (numbers without a JSON spelling) is relayed as it came.
"""

from __future__ import annotations

import json
import os
import select
from collections.abc import Iterator
from typing import Any

__all__ = ["id_key", "lines_of", "mentions", "needles", "parse", "read_blocks", "read_lines", "reencode", "write_all"]

_READ_SIZE = 1 << 16  # a Linux pipe's capacity; one read never returns more


def needles(*texts: str) -> tuple[bytes, ...]:
    """The quoted JSON spellings of ``texts`` a line may carry: plain, and with ``\\/`` escapes."""
    spellings: list[bytes] = []
    for text in texts:
        plain = json.dumps(text).encode()
        spellings.append(plain)
        if b"/" in plain:
            spellings.append(plain.replace(b"/", b"\\/"))
    return tuple(spellings)


def mentions(line: bytes, spellings: tuple[bytes, ...]) -> bool:
    return any(spelling in line for spelling in spellings)


def parse(line: bytes) -> Any:
    """The JSON value of ``line``, or None for anything that is not JSON (relayed as is)."""
    try:
        return json.loads(line)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None


def reencode(message: Any, line: bytes) -> bytes:
    """``message`` as one compact JSON line ending the way ``line`` ended; ``line`` itself when that is impossible."""
    ending = line[len(line.rstrip(b"\r\n")) :]
    try:
        try:
            encoded = json.dumps(message, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a "\ud800" escape: keep it escaped
            encoded = json.dumps(message, separators=(",", ":"), allow_nan=False).encode("ascii")
    except ValueError:  # 1e999 parsed as infinity has no JSON spelling: relay the line as it came
        return line
    return encoded + ending


def id_key(request_id: Any) -> tuple[str, Any] | None:
    """A set key for a JSON-RPC id that keeps 1 and "1" apart; None for what cannot be an id."""
    if isinstance(request_id, (str, int)) and not isinstance(request_id, bool):
        return (type(request_id).__name__, request_id)
    return None


def read_lines(fd: int) -> Iterator[bytes]:
    """Each line read from ``fd`` with its newline, and at the end an unterminated rest if any.

    Raw ``os.read``, no buffered file object: no length limit (a long line's chunks are joined
    once), and a thread blocked here holds no lock that interpreter shutdown would wait for.
    """
    for block in read_blocks(fd):
        yield from lines_of(block)


def read_blocks(fd: int) -> Iterator[bytes]:
    """What ``read_lines`` yields, joined per read: each block ends with a newline, except an
    unterminated rest at the end. A line longer than one read is joined whole into the block that
    ends it."""
    pending: list[bytes] = []
    while True:
        try:
            chunk = os.read(fd, _READ_SIZE)
        except BlockingIOError:  # a host that handed over a non-blocking pipe: wait for data
            select.select([fd], [], [])
            continue
        except OSError:  # the other end vanished in a way that is not a clean EOF
            chunk = b""
        if not chunk:
            if pending:
                yield b"".join(pending)
            return
        end = chunk.rfind(b"\n") + 1
        if not end:
            pending.append(chunk)
            continue
        if pending:
            pending.append(chunk[:end])
            block = b"".join(pending)
            pending = []
        else:
            block = chunk[:end] if end < len(chunk) else chunk
        if end < len(chunk):
            pending.append(chunk[end:])
        yield block


def lines_of(block: bytes) -> list[bytes]:
    """The lines of a block, each with its newline."""
    return block.splitlines(keepends=True) if b"\r" not in block else _split_on_newlines(block)


def _split_on_newlines(block: bytes) -> list[bytes]:
    # bytes.splitlines also splits at a lone CR (and keeps CR LF together, which is fine); MCP frames
    # by LF only, so a block holding a CR is split by hand.
    lines = block.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
        return [line + b"\n" for line in lines]
    return [line + b"\n" for line in lines[:-1]] + [lines[-1]]


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
