"""Real MCP servers the tests start over stdio (``python tests/servers/<name>.py``)."""
