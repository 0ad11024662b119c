"""A minimal stdio MCP server (no SDK) that floods log notifications: for the proxy's flood benchmark and tests.

It answers ``initialize``, ``ping`` and ``tools/call`` of ``flood`` (``{"count": N}``): N
``notifications/message`` lines written as fast as the pipe takes them, then the result. The flood
runs on its own thread and writes blocks of 256 lines with raw ``os.write`` (which releases the
GIL), so ``ping`` is answered during it without waiting on the flood, as a real server's event loop
would: the benchmark measures the proxy, not this server's own GIL.
"""

from __future__ import annotations

import json
import os
import sys
import threading

_write_lock = threading.Lock()
_OUT = sys.stdout.fileno()
_LINE = b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","logger":"flood",' \
        b'"data":{"msg":"flood line %d","extra":{"index":%d}}}}\n'


def _send(data: bytes) -> None:
    with _write_lock:
        view = memoryview(data)
        while view:
            view = view[os.write(_OUT, view) :]


def _flood(request_id: object, count: int) -> None:
    for start in range(0, count, 256):
        _send(b"".join(_LINE % (index, index) for index in range(start, min(start + 256, count))))
    result = {"content": [{"type": "text", "text": f"flooded {count}"}]}
    _send(json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}).encode() + b"\n")


def main() -> None:
    for line in sys.stdin.buffer:
        message = json.loads(line)
        method, request_id = message.get("method"), message.get("id")
        if method == "initialize":
            result = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "flood", "version": "1"}}
            _send(json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}).encode() + b"\n")
        elif method == "ping":
            _send(json.dumps({"jsonrpc": "2.0", "id": request_id, "result": {}}).encode() + b"\n")
        elif method == "tools/call":
            count = int(message["params"]["arguments"]["count"])
            threading.Thread(target=_flood, args=(request_id, count), daemon=True).start()


if __name__ == "__main__":
    main()
