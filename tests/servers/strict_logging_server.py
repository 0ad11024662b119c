"""A legacy-handshake MCP server on the bare wire (no SDK) that is strict about logging.

It declares the ``logging`` capability but sends no ``notifications/message`` until the client
sets a level with ``logging/setLevel``, then only that level and above: what the Go SDK's
``ServerSession.Log`` does ("no log messages are sent until the client sets the level"). So on
this server only an opt-in makes logs flow, which is what the proxy's legacy opt-in is tested on.

Written without an SDK so that it runs the same under mcp 1.x and 2.x, handles one message at a
time and answers strictly in order, and writes its own JSON spelling (spaces after separators,
raw UTF-8): a proxied session and a direct one can be compared byte for byte.

``python strict_logging_server.py [--name NAME] [--record FILE] [--ignore-set-level]``;
``--record`` appends every line received, byte for byte, to FILE; ``--ignore-set-level`` makes a
broken server that never answers ``logging/setLevel``. ``server/discover`` is answered "method not found" (this
is a legacy-only server, and mcp 2.x's client then falls back to ``initialize``). JSON-RPC
batches get a batch answer. Tools:

* ``send_logs(messages)``: each ``{"level", "data", "logger"}`` as one notifications/message if
  the level set allows it; returns ``"sent N of M"``.
* ``echo(text)``: returns ``text``.
* ``big(size)``: returns ``size`` characters.
* ``write_stderr(lines)``: writes each line to standard error.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, BinaryIO

LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
PROTOCOL_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
VERSION = "1.2.3"

TOOLS = [
    {
        "name": "send_logs",
        "description": "Send each message as a notifications/message when the level set allows it.",
        "inputSchema": {
            "type": "object",
            "properties": {"messages": {"type": "array", "items": {"type": "object"}}},
            "required": ["messages"],
        },
    },
    {
        "name": "echo",
        "description": "Return the text.",
        "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
    },
    {
        "name": "big",
        "description": "Return a text of the given size.",
        "inputSchema": {"type": "object", "properties": {"size": {"type": "integer"}}, "required": ["size"]},
    },
    {
        "name": "write_stderr",
        "description": "Write each line to standard error.",
        "inputSchema": {
            "type": "object",
            "properties": {"lines": {"type": "array", "items": {"type": "string"}}},
            "required": ["lines"],
        },
    },
]


class MethodError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class StrictServer:
    def __init__(self, name: str, output: BinaryIO, ignore_set_level: bool = False) -> None:
        self.name = name
        self.output = output
        self.ignore_set_level = ignore_set_level
        self.level: str | None = None  # none until logging/setLevel: no log messages at all

    def write(self, message: Any) -> None:
        self.output.write(json.dumps(message, ensure_ascii=False).encode("utf-8") + b"\n")
        self.output.flush()

    def handle_line(self, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            self.write({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}})
            return
        if isinstance(message, list):
            answers = [answer for answer in map(self.handle_message, message) if answer is not None]
            if answers:
                self.write(answers)
            return
        answer = self.handle_message(message)
        if answer is not None:
            self.write(answer)

    def handle_message(self, message: Any) -> dict[str, Any] | None:
        if not isinstance(message, dict) or not isinstance(message.get("method"), str):
            return None  # a response, or junk: nothing to answer
        if "id" not in message:
            return None  # notifications (initialized, cancelled, ...) need no answer
        if self.ignore_set_level and message["method"] == "logging/setLevel":
            return None  # a broken server: never answers this request
        try:
            result = self.call(message["method"], message.get("params") or {})
        except MethodError as error:
            return {"jsonrpc": "2.0", "id": message["id"], "error": {"code": error.code, "message": error.message}}
        return {"jsonrpc": "2.0", "id": message["id"], "result": result}

    def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "initialize":
            requested = params.get("protocolVersion")
            return {
                "protocolVersion": requested if requested in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[-1],
                "capabilities": {"logging": {}, "tools": {}},
                "serverInfo": {"name": self.name, "version": VERSION},
            }
        if method == "logging/setLevel":
            if params.get("level") not in LEVELS:
                raise MethodError(-32602, "Invalid params: unknown level")
            self.level = params["level"]
            return {}
        if method == "ping":
            return {}
        if method == "tools/list":
            return {"tools": TOOLS}
        if method == "tools/call":
            return self.call_tool(params.get("name"), params.get("arguments") or {})
        raise MethodError(-32601, f"Method not found: {method}")

    def call_tool(self, name: Any, arguments: dict[str, Any]) -> dict[str, Any]:
        if name == "send_logs":
            messages = arguments.get("messages", [])
            sent = 0
            for entry in messages:
                if self.level is None or LEVELS.index(entry["level"]) < LEVELS.index(self.level):
                    continue
                params = {"level": entry["level"], "data": entry.get("data")}
                if entry.get("logger") is not None:
                    params["logger"] = entry["logger"]
                self.write({"jsonrpc": "2.0", "method": "notifications/message", "params": params})
                sent += 1
            text = f"sent {sent} of {len(messages)}"
        elif name == "echo":
            text = arguments["text"]
        elif name == "big":
            text = "x" * int(arguments["size"])
        elif name == "write_stderr":
            for line in arguments["lines"]:
                sys.stderr.write(line + "\n")
            sys.stderr.flush()
            text = f"wrote {len(arguments['lines'])}"
        else:
            raise MethodError(-32602, f"Unknown tool: {name}")
        return {"content": [{"type": "text", "text": text}], "isError": False}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="strict-logging-server")
    parser.add_argument("--record", help="append every received line, byte for byte, to this file")
    parser.add_argument("--ignore-set-level", action="store_true", help="never answer logging/setLevel")
    arguments = parser.parse_args()
    server = StrictServer(arguments.name, sys.stdout.buffer, arguments.ignore_set_level)
    record = open(arguments.record, "ab") if arguments.record else None
    for line in iter(sys.stdin.buffer.readline, b""):
        if record is not None:
            record.write(line)
            record.flush()
        if line.strip():
            server.handle_line(line)


if __name__ == "__main__":
    main()
