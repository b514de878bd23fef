"""Averaged trees in double: scikit-learn's probabilities bit for bit and its label, ties included."""

from __future__ import annotations

import joblib
import numpy as np
import onnxruntime as ort
import pytest
from sklearn.ensemble import ExtraTreesRegressor, RandomForestClassifier, RandomForestRegressor
from sklearn.tree import DecisionTreeClassifier

from cdk_sklearn.model.onnx import convert

CORNERS = np.array([[0.0, 0.0], [1.0, 1.0]] * 4)


def _convert(tmp_path, model, rows):
    joblib.dump(model, tmp_path / "model.joblib")
    np.save(tmp_path / "rows.npy", rows)
    result = convert(tmp_path / "model.joblib", tmp_path / "rows.npy", measure_cost=False)
    session = ort.InferenceSession(result.onnx_bytes, providers=["CPUExecutionProvider"])
    return result, session


def _disagreeing_forest(labels):
    """Two trees, one splitting on each feature: they disagree on (1, 0) and (0, 1)."""
    forest = RandomForestClassifier(n_estimators=2, max_features=1, bootstrap=False, random_state=0)
    forest.fit(CORNERS, np.array(labels * 4))
    assert sorted(int(e.tree_.feature[0]) for e in forest.estimators_) == [0, 1]  # the premise
    return forest


@pytest.mark.parametrize("labels", [["no", "yes"], [3, 7]])
def test_a_tie_takes_the_first_class_like_scikit_learn(tmp_path, labels):
    forest = _disagreeing_forest(labels)
    ties = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert forest.predict_proba(ties).tolist() == [[0.5, 0.5], [0.5, 0.5]]  # an exact tie
    _, session = _convert(tmp_path, forest, np.vstack([CORNERS[:2], ties]))
    label, probabilities = session.run(None, {"X": ties})
    assert label.tolist() == forest.predict(ties).tolist() == [labels[0], labels[0]]
    assert probabilities.tolist() == [[0.5, 0.5], [0.5, 0.5]]


def test_forest_probabilities_are_scikit_learns_bit_for_bit(tmp_path):
    rng = np.random.default_rng(3)
    features, target = rng.normal(size=(300, 4)), rng.integers(0, 3, 300)
    forest = RandomForestClassifier(n_estimators=7, min_samples_leaf=3, random_state=0).fit(features, target)
    rows = rng.normal(size=(200, 4))
    _, session = _convert(tmp_path, forest, rows[:50])
    label, probabilities = session.run(None, {"X": rows})
    assert np.array_equal(probabilities, forest.predict_proba(rows))
    assert label.tolist() == forest.predict(rows).tolist()


def test_rows_at_each_split_threshold_follow_scikit_learn(tmp_path):
    rng = np.random.default_rng(4)
    features, target = rng.normal(size=(200, 3)), rng.integers(0, 2, 200)
    forest = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(features, target)
    rows = []
    for tree in (e.tree_ for e in forest.estimators_):
        for feature, threshold in zip(tree.feature, tree.threshold, strict=True):
            if feature >= 0:  # a split: a row on the threshold, and one a float64 ulp above it
                for value in (threshold, np.nextafter(threshold, np.inf)):
                    row = features[0].copy()
                    row[feature] = value
                    rows.append(row)
    crafted = np.array(rows)
    _, session = _convert(tmp_path, forest, features[:20])
    label, probabilities = session.run(None, {"X": crafted})
    assert label.tolist() == forest.predict(crafted).tolist()
    assert np.array_equal(probabilities, forest.predict_proba(crafted))


@pytest.mark.parametrize("kind", [RandomForestRegressor, ExtraTreesRegressor])
def test_averaged_regressors_are_scikit_learns_bit_for_bit(tmp_path, kind):
    rng = np.random.default_rng(5)
    features = rng.normal(size=(200, 3))
    model = kind(n_estimators=6, random_state=0).fit(features, 25 + 300 * rng.random(200))
    result, session = _convert(tmp_path, model, features[:30])
    (prediction,) = session.run(None, {"X": features})
    assert np.array_equal(prediction.ravel(), model.predict(features))
    assert result.max_differences["prediction"] == 0.0


def test_a_tree_that_is_one_leaf_converts(tmp_path):
    stump = DecisionTreeClassifier().fit(CORNERS, [1] * len(CORNERS))
    _, session = _convert(tmp_path, stump, CORNERS[:2])
    label, _ = session.run(None, {"X": CORNERS[:2]})
    assert label.tolist() == [1, 1]


def test_the_report_says_the_labels_are_exact(tmp_path):
    result, _ = _convert(tmp_path, _disagreeing_forest([0, 1]), CORNERS[:2])
    assert result.report()["labels"]["exact"] is True


def test_fails_a_multi_output_forest_in_one_line(tmp_path):
    from cdk_sklearn.model.onnx import ConversionError

    forest = RandomForestClassifier(n_estimators=2, random_state=0).fit(
        CORNERS, np.column_stack([[0, 1] * 4] * 2)
    )
    with pytest.raises(ConversionError) as caught:
        _convert(tmp_path, forest, CORNERS[:2])
    assert "\n" not in str(caught.value)
