"""The cost plot: a real PNG drawn with matplotlib (Agg)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from cdk_sklearn.cost.compare import compare
from cdk_sklearn.cost.plot import plot_costs, volume_range
from cdk_sklearn.cost.workload import Workload

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_plot_writes_a_png(tmp_path: Path) -> None:
    report = compare(Workload(requests_per_month=2e6, memory_mb=1024, duration_ms=5))
    out = plot_costs(report, tmp_path / "cost.png")
    width, height = _png_size(out)
    assert width >= 800 and height >= 500


def test_volume_range_reaches_past_every_break_even() -> None:
    report = compare(Workload(requests_per_month=2e6, memory_mb=1024, duration_ms=5, cold_start_rate=0.0))
    lo, hi = volume_range(report)
    crossings = [n for b in report.break_evens for n in b.requests_per_month]
    assert lo == 1e4
    assert hi >= max(crossings)


def test_fails_plot_to_a_non_png_name(tmp_path: Path) -> None:
    report = compare(Workload(requests_per_month=1e6, memory_mb=1024, duration_ms=5))
    with pytest.raises(ValueError, match=r"ending in \.png, got .*cost\.svg"):
        plot_costs(report, tmp_path / "cost.svg")


def test_fails_plot_into_a_missing_directory(tmp_path: Path) -> None:
    report = compare(Workload(requests_per_month=1e6, memory_mb=1024, duration_ms=5))
    with pytest.raises(ValueError, match="does not exist"):
        plot_costs(report, tmp_path / "nope" / "cost.png")
