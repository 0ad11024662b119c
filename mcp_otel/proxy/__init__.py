"""``mcp-otel proxy``: a transparent stdio wrapper around an MCP server command that exports its logs.

For hosts you cannot add a logging callback to (desktop chat apps, IDEs, agent runners), put
``mcp-otel proxy [options] -- <server command>`` in the host's configuration instead of the
server command. The contract:

* **Relay.** The command runs as the proxy's child. The host's standard input goes to the child
  and the child's standard output to the host, one line at a time (MCP's stdio framing is one
  JSON-RPC message per line): the same bytes, in the same order, nothing added, dropped or
  re-encoded, except what the level opt-in below adds. A line can be of any length; each
  direction runs on its own thread, so neither can stall the other, and neither waits for
  telemetry: log messages are handed to a bounded export queue after the line was relayed
  (``mcp_otel.proxy.relay``); when that queue is full they are dropped and counted.
* **Export.** Each ``notifications/message`` from the server also goes to one
  :class:`~mcp_otel.handler.OTelLogHandler`: the library's conversion and ``OTEL_*`` pipeline,
  plus the attributes ``mcp.server.name`` (``--server-name``, else the name the server reports),
  ``mcp.server.version``, ``mcp.protocol.version`` and ``network.transport = "pipe"``.
* **Level opt-in** (on by default, level ``--log-level``, default ``debug``). A 2026-07-28 request
  (one whose ``params._meta`` carries ``io.modelcontextprotocol/protocolVersion``) without
  ``io.modelcontextprotocol/logLevel`` gets that key added; that line alone is re-encoded. After a
  legacy ``initialize`` whose result declares the ``logging`` capability, the proxy sends its own
  ``logging/setLevel`` right after the host's ``notifications/initialized``, under a string id no
  host uses, holds the host's next lines until the server answered it (at most
  ``SET_LEVEL_ANSWER_TIMEOUT_SECONDS``, once), and never forwards the answer
  (``mcp_otel.proxy.protocol``). A level the host asks for itself wins: its key is left alone, its
  ``logging/setLevel`` reaches the server after the proxy's. The log notifications this makes the
  server send reach the host as well. With ``--no-log-opt-in`` the proxy is strictly
  byte-transparent and exports what the host asked for.
* **--stderr.** Every byte of the child's standard error is passed through unchanged, in order and
  at once (before any parsing), and also read by the shared reader (``mcp_otel.stderr_reader``):
  logical records (levels, timestamps, loggers, JSON fields, a traceback as one record with
  ``exception.*``) with ``log.iostream = "stderr"`` and the server's attributes; lines written
  before the handshake are held until the server's name is known (``--server-name``, else the
  command's basename, when it never says). Under a flood the relay never waits: what the export
  queue cannot keep is dropped and counted, one per line. The proxy's own notes (``say``, the
  ``mcp_otel`` drop summary, a console exporter) go to the same standard error and are not
  synchronised with the relay, so one can land inside a server line the relay wrote in two reads.
* **Exit.** The proxy exits with the child's exit status (128 + N when signal N killed it, as a
  shell reports it). SIGTERM, SIGINT and SIGHUP are forwarded to the child; end of the host's
  input closes the child's input. After the child exited, the pipeline is flushed for at most
  ``--flush-timeout`` seconds (default 3); past that, the proxy exits anyway and says so on
  standard error. On Linux the child gets SIGKILL if the proxy itself is killed
  (``mcp_otel.proxy.process``).
* **Standard output is the protocol channel.** The proxy keeps a private duplicate of it and
  points descriptor 1 at standard error before anything else runs, so nothing the proxy, the SDK
  or an exporter prints (``OTEL_LOGS_EXPORTER=console`` included) can reach the host.
"""

from mcp_otel.proxy.relay import DEFAULT_FLUSH_TIMEOUT_SECONDS, run_proxy

__all__ = ["DEFAULT_FLUSH_TIMEOUT_SECONDS", "run_proxy"]
