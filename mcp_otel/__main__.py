"""``python -m mcp_otel``: the ``mcp-otel`` command, for hosts that start an interpreter rather than a script."""

import sys

from mcp_otel.cli import main

sys.exit(main())
