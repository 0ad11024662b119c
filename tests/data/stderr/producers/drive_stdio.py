"""Start a command as an MCP stdio server, talk enough MCP to make it log, and keep the exact bytes it
wrote to standard error.

    python drive_stdio.py OUT.stderr CALLS.json -- command args...

CALLS.json is a list of [method, params] pairs sent after initialize/initialized, one at a time, each
waiting (up to 30 s) for its answer. Standard error is read on a thread and written out unchanged.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time


def main() -> int:
    out_path, calls_path, separator, *command = sys.argv[1:]
    assert separator == "--", "usage: drive_stdio.py OUT CALLS.json -- command..."
    with open(calls_path) as calls_file:
        calls = json.load(calls_file)
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin and process.stdout and process.stderr
    captured = bytearray()

    def pump() -> None:
        assert process.stderr
        while chunk := process.stderr.read1(65536):
            captured.extend(chunk)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()

    def request(request_id: int, method: str, params: object) -> None:
        assert process.stdin and process.stdout
        message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        try:
            process.stdin.write(json.dumps(message).encode() + b"\n")
            process.stdin.flush()
        except OSError:  # the server has exited: keep what it wrote
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                return
            try:
                answer = json.loads(line)
            except ValueError:
                continue
            if answer.get("id") == request_id:
                print(json.dumps(answer)[:300], file=sys.stderr)
                return

    request(
        1,
        "initialize",
        {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "stderr-corpus", "version": "1"}},
    )
    try:
        process.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}).encode() + b"\n")
        process.stdin.flush()
    except OSError:
        pass
    for number, (method, params) in enumerate(calls, start=2):
        request(number, method, params)
    time.sleep(0.5)
    try:
        process.stdin.close()
    except OSError:
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.terminate()
        process.wait(timeout=10)
    reader.join(timeout=5)
    with open(out_path, "wb") as out_file:
        out_file.write(captured)
    print(f"{out_path}: {len(captured)} bytes, exit {process.returncode}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
