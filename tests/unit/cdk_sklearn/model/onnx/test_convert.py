"""convert: a verified ONNX graph per model kind; expected answers come from scikit-learn itself."""

from __future__ import annotations

import json

import joblib
import lightgbm
import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
import xgboost
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from cdk_sklearn.model.artifact import inspect_model
from cdk_sklearn.model.onnx import ConversionError, VerificationError, convert, report_path
from tests.helpers.onnx_models import Custom

X, Y = make_classification(400, 5, n_informative=4, n_redundant=0, n_classes=3, random_state=0)
RNG = np.random.default_rng(0)
FRAME = pd.DataFrame(
    {
        "age": RNG.normal(40, 10, 400),
        "income": RNG.lognormal(10, 1, 400),
        "city": RNG.choice(["a", "b", "c"], 400),
    }
)
FRAME_Y = ((FRAME.age > 40) ^ (FRAME.city == "b")).astype(int)


@pytest.fixture(scope="module")
def matrix_sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "rows.npy"
    np.save(path, X[:80])
    return path


@pytest.fixture(scope="module")
def frame_sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "rows.csv"
    FRAME.iloc[:80].to_csv(path, index=False)
    return path


def _dump(tmp_path, model, name="model.joblib"):
    path = tmp_path / name
    joblib.dump(model, path)
    return path


def _run(result, feed):
    session = ort.InferenceSession(result.onnx_bytes, providers=["CPUExecutionProvider"])
    return session.run(None, feed)


def _assert_classifier_matches(model, result, feed, rows):
    label, proba = _run(result, feed)
    assert label.tolist() == model.predict(rows).tolist()
    assert np.abs(proba - model.predict_proba(rows)).max() <= 1e-5


def test_random_forest_matches_scikit_learn(tmp_path, matrix_sample):
    model = RandomForestClassifier(n_estimators=15, random_state=0).fit(X, Y)
    result = convert(_dump(tmp_path, model), matrix_sample)
    _assert_classifier_matches(model, result, {"X": X[80:]}, X[80:])


def test_mlp_matches_scikit_learn_in_double(tmp_path, matrix_sample):
    model = MLPClassifier((8,), max_iter=50, random_state=0).fit(X, Y)
    result = convert(_dump(tmp_path, model), matrix_sample)
    _assert_classifier_matches(model, result, {"X": X[80:]}, X[80:])
    assert result.max_differences["probabilities"] < 1e-12


def test_scaled_logistic_regression_matches_scikit_learn(tmp_path, matrix_sample):
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y)
    result = convert(_dump(tmp_path, model), matrix_sample)
    _assert_classifier_matches(model, result, {"X": X[80:]}, X[80:])


def test_xgboost_matches_xgboost(tmp_path, matrix_sample):
    model = xgboost.XGBClassifier(n_estimators=10, max_depth=3).fit(X, Y)
    result = convert(_dump(tmp_path, model), matrix_sample)
    _assert_classifier_matches(model, result, {"X": X[80:]}, X[80:])


def test_lightgbm_matches_lightgbm(tmp_path, matrix_sample):
    model = lightgbm.LGBMClassifier(n_estimators=10, verbose=-1).fit(X, Y)
    result = convert(_dump(tmp_path, model), matrix_sample)
    _assert_classifier_matches(model, result, {"X": X[80:]}, X[80:])


def test_regressor_matches_scikit_learn(tmp_path, matrix_sample):
    model = RandomForestRegressor(n_estimators=10, random_state=0).fit(X, X[:, 0] + Y)
    result = convert(_dump(tmp_path, model), matrix_sample)
    (prediction,) = _run(result, {"X": X[80:]})
    assert np.abs(prediction.ravel() - model.predict(X[80:])).max() <= 1e-5
    assert result.outputs.prediction == "variable"


