"""engine="onnx" | "auto": the model is converted and verified at synth, and the graph is the asset."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import joblib
import numpy as np
import onnxruntime as ort
import pytest
from aws_cdk.assertions import Template
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

from cdk_sklearn.endpoint import SklearnLambdaEndpoint
from cdk_sklearn.model.engine import EngineError
from cdk_sklearn.validation import PropsError
from lambda_runtime import contract
from tests.conftest import SKIP_BUNDLING

X, Y = make_classification(300, 4, n_informative=3, n_redundant=0, random_state=0)


class NoConverter(ClassifierMixin, BaseEstimator):
    """skl2onnx has no converter for this estimator."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def forest(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("forest") / "forest.joblib"
    joblib.dump(RandomForestClassifier(n_estimators=5, random_state=0).fit(X, Y), path)
    return path


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sample") / "rows.npy"
    np.save(path, X[:60])
    return path


def synth(model: Path, **props: Any) -> tuple[SklearnLambdaEndpoint, Template]:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    endpoint = SklearnLambdaEndpoint(stack, "E", model_path=str(model), rollout="none", **props)
    return endpoint, Template.from_stack(stack)


def _environment(template: Template) -> dict[str, str]:
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    return function["Properties"]["Environment"]["Variables"]


def test_default_engine_serves_the_model_file(forest):
    endpoint, template = synth(forest)
    assert (endpoint.engine, _environment(template)[contract.ENV_MODEL_FORMAT]) == ("sklearn", "joblib")


def test_onnx_engine_sets_the_onnx_model_format(forest, sample):
    _, template = synth(forest, engine="onnx", sample_input=str(sample))
    assert _environment(template)[contract.ENV_MODEL_FORMAT] == contract.ONNX_FORMAT


def test_onnx_engine_model_asset_is_the_graph(forest, sample):
    endpoint, _ = synth(forest, engine="onnx", sample_input=str(sample))
    assert endpoint.model.path.suffix == ".onnx"


def test_onnx_engine_pins_the_graph_sha256(forest, sample):
    endpoint, template = synth(forest, engine="onnx", sample_input=str(sample))
    digest = __import__("hashlib").sha256(endpoint.model.path.read_bytes()).hexdigest()
    assert _environment(template)[contract.ENV_MODEL_SHA256] == digest


def test_onnx_engine_graph_answers_like_the_model(forest, sample):
    endpoint, _ = synth(forest, engine="onnx", sample_input=str(sample))
    session = ort.InferenceSession(str(endpoint.model.path), providers=["CPUExecutionProvider"])
    labels, _ = session.run(None, {"X": X[200:]})
    assert labels.tolist() == joblib.load(forest).predict(X[200:]).tolist()


def test_onnx_engine_layer_is_numpy_and_onnxruntime(forest, sample):
    endpoint, _ = synth(forest, engine="onnx", sample_input=str(sample))
    names = sorted(r.split("==")[0] for r in endpoint.sklearn_layer.requirements)
    assert (names, endpoint.sklearn_layer.engine) == (["numpy", "onnxruntime"], "onnx")


def test_resynth_reuses_the_same_graph_bytes(forest, sample):
    first, _ = synth(forest, engine="onnx", sample_input=str(sample))
    before = first.model.path.read_bytes()
    second, _ = synth(forest, engine="onnx", sample_input=str(sample))
    assert second.model.path.read_bytes() == before


def test_synth_says_which_engine_each_endpoint_got(forest, sample, capsys):
    synth(forest, engine="onnx", sample_input=str(sample))
    assert "Test/E: engine onnx; verified RandomForestClassifier on 60 rows" in capsys.readouterr().err


def test_auto_falls_back_to_sklearn_without_a_converter(tmp_path, sample, capsys):
    path = tmp_path / "custom.joblib"
    joblib.dump(NoConverter().fit(X, Y), path)
    endpoint, _ = synth(path, engine="auto", sample_input=str(sample))
    assert endpoint.engine == "sklearn"
    assert "engine sklearn; auto: not ONNX (" in capsys.readouterr().err


