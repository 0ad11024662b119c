"""``mcp_otel.levels``: the Appendix B table, row by row, against the spec's numbers typed out in tests/support/spec.py."""

from __future__ import annotations

import pytest
from opentelemetry._logs import SeverityNumber

from mcp_otel.errors import ConfigurationError
from mcp_otel.levels import LEVELS, parse_level, severity_for_level
from tests.support.spec import MCP_LEVELS, SEVERITY_ROWS


@pytest.mark.parametrize(("level", "number"), SEVERITY_ROWS, ids=[f"{level} -> {number}" for level, number in SEVERITY_ROWS])
def test_appendix_b_row(level: str, number: int) -> None:
    assert severity_for_level(level).value == number
    assert parse_level(level, "level") == level


@pytest.mark.parametrize("level", ["WARNING", "warn", "", None, 5, b"info"], ids=repr)
def test_anything_else_is_unspecified_and_not_a_level(level: object) -> None:
    assert severity_for_level(level) is SeverityNumber.UNSPECIFIED
    with pytest.raises(ConfigurationError, match="MCP_OTEL_LOG_LEVEL="):
        parse_level(level, "MCP_OTEL_LOG_LEVEL")


def test_the_levels_are_mcps_in_order() -> None:
    assert list(LEVELS) == MCP_LEVELS


def test_logging_level_is_mcps_own_literal() -> None:
    from typing import get_args

    from mcp.types import LoggingLevel as McpLoggingLevel

    from mcp_otel.levels import LoggingLevel

    assert get_args(LoggingLevel) == get_args(McpLoggingLevel)
