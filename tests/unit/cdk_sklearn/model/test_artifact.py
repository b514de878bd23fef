"""inspect_model: format, hash, training version and requirements, read without unpickling."""

from __future__ import annotations

import hashlib
import os
import pickle
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer

from cdk_sklearn.model.artifact import ModelArtifact, inspect_model
from tests.helpers import models

IRIS_X, IRIS_Y = load_iris(return_X_y=True)


@pytest.fixture(scope="module")
def forest():
    return RandomForestClassifier(n_estimators=3, max_depth=3, random_state=0).fit(IRIS_X, IRIS_Y)


class Exploding:
    """Unpickling this runs code: inspect_model must never do it."""

    def __reduce__(self):
        return (os.system, ("touch /tmp/cdk-sklearn-must-not-exist",))


def test_reads_joblib_model(tmp_path, forest):
    path = tmp_path / "forest.joblib"
    joblib.dump(forest, path)
    artifact = inspect_model(path)
    assert artifact.format == "joblib"
    assert artifact.sklearn_version == "1.9.1"
    assert artifact.requirements[0] == "scikit-learn==1.9.1"
    assert {"sklearn", "numpy"} <= artifact.modules
    assert artifact.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert artifact.size_bytes == path.stat().st_size
    assert artifact.path == path.resolve()


@pytest.mark.parametrize("compress", ["zlib", "gzip", "bz2", "xz", "lzma"])
def test_reads_compressed_joblib(tmp_path, forest, compress):
    path = tmp_path / f"forest.{compress}.joblib"
    joblib.dump(forest, path, compress=(compress, 3))
    artifact = inspect_model(path)
    assert (artifact.format, artifact.compression, artifact.sklearn_version) == ("joblib", compress, "1.9.1")


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_reads_pickle_of_every_protocol(tmp_path, forest, protocol):
    path = tmp_path / "forest.pkl"
    path.write_bytes(pickle.dumps(forest, protocol=protocol))
    artifact = inspect_model(path)
    assert (artifact.format, artifact.sklearn_version) == ("pickle", "1.9.1")


def test_reads_skops_schema(tmp_path, forest):
    path = tmp_path / "forest.skops"
    skops.io.dump(forest, path)
    artifact = inspect_model(path)
    assert artifact.format == "skops"
    assert artifact.sklearn_version == "1.9.1"
    assert artifact.requirements == ("scikit-learn==1.9.1", f"skops=={skops.__version__}")


def test_joblib_object_arrays_are_skipped_as_nested_pickles(tmp_path):
    model = LogisticRegression(max_iter=500).fit(pd.DataFrame(IRIS_X, columns=list("abcd")), IRIS_Y)
    assert model.feature_names_in_.dtype == object
    path = tmp_path / "named.joblib"
    joblib.dump({"model": model, "after": np.arange(5)}, path)
    artifact = inspect_model(path)
    assert artifact.sklearn_version == "1.9.1"


def test_pandas_reference_adds_pandas(tmp_path, forest):
    path = tmp_path / "with_frame.joblib"
    joblib.dump({"model": forest, "reference": pd.DataFrame({"a": [1.0, 2.0]})}, path)
    artifact = inspect_model(path)
    assert "pandas" in artifact.requirements
    assert "pandas" in artifact.modules


def test_numpy_2_pickle_requires_numpy_2(tmp_path, forest):
    path = tmp_path / "forest.joblib"
    joblib.dump(forest, path)
    assert "numpy>=2" in inspect_model(path).requirements


def test_never_unpickles(tmp_path):
    marker = "/tmp/cdk-sklearn-must-not-exist"
    if os.path.exists(marker):
        os.remove(marker)
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"model": Exploding()}))
    artifact = inspect_model(path)
    assert "os" in artifact.modules or "posix" in artifact.modules
    assert not os.path.exists(marker)


def test_unknown_modules_are_reported(tmp_path):
    path = tmp_path / "main.pkl"
    path.write_bytes(b"cmycorp.models\nThing\n(tR.")  # protocol 0: mycorp.models.Thing()
    assert "mycorp" in inspect_model(path).unknown_modules


def test_fifty_megabyte_model_is_fast(tmp_path):
    import time

    path = tmp_path / "big.joblib"
    joblib.dump({"weights": np.zeros((6_500_000,)), "model": LogisticRegression()}, path)
    assert path.stat().st_size > 50_000_000
    started = time.perf_counter()
    inspect_model(path)
    assert time.perf_counter() - started < 2.0


def test_fails_on_empty_file(tmp_path):
    path = tmp_path / "empty.joblib"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.joblib is empty; expected a scikit-learn model"):
        inspect_model(path)


def test_fails_on_text_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("these are not the weights you are looking for\n")
    with pytest.raises(ValueError, match=r"notes\.txt is not a readable pickle stream"):
        inspect_model(path)


def test_fails_on_random_bytes(tmp_path):
    path = tmp_path / "noise.pkl"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ValueError, match=r"noise\.pkl .*expected a scikit-learn model"):
        inspect_model(path)


