"""Converters written for double: an imputer that rounds nothing, decision-only linear models, kernel SVMs."""

from __future__ import annotations

import joblib
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Perceptron, RidgeClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC, SVR, LinearSVC, LinearSVR, NuSVR

from cdk_sklearn.model.onnx import convert

RNG = np.random.default_rng(7)
X = RNG.normal(size=(150, 3))
Y = (X[:, 0] + X[:, 1] > 0).astype(int)


def _session(tmp_path, model, rows):
    joblib.dump(model, tmp_path / "model.joblib")
    np.save(tmp_path / "rows.npy", rows)
    result = convert(tmp_path / "model.joblib", tmp_path / "rows.npy", measure_cost=False)
    return result, ort.InferenceSession(result.onnx_bytes, providers=["CPUExecutionProvider"])


def test_imputer_passes_values_through_unrounded(tmp_path):
    # the imputer is the pipeline's first step: a LinearSVR after it reads what it hands on
    missing = X.copy()
    missing[::5, 1] = np.nan
    model = make_pipeline(SimpleImputer(), LinearSVR(random_state=0)).fit(missing, X[:, 0])
    _, session = _session(tmp_path, model, missing[:40])
    (prediction,) = session.run(None, {"X": missing})
    assert np.abs(prediction.ravel() - model.predict(missing)).max() < 1e-12  # float32 would be ~1e-7


def test_imputer_uses_no_imputer_operator(tmp_path):
    missing = X.copy()
    missing[::5, 1] = np.nan
    model = make_pipeline(SimpleImputer(strategy="median"), LinearSVR(random_state=0)).fit(missing, X[:, 0])
    result, _ = _session(tmp_path, model, missing[:40])
    operators = {node.op_type for node in onnx.load_from_string(result.onnx_bytes).graph.node}
    assert "Imputer" not in operators and {"IsNaN", "Where"} <= operators


@pytest.mark.parametrize("kind", [RidgeClassifier, LinearSVC, Perceptron])
def test_decision_only_linear_classifier_scores_in_double(tmp_path, kind):
    model = kind().fit(X, Y)
    result, session = _session(tmp_path, model, X[:40])
    label, scores = session.run(None, {"X": X})
    assert label.tolist() == model.predict(X).tolist()
    assert np.abs(scores[:, 1] - model.decision_function(X)).max() < 1e-12
    assert result.outputs.scores is not None


def test_multiclass_linear_classifier_takes_the_first_largest_score(tmp_path):
    target = np.digitize(X[:, 0], [-0.5, 0.5])
    model = LinearSVC().fit(X, target)
    _, session = _session(tmp_path, model, X[:40])
    label, scores = session.run(None, {"X": X})
    assert label.tolist() == model.predict(X).tolist()
    assert np.abs(scores - model.decision_function(X)).max() < 1e-12


@pytest.mark.parametrize("kernel", ["rbf", "linear", "poly", "sigmoid"])
def test_svr_kernels_in_double(tmp_path, kernel):
    model = SVR(kernel=kernel, C=10.0).fit(X, 100 + 50 * X[:, 0])
    _, session = _session(tmp_path, model, X[:40])
    (prediction,) = session.run(None, {"X": X})
    assert np.abs(prediction.ravel() - model.predict(X)).max() < 1e-9


def test_nu_svr_in_double(tmp_path):
    model = NuSVR().fit(X, X[:, 0])
    _, session = _session(tmp_path, model, X[:40])
    (prediction,) = session.run(None, {"X": X})
    assert np.abs(prediction.ravel() - model.predict(X)).max() < 1e-12


def test_two_class_svc_scores_have_scikit_learns_sign(tmp_path):
    model = SVC().fit(X, Y)
    _, session = _session(tmp_path, model, X[:40])
    label, scores = session.run(None, {"X": X})
    assert label.tolist() == model.predict(X).tolist()
    assert np.abs(scores[:, 1] - model.decision_function(X)).max() < 1e-12
