"""The stats() contract, typed out here rather than imported from the code under test."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DROP_REASONS = ("queue_full", "export_failed", "shutdown", "internal_error", "unparseable")
NO_DROPS = dict.fromkeys(DROP_REASONS, 0)


def assert_adds_up(stats: Mapping[str, Any], received: int | None = None) -> None:
    """``received == exported + queued + filtered + sum(dropped)``, and ``received`` is what was sent."""
    assert set(stats["dropped"]) == set(DROP_REASONS)
    total = stats["exported"] + stats["queued"] + stats["filtered"] + sum(stats["dropped"].values())
    assert stats["received"] == total, stats
    if received is not None:
        assert stats["received"] == received, stats
