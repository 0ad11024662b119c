"""The one exception the package raises for bad configuration."""

from __future__ import annotations

__all__ = ["ConfigurationError"]


class ConfigurationError(ValueError):
    """A setting (an ``OTEL_*`` or ``MCP_OTEL_*`` variable, or an option) the package cannot use.

    The message names the variable or option at fault, and never echoes a header value or the
    credentials of a URL.
    """
