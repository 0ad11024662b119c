// An uncaught exception ends a Node MCP server: Node writes the source line, a caret, the error
// with its stack and properties, then its version.
console.error("Weather MCP Server running on stdio");

function connect(port) {
  const error = new Error(`connect ECONNREFUSED 127.0.0.1:${port}`);
  error.code = "ECONNREFUSED";
  error.port = port;
  throw error;
}

connect(5432);
