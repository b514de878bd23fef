"""Tolerances that fit the output: absolute for probabilities, relative to the scale for regression."""

from __future__ import annotations

import json

import joblib
import numpy as np
import onnxruntime as ort
import pytest
from sklearn.ensemble import GradientBoostingRegressor

from cdk_sklearn.model.onnx import Tolerance, VerificationError, convert

RNG = np.random.default_rng(11)
X = RNG.normal(size=(300, 4))
TARGET = 25.0 + 325.0 * RNG.random(300)  # a target of 25-350, like a price or a duration


@pytest.fixture(scope="module")
def boosted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("boosted")
    model = GradientBoostingRegressor(n_estimators=30, random_state=0).fit(X, TARGET)
    joblib.dump(model, folder / "model.joblib")
    np.save(folder / "rows.npy", X[:80])
    return folder / "model.joblib", folder / "rows.npy"


def test_prediction_bound_is_relative_to_the_output_scale():
    tolerance = Tolerance(1e-5, 1e-5, scale=350.0)
    assert tolerance.prediction == pytest.approx(3.5e-3)
    assert tolerance.bound("prediction", np.array([10.0, -7000.0])).tolist() == pytest.approx([3.5e-3, 7e-2])


def test_probability_bound_stays_absolute():
    assert Tolerance(1e-5, 1e-5, scale=350.0).bound("probabilities", np.array([0.5])).tolist() == [1e-5]


def test_prediction_bound_never_falls_below_the_absolute_tolerance():
    assert Tolerance(1e-5, 1e-5, scale=0.01).prediction == 1e-5


def test_a_float32_regressor_on_a_large_target_is_verified(boosted):
    result = convert(*boosted, measure_cost=False)
    assert result.max_differences["prediction"] > 1e-6  # the float32 tree operator's rounding
    tolerances = result.report()["tolerances"]["prediction"]
    assert tolerances["rtol"] == 1e-5 and 100 < tolerances["scale"] < 350


def test_fails_a_regressor_without_relative_tolerance(boosted):
    with pytest.raises(VerificationError, match=r"GradientBoostingRegressor.*largest difference"):
        convert(*boosted, tolerance=0.0, rtol=0.0, measure_cost=False)


def test_the_metadata_record_carries_the_tolerances(boosted):
    result = convert(*boosted, measure_cost=False)
    session = ort.InferenceSession(result.onnx_bytes, providers=["CPUExecutionProvider"])
    record = json.loads(session.get_modelmeta().custom_metadata_map["cdk_sklearn"])
    assert record["verification"]["tolerances"] == result.report()["tolerances"]