def test_dataframe_pipeline_takes_one_input_per_column(tmp_path, frame_sample):
    model = make_pipeline(
        ColumnTransformer(
            [
                ("num", StandardScaler(), ["age", "income"]),
                ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"]),
            ]
        ),
        HistGradientBoostingClassifier(max_iter=10, random_state=0),
    ).fit(FRAME, FRAME_Y)
    result = convert(_dump(tmp_path, model), frame_sample)
    assert [(i.name, i.type) for i in result.inputs] == [
        ("age", "double"),
        ("income", "double"),
        ("city", "string"),
    ]
    rows = FRAME.iloc[80:]
    feed = {
        "age": rows[["age"]].to_numpy(),
        "income": rows[["income"]].to_numpy(),
        "city": rows[["city"]].to_numpy().astype(object),
    }
    _assert_classifier_matches(model, result, feed, rows)
    unseen = next(c for c in result.edge_cases if c.kind == "unseen_category")
    assert (unseen.sklearn, unseen.onnx, unseen.outcome) == ("ok", "ok", "same")


def test_nan_the_model_refuses_is_flagged_for_the_runtime(tmp_path, matrix_sample):
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y)
    with pytest.raises(ValueError):
        model.predict(np.array([[np.nan, 0, 0, 0, 0]]))  # the premise: scikit-learn refuses NaN
    result = convert(_dump(tmp_path, model), matrix_sample)
    assert result.inputs[0].allow_nan is False
    assert {c.outcome for c in result.edge_cases if c.kind == "nan"} == {"runtime_rejects"}


def test_nan_the_model_takes_is_allowed(tmp_path, frame_sample):
    model = make_pipeline(
        ColumnTransformer([("num", "passthrough", ["age", "income"])]),
        HistGradientBoostingClassifier(max_iter=10, random_state=0),
    ).fit(FRAME, FRAME_Y)
    result = convert(_dump(tmp_path, model), frame_sample)
    assert {i.name: i.allow_nan for i in result.inputs}["age"] is True


def test_graph_bytes_are_reproducible(tmp_path, matrix_sample):
    path = _dump(tmp_path, RandomForestClassifier(n_estimators=5, random_state=0).fit(X, Y))
    assert convert(path, matrix_sample).onnx_bytes == convert(path, matrix_sample).onnx_bytes


def test_report_is_written_next_to_the_graph(tmp_path, matrix_sample):
    path = _dump(tmp_path, make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y))
    result = convert(path, matrix_sample)
    graph, report = result.write(tmp_path / "out" / "model.onnx")
    assert report == report_path(graph) == tmp_path / "out" / "model.onnx.report.json"
    data = json.loads(report.read_text())
    assert data["onnx"]["sha256"] == result.onnx_sha256
    assert data["rows_checked"] == 80 and data["tolerance"] == 1e-5
    assert report.read_text() == result.report_json()


def test_written_graph_is_inspected_as_onnx(tmp_path, matrix_sample):
    path = _dump(tmp_path, make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y))
    graph, _ = convert(path, matrix_sample).write(tmp_path / "model.onnx")
    artifact = inspect_model(graph)
    assert artifact.format == "onnx"
    assert artifact.requirements == ("numpy", f"onnxruntime=={ort.__version__}")


def test_fails_onnx_without_its_report(tmp_path, matrix_sample):
    path = _dump(tmp_path, make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y))
    graph, report = convert(path, matrix_sample).write(tmp_path / "model.onnx")
    report.unlink()
    with pytest.raises(ValueError, match="no verification report"):
        inspect_model(graph)


def test_fails_native_categorical_hist_gradient_boosting(tmp_path, matrix_sample):
    codes = np.column_stack([RNG.integers(0, 3, 400), X[:, 1:]])
    model = HistGradientBoostingClassifier(categorical_features=[0], max_iter=5).fit(codes, Y)
    np.save(tmp_path / "codes.npy", codes[:20])
    with pytest.raises(ConversionError, match="native categorical features"):
        convert(_dump(tmp_path, model), tmp_path / "codes.npy")


def test_fails_estimator_without_converter(tmp_path, matrix_sample):
    with pytest.raises(ConversionError, match="Custom cannot be converted to ONNX"):
        convert(_dump(tmp_path, Custom().fit(X, Y)), matrix_sample)