def test_fails_on_truncated_joblib(tmp_path, forest):
    path = tmp_path / "cut.joblib"
    joblib.dump(forest, path)
    path.write_bytes(path.read_bytes()[:700])
    with pytest.raises(ValueError, match=r"cut\.joblib is not a readable pickle stream"):
        inspect_model(path)


def test_fails_on_truncated_compressed_joblib(tmp_path, forest):
    path = tmp_path / "cut.joblib"
    joblib.dump(forest, path, compress=("gzip", 3))
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ValueError, match=r"cut\.joblib is not a readable gzip-compressed joblib file"):
        inspect_model(path)


def test_fails_on_plain_data_pickle(tmp_path):
    path = tmp_path / "numbers.pkl"
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(ValueError, match="references no class or function"):
        inspect_model(path)


def test_fails_on_zip_without_schema(tmp_path):
    path = tmp_path / "archive.skops"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match=r"zip without schema\.json"):
        inspect_model(path)


def test_fails_on_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        inspect_model(tmp_path / "absent.joblib")


def test_fails_on_unreleased_version_string(tmp_path, forest):
    path = tmp_path / "forest.pkl"
    path.write_bytes(pickle.dumps(forest, protocol=2).replace(b"1.9.1", b"1.9;x"))
    with pytest.raises(ValueError, match="not a release version pip can install"):
        inspect_model(path)


def test_artifact_is_frozen(tmp_path, forest):
    path = tmp_path / "forest.joblib"
    joblib.dump(forest, path)
    artifact: ModelArtifact = inspect_model(path)
    with pytest.raises(AttributeError):
        artifact.sha256 = "x"  # type: ignore[misc]


def test_runtime_environment_describes_the_model(tmp_path, forest):
    path = tmp_path / "forest.joblib"
    joblib.dump(forest, path)
    artifact = inspect_model(path)
    assert artifact.runtime_environment() == {
        "MODEL_SHA256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "MODEL_FORMAT": "joblib",
        "MODEL_SKLEARN_VERSION": artifact.sklearn_version,
    }


def test_dataframe_pipeline_needs_pandas_although_its_pickle_never_names_it(tmp_path):
    path = tmp_path / "frame.joblib"
    joblib.dump(models.frame_pipeline(), path)
    artifact = inspect_model(path)
    assert "pandas" not in artifact.modules
    assert artifact.named_columns
    assert artifact.requirements[:2] == ("scikit-learn==1.9.1", "pandas")


def test_model_fitted_on_an_array_does_not_need_pandas(tmp_path, forest):
    path = tmp_path / "forest.joblib"
    joblib.dump(forest, path)
    artifact = inspect_model(path)
    assert not artifact.named_columns
    assert "pandas" not in artifact.requirements


def test_skops_model_fitted_on_named_columns_needs_pandas(tmp_path):
    path = tmp_path / "frame.skops"
    skops.io.dump(models.frame_pipeline(), path)
    artifact = inspect_model(path)
    assert artifact.named_columns and "pandas" in artifact.requirements


def test_xgboost_model_needs_the_cpu_build_pinned_to_the_version_that_wrote_it(tmp_path):
    import xgboost

    path = tmp_path / "xgb.joblib"
    joblib.dump(models.xgb_classifier(), path)
    artifact = inspect_model(path)
    assert artifact.xgboost_version == xgboost.__version__
    assert f"xgboost-cpu=={xgboost.__version__}" in artifact.requirements
    assert not any(r.startswith("xgboost==") or r == "xgboost" for r in artifact.requirements)
    assert artifact.advisories == ()


def test_xgboost_model_without_sklearn_version_still_gets_scikit_learn_and_joblib(tmp_path):
    path = tmp_path / "xgb.pkl"
    path.write_bytes(pickle.dumps(models.xgb_classifier()))
    artifact = inspect_model(path)
    assert artifact.sklearn_version is None
    assert artifact.requirements[:2] == ("scikit-learn", "joblib")


def test_lightgbm_model_needs_lightgbm_and_scikit_learn(tmp_path):
    path = tmp_path / "lgbm.joblib"
    joblib.dump(models.lgbm_classifier(), path)
    artifact = inspect_model(path)
    assert artifact.requirements[0] == "scikit-learn==1.9.1"
    assert "lightgbm" in artifact.requirements
    assert "lightgbm.sklearn" in artifact.referenced


def test_function_from_the_training_script_is_referenced_as_main(tmp_path, monkeypatch):
    import __main__

    def double(features):
        return features * 2

    double.__module__ = "__main__"
    double.__qualname__ = "double"
    monkeypatch.setattr(__main__, "double", double, raising=False)
    path = tmp_path / "script.joblib"
    joblib.dump(FunctionTransformer(double).fit(IRIS_X), path)
    assert "__main__" in inspect_model(path).referenced


def test_xgboost_model_without_a_recorded_version_gets_the_newest_cpu_build_and_a_warning(tmp_path):
    path = tmp_path / "old_xgb.pkl"
    path.write_bytes(b"cxgboost.sklearn\nXGBClassifier\n(tR.")  # protocol 0, no booster bytes
    artifact = inspect_model(path)
    assert "xgboost-cpu" in artifact.requirements
    assert len(artifact.advisories) == 1
    assert "extra_requirements=['xgboost-cpu==X.Y.Z']" in artifact.advisories[0]
