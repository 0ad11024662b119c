"""An MCP server on the mcp SDK whose lifespan fails at startup: the SDK's task group makes the
uncaught error an exception group (Python prints "+ Exception Group Traceback")."""

from contextlib import asynccontextmanager

from mcp.server.mcpserver import MCPServer


@asynccontextmanager
async def lifespan(server):
    raise ConnectionError("database at 127.0.0.1:5432 refused the connection")
    yield


server = MCPServer("stderr-corpus-crash", lifespan=lifespan)

if __name__ == "__main__":
    server.run("stdio")
