"""The peak-memory estimate: from the model file's arrays, read statically, and the engine's baseline."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.neural_network import MLPClassifier

from cdk_sklearn.fit.memory import HEADROOM_MB, MEMORY_STEP_MB, estimate_memory
from cdk_sklearn.model.artifact import inspect_model

MB = 1024 * 1024


def _forest() -> RandomForestClassifier:
    rng = np.random.default_rng(0)
    features = rng.random((3000, 8))
    target = (features[:, 0] + rng.random(3000) > 1.0).astype(int)
    return RandomForestClassifier(n_estimators=12, random_state=0).fit(features, target)


def _tree_array_bytes(forest: RandomForestClassifier) -> int:
    # What the trees hold, counted by numpy itself, not by the scanner under test.
    return sum(
        tree.tree_.__getstate__()["nodes"].nbytes + tree.tree_.__getstate__()["values"].nbytes
        for tree in forest.estimators_
    )


@pytest.mark.parametrize("how", ["joblib", "joblib-compressed", "pickle"])
def test_data_bytes_are_the_arrays_the_model_holds(tmp_path: Path, how: str) -> None:
    forest = _forest()
    path = tmp_path / ("model.pkl" if how == "pickle" else "model.joblib")
    if how == "pickle":
        path.write_bytes(pickle.dumps(forest))
    else:
        joblib.dump(forest, path, compress=3 if how == "joblib-compressed" else 0)
    arrays = _tree_array_bytes(forest)
    data = inspect_model(path).data_bytes
    # The trees' arrays plus the few small ones around them (classes_, n_classes_...).
    assert arrays <= data <= arrays * 1.05 + 4096


def test_trees_count_twice_and_the_download_once(tmp_path: Path) -> None:
    path = tmp_path / "forest.joblib"
    joblib.dump(_forest(), path)
    model = inspect_model(path)
    estimate = estimate_memory(model, "sklearn")
    assert estimate.download_mb == pytest.approx(model.size_bytes / MB)
    assert estimate.model_mb == pytest.approx((2 * model.data_bytes + model.object_bytes) / MB)


def test_other_arrays_count_once(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    mlp = MLPClassifier(hidden_layer_sizes=(64,), max_iter=20, random_state=0)
    mlp.fit(rng.random((200, 5)), rng.integers(0, 2, 200))
    path = tmp_path / "mlp.joblib"
    joblib.dump(mlp, path)
    model = inspect_model(path)
    weights = sum(w.nbytes for w in mlp.coefs_) + sum(b.nbytes for b in mlp.intercepts_)
    assert estimate_memory(model, "sklearn").model_mb == pytest.approx(
        (model.data_bytes + model.object_bytes) / MB
    )
    assert model.data_bytes >= weights


def test_baseline_is_the_measured_one_for_the_engine(tmp_path: Path) -> None:
    data = json.loads((Path(__file__).parents[4] / "cdk_sklearn" / "fit" / "baselines.json").read_text())
    path = tmp_path / "forest.joblib"
    joblib.dump(_forest(), path)
    model = inspect_model(path)
    assert estimate_memory(model, "sklearn").baseline_mb == data["engines"]["sklearn"]["rss_mb"]
    named = replace(model, named_columns=True)
    assert estimate_memory(named, "sklearn").baseline_mb == data["engines"]["sklearn+pandas"]["rss_mb"]


def test_suggested_memory_size_covers_the_peak_in_steps(tmp_path: Path) -> None:
    path = tmp_path / "forest.joblib"
    joblib.dump(_forest(), path)
    estimate = estimate_memory(inspect_model(path), "sklearn")
    assert estimate.total_mb <= estimate.suggested_memory_size < estimate.total_mb + MEMORY_STEP_MB
    assert estimate.suggested_memory_size % MEMORY_STEP_MB == 0
    assert estimate.headroom_mb >= HEADROOM_MB


def test_onnx_uses_the_sessions_measured_memory(tmp_path: Path) -> None:
    graph = tmp_path / "model.onnx"
    graph.write_bytes(b"\0" * 1000)
    report = tmp_path / "model.onnx.report.json"
    report.write_text(json.dumps({"session_peak_rss_mb": 42.5}))
    path = tmp_path / "forest.joblib"
    joblib.dump(_forest(), path)
    model = replace(inspect_model(path), format="onnx", onnx_report=report)
    assert estimate_memory(model, "onnx").model_mb == 42.5


def test_a_vocabulary_costs_its_python_objects_not_its_file_size(tmp_path: Path) -> None:
    # A dict of short words is a small pickle and a large heap: each entry is a str, an int and a
    # dict slot once loaded (CPython: 49 + len bytes for a str, 28 for an int, ~100 for the slot).
    from sklearn.feature_extraction.text import CountVectorizer

    words = [f"w{i:06d}" for i in range(50_000)]
    vectorizer = CountVectorizer().fit([" ".join(words)])
    path = tmp_path / "vocab.joblib"
    joblib.dump(vectorizer, path)
    model = inspect_model(path)
    assert model.object_bytes >= len(words) * (49 + 7 + 28 + 100) * 0.9
    assert estimate_memory(model, "sklearn").model_mb * MB >= model.object_bytes


def test_fails_cleanly_on_a_pickle_declaring_more_bytes_than_exist(tmp_path: Path) -> None:
    # BINBYTES8 with a length of 2**62: reading it at once would ask for exabytes.
    import struct

    path = tmp_path / "corrupt.pkl"
    path.write_bytes(b"\x80\x04\x8e" + struct.pack("<Q", 2**62) + b"abc")
    with pytest.raises(ValueError, match="not a readable pickle stream"):
        inspect_model(path)
