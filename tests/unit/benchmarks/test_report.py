from __future__ import annotations

from pathlib import Path

from benchmarks.coldstart import ColdResult, ColdRun
from benchmarks.models import BenchModel
from benchmarks.report import goals, goals_table

MODEL = BenchModel("mlp-100x3", Path("mlp-100x3.joblib"), 680_000, 0.68)


def _cold(variant: str, totals: list[float]) -> ColdResult:
    runs = [
        ColdRun(t, {"interpreter": 0.0, "imports": t, "model": 0.0, "first_prediction": 0.0}) for t in totals
    ]
    return ColdResult(variant, MODEL, runs)


def test_cold_start_goal_uses_the_median_ratio_and_says_by_how_much_it_is_missed():
    cold = [_cold("cdk-sklearn", [500, 600, 10_000]), _cold("scikit-learn-lambda", [1000, 1000, 1000])]
    [goal] = goals(cold, [], None)
    assert not goal.met
    assert goal.measured.startswith("0.60x")
    assert goal.gap == "50% over on mlp-100x3"


def test_layer_goal_is_met_at_the_limit():
    [goal] = goals([], [], 150.0)
    assert goal.met
    assert "| yes |" in goals_table([goal])
