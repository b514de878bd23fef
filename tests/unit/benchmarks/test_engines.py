"""benchmarks.engines: the cost figure follows Lambda's billing; scikit-learn-lambda's row."""

from __future__ import annotations

import json

import pytest

from benchmarks.coldstart import IRIS_ROW, ColdResult, ColdRun, Variant, probe_args
from benchmarks.engines import cold_after_interpreter, cost_per_million, na_reason
from benchmarks.models import BenchModel
from benchmarks.targets import host_target


def test_cost_bills_a_started_millisecond_at_1024_mb():
    # AWS Lambda pricing, x86_64: $0.20 per million requests, $0.0000166667 per GB-second.
    assert cost_per_million(0.05) == pytest.approx(0.20 + 0.001 * 0.0000166667 * 1e6)


def test_cost_rounds_up_to_the_next_millisecond():
    assert cost_per_million(1.2) == pytest.approx(0.20 + 0.002 * 0.0000166667 * 1e6)


def test_na_reason_keeps_the_handler_answer():
    error = RuntimeError(
        "scikit-learn-lambda cold start on DataFrame pipeline (trixie): the handler answered 500: "
        '{"error": "Failed to get model prediction: Specifying the columns using strings is only supported"}'
    )
    assert na_reason(error).startswith('the handler answered 500: {"error": "Failed to get model prediction')


def test_na_reason_of_a_crash_is_the_last_line_of_its_stderr():
    error = RuntimeError(
        "x cold start on m (trixie): the probe gave no result; its stderr:\nTraceback\n  ...\nKeyError: 1\n"
    )
    assert na_reason(error) == "KeyError: 1"


def test_cold_after_interpreter_leaves_the_start_up_phase_out(tmp_path):
    model = BenchModel("m", tmp_path / "m.joblib", 0, None)
    runs = [ColdRun(total, {"interpreter": 20.0}) for total in (120.0, 100.0, 140.0)]
    assert cold_after_interpreter(ColdResult("scikit-learn-lambda", model, runs)) == 100.0


def test_probe_sends_the_models_own_rows_when_it_has_them(tmp_path):
    variant = Variant("v", (), handler="h:handler", body_key="input")
    rows = json.dumps([[1.0, 2.0], [3.0, 4.0]])
    with_rows = BenchModel("m", tmp_path / "m.joblib", 0, None, rows=rows)
    assert f"rows={json.dumps([[1.0, 2.0]])}" in probe_args(variant, host_target(), with_rows)
    iris = BenchModel("m", tmp_path / "m.joblib", 0, None)
    assert f"rows={IRIS_ROW}" in probe_args(variant, host_target(), iris)