def test_auto_synthesizes_a_model_onnxruntime_cannot_run(tmp_path, capsys):
    from tests.helpers import onnx_models

    model, rows = onnx_models.unservable("imputer_indicator", tmp_path)
    endpoint, _ = synth(model, engine="auto", sample_input=str(rows))
    (line,) = [x for x in capsys.readouterr().err.splitlines() if "Test/E: engine" in x]
    assert endpoint.engine == "sklearn" and "auto: not ONNX (" in line and "Imputer(1)" in line


def test_auto_serves_a_dataframe_logistic_pipeline_as_onnx(tmp_path):
    from tests.helpers import onnx_models

    model, rows = onnx_models.corpus_model("frame_logistic", tmp_path)
    endpoint, _ = synth(model, engine="auto", sample_input=str(rows))
    assert endpoint.engine == "onnx"


def test_fails_onnx_engine_without_a_converter(tmp_path, sample):
    path = tmp_path / "custom.joblib"
    joblib.dump(NoConverter().fit(X, Y), path)
    with pytest.raises(EngineError, match=r"engine='onnx' cannot serve custom\.joblib: NoConverter"):
        synth(path, engine="onnx", sample_input=str(sample))


def test_fails_onnx_engine_beyond_the_tolerance(tmp_path, sample):
    from sklearn.neural_network import MLPClassifier

    path = tmp_path / "mlp.joblib"
    joblib.dump(MLPClassifier((8,), max_iter=30, random_state=0).fit(X, Y), path)
    with pytest.raises(EngineError, match="largest difference"):
        # A negative tolerance is refused by the props; the smallest positive one is never met by
        # float arithmetic across two libraries on 60 rows of probabilities.
        synth(path, engine="onnx", sample_input=str(sample), onnx_tolerance=1e-300)


def test_committed_graph_needs_no_sample(forest, sample, tmp_path):
    from cdk_sklearn.model.onnx import convert

    graph, _ = convert(forest, sample).write(tmp_path / "forest.onnx")
    endpoint, _ = synth(graph, engine="onnx")
    assert (endpoint.engine, endpoint.model.path) == ("onnx", graph)


def test_fails_onnx_engine_without_sample_input(forest):
    with pytest.raises(PropsError, match="sample_input=None is invalid"):
        synth(forest, engine="onnx")


def test_fails_missing_sample_input_file(forest, tmp_path):
    with pytest.raises(PropsError, match="sample_input="):
        synth(forest, engine="onnx", sample_input=str(tmp_path / "nope.csv"))


def test_fails_unknown_engine(forest):
    with pytest.raises(PropsError, match="engine='torch' is invalid; allowed: sklearn, onnx, auto"):
        synth(forest, engine="torch")


def test_fails_negative_onnx_tolerance(forest, sample):
    with pytest.raises(PropsError, match="onnx_tolerance=-1"):
        synth(forest, engine="onnx", sample_input=str(sample), onnx_tolerance=-1)


def test_fails_onnx_engine_on_python311(forest, sample):
    with pytest.raises(PropsError, match=r"runtime='python3\.11' is invalid.*python3\.13"):
        synth(forest, engine="onnx", sample_input=str(sample), runtime="python3.11")


def test_onnx_engine_graph_carries_the_runtime_record(forest, sample):
    endpoint, _ = synth(forest, engine="onnx", sample_input=str(sample))
    session = ort.InferenceSession(str(endpoint.model.path), providers=["CPUExecutionProvider"])
    record = json.loads(session.get_modelmeta().custom_metadata_map[contract.ONNX_METADATA_KEY])
    assert record["classes"] == [0, 1]


def test_auto_on_python311_keeps_the_sklearn_engine(forest, sample, capsys):
    endpoint, _ = synth(forest, engine="auto", sample_input=str(sample), runtime="python3.11")
    assert endpoint.engine == "sklearn"
    assert "auto: not ONNX (the ONNX engine needs python3.12 or newer" in capsys.readouterr().err
