"""The deploy proof's figures: recorded per case, read back in order, shown with qemu's marked."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import fit_figures


def test_record_then_load_round_trips_and_puts_native_first(tmp_path: Path) -> None:
    fit_figures.record("b-arm64", {"case": "b", "emulated": True}, tmp_path)
    fit_figures.record("a-x86_64", {"case": "z", "emulated": False}, tmp_path)
    rows = fit_figures.load(tmp_path)
    assert [row["case"] for row in rows] == ["z", "b"]
    assert all("measured_at" in row for row in rows)


def test_table_marks_figures_measured_under_qemu() -> None:
    row = {"case": "c", "architecture": "arm64", "emulated": True, "init_seconds": 40.1, "peak_mb": 250.0}
    line = fit_figures.table([row]).splitlines()[2]
    assert "arm64 (qemu)" in line and "40.1 (qemu)" in line and "250.0 (qemu)" in line


def test_table_shows_the_model_file_in_kilobytes_or_megabytes() -> None:
    rows = [{"case": "c", "model_file_bytes": 108_900_000}, {"case": "d", "model_file_bytes": 17_000}]
    lines = fit_figures.table(rows).splitlines()
    assert "| 109 MB |" in lines[2] and "| 17 kB |" in lines[3]


def test_publish_writes_the_cases_with_the_date(tmp_path: Path) -> None:
    target = fit_figures.publish([{"case": "c"}], tmp_path / "fit" / "measured.json")
    document = json.loads(target.read_text())
    assert document["cases"][0]["case"] == "c" and len(document["gathered_at"]) == 10
