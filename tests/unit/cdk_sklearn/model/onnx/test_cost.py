"""The graph's run-time cost, measured once at conversion in child processes and written to the report."""

from __future__ import annotations

import joblib
import numpy as np
from sklearn.ensemble import RandomForestClassifier

from cdk_sklearn.model.onnx import convert
from cdk_sklearn.model.onnx.cost import measure_runtime_cost

RNG = np.random.default_rng(2)
X = RNG.normal(size=(200, 4))


def _converted(tmp_path, **kwargs):
    model = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, X[:, 0] > 0)
    joblib.dump(model, tmp_path / "model.joblib")
    np.save(tmp_path / "rows.npy", X[:30])
    return convert(tmp_path / "model.joblib", tmp_path / "rows.npy", **kwargs)


def test_report_has_the_agreed_cost_fields(tmp_path):
    report = _converted(tmp_path).report()
    assert isinstance(report["session_create_ms"], float) and report["session_create_ms"] > 0
    assert isinstance(report["session_peak_rss_mb"], float) and report["session_peak_rss_mb"] >= 0


def test_the_cost_is_not_measured_when_asked_not_to(tmp_path):
    report = _converted(tmp_path, measure_cost=False).report()
    assert report["session_create_ms"] is None and report["session_peak_rss_mb"] is None


def test_measuring_leaves_the_graph_bytes_alone(tmp_path):
    measured, unmeasured = _converted(tmp_path), _converted(tmp_path, measure_cost=False)
    assert measured.onnx_bytes == unmeasured.onnx_bytes


def test_a_graph_onnxruntime_cannot_load_has_no_cost():
    assert measure_runtime_cost(b"not a graph") is None
