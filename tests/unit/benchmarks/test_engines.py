"""benchmarks.engines: the cost figure follows Lambda's billing (per started millisecond)."""

from __future__ import annotations

import pytest

from benchmarks.engines import cost_per_million


def test_cost_bills_a_started_millisecond_at_1024_mb():
    # AWS Lambda pricing, x86_64: $0.20 per million requests, $0.0000166667 per GB-second.
    assert cost_per_million(0.05) == pytest.approx(0.20 + 0.001 * 0.0000166667 * 1e6)


def test_cost_rounds_up_to_the_next_millisecond():
    assert cost_per_million(1.2) == pytest.approx(0.20 + 0.002 * 0.0000166667 * 1e6)
