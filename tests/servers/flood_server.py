"""A minimal stdio MCP server (no SDK) that floods log notifications: for the proxy's flood benchmark and tests.

It answers ``initialize``, ``ping`` and ``tools/call`` of ``flood`` (``{"count": N}``): N
``notifications/message`` lines written as fast as the pipe takes them, then the result. The flood
runs on its own thread, so ``ping`` is answered during it, as a real server's event loop would.
"""

from __future__ import annotations

import json
import sys
import threading

_write_lock = threading.Lock()
_out = sys.stdout.buffer


def _send(lines: list[bytes]) -> None:
    with _write_lock:
        _out.write(b"".join(lines))
        _out.flush()


def _flood(request_id: object, count: int) -> None:
    chunk: list[bytes] = []
    for index in range(count):
        params = {"level": "info", "logger": "flood", "data": {"msg": f"flood line {index}", "extra": {"index": index}}}
        chunk.append(json.dumps({"jsonrpc": "2.0", "method": "notifications/message", "params": params}).encode() + b"\n")
        if len(chunk) == 64:
            _send(chunk)
            chunk = []
    result = {"content": [{"type": "text", "text": f"flooded {count}"}]}
    _send([*chunk, json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}).encode() + b"\n"])


def main() -> None:
    for line in sys.stdin.buffer:
        message = json.loads(line)
        method, request_id = message.get("method"), message.get("id")
        if method == "initialize":
            result = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "flood", "version": "1"}}
            _send([json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}).encode() + b"\n"])
        elif method == "ping":
            _send([json.dumps({"jsonrpc": "2.0", "id": request_id, "result": {}}).encode() + b"\n"])
        elif method == "tools/call":
            count = int(message["params"]["arguments"]["count"])
            threading.Thread(target=_flood, args=(request_id, count), daemon=True).start()


if __name__ == "__main__":
    main()