def test_fails_when_the_graph_disagrees_beyond_tolerance(tmp_path, matrix_sample):
    path = _dump(tmp_path, GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, Y))
    # its tree operator sums in float32: ~1e-8 from scikit-learn's float64, which a zero tolerance refuses
    with pytest.raises(VerificationError, match=r"GradientBoostingClassifier.*largest difference"):
        convert(path, matrix_sample, tolerance=0.0)


def test_fails_sample_without_the_model_columns(tmp_path, matrix_sample):
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(FRAME[["age", "income"]], FRAME_Y)
    FRAME[["age"]].to_csv(tmp_path / "rows.csv", index=False)
    with pytest.raises(ConversionError, match="lacks the model's columns"):
        convert(_dump(tmp_path, model), tmp_path / "rows.csv")


def test_trees_compare_the_float32_cast_input_like_scikit_learn(tmp_path):
    from sklearn.tree import DecisionTreeClassifier

    ulp = 2.0**-23
    model = DecisionTreeClassifier().fit([[1.0], [1.0 + 4 * ulp]], [0, 1])
    threshold = model.tree_.threshold[0]
    # Above the threshold in float64, on it once rounded to float32 as scikit-learn rounds it.
    row = np.array([[threshold + 2.0**-30]])
    assert row[0, 0] > threshold and np.float32(row[0, 0]) <= threshold
    np.save(tmp_path / "rows.npy", row)
    result = convert(_dump(tmp_path, model), tmp_path / "rows.npy")
    label, _ = _run(result, {"X": row})
    assert label.tolist() == model.predict(row).tolist() == [0]


def test_fails_onnx_whose_report_names_another_graph(tmp_path, matrix_sample):
    path = _dump(tmp_path, make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y))
    graph, _ = convert(path, matrix_sample).write(tmp_path / "model.onnx")
    graph.write_bytes(graph.read_bytes() + b"\x00")  # protobuf still parses: a field 0 is invalid though
    with pytest.raises(ValueError):
        inspect_model(graph)


def test_a_file_starting_like_onnx_is_not_taken_for_onnx(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\x08\x08not a protobuf at all")
    with pytest.raises(ValueError, match="expected a scikit-learn model"):
        inspect_model(path)


def _record(result):
    session = ort.InferenceSession(result.onnx_bytes, providers=["CPUExecutionProvider"])
    return json.loads(session.get_modelmeta().custom_metadata_map["cdk_sklearn"])


def test_graph_carries_the_runtime_record_with_the_classes(tmp_path, matrix_sample):
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, Y)
    record = _record(convert(_dump(tmp_path, model), matrix_sample))
    assert (record["schema"], record["classes"]) == (1, model.classes_.tolist())


def test_runtime_record_maps_methods_to_outputs(tmp_path, matrix_sample):
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, Y)
    record = _record(convert(_dump(tmp_path, model), matrix_sample))
    assert record["outputs"] == {"predict": "label", "predict_proba": "probabilities"}


def test_runtime_record_names_each_column_input(tmp_path, frame_sample):
    model = make_pipeline(
        ColumnTransformer([("num", "passthrough", ["age", "income"])]),
        HistGradientBoostingClassifier(max_iter=10, random_state=0),
    ).fit(FRAME, FRAME_Y)
    record = _record(convert(_dump(tmp_path, model), frame_sample))
    assert [(i["name"], i["column"]) for i in record["inputs"]] == [
        ("age", "age"),
        ("income", "income"),
        ("city", "city"),
    ]


def test_runtime_record_refuses_nan_where_scikit_learn_does(tmp_path, matrix_sample):
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y)
    record = _record(convert(_dump(tmp_path, model), matrix_sample))
    assert record["inputs"] == [{"name": "X", "allow_nan": False}]


def test_runtime_record_carries_the_verification(tmp_path, matrix_sample):
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, Y)
    record = _record(convert(_dump(tmp_path, model), matrix_sample))
    assert (record["verification"]["passed"], record["verification"]["rows"]) == (True, 80)


def test_runtime_record_names_the_estimator_by_its_public_path(tmp_path, matrix_sample):
    model = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, Y)
    record = _record(convert(_dump(tmp_path, model), matrix_sample))
    assert record["estimator_class"] == "sklearn.ensemble.RandomForestClassifier"
