"""choose_engine: a converter or onnxruntime failure is a one-line refusal; `auto` then serves sklearn."""

from __future__ import annotations

import pytest

from cdk_sklearn.model.artifact import inspect_model
from cdk_sklearn.model.engine import EngineError, choose_engine
from tests.helpers import onnx_models

KINDS = sorted(onnx_models.UNSERVABLE)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module", params=KINDS)
def unservable(request, tmp_path_factory):
    model, sample = onnx_models.unservable(request.param, tmp_path_factory.mktemp(request.param))
    return request.param, model, sample


def _choose(model, sample, engine):
    return choose_engine(
        inspect_model(model), engine=engine, runtime="python3.13", sample_input=sample, tolerance=1e-5
    )


def test_auto_serves_the_model_file_when_onnxruntime_cannot_run_the_graph(unservable):
    _, model, sample = unservable
    choice = _choose(model, sample, "auto")
    assert (choice.engine, choice.model.path) == ("sklearn", model)


def test_auto_says_why_in_one_line_naming_the_operator(unservable):
    kind, model, sample = unservable
    detail = _choose(model, sample, "auto").detail
    assert detail.startswith("auto: not ONNX (") and "\n" not in detail
    assert onnx_models.UNSERVABLE[kind] in detail


def test_fails_onnx_engine_with_one_line_naming_the_operator(unservable):
    kind, model, sample = unservable
    with pytest.raises(EngineError) as caught:
        _choose(model, sample, "onnx")
    message = str(caught.value)
    assert "\n" not in message and onnx_models.UNSERVABLE[kind] in message
    assert message.endswith("serve it with the scikit-learn engine")


@pytest.fixture(scope="module")
def wide_mlp(tmp_path_factory):
    import warnings

    import joblib
    import numpy as np
    from sklearn.neural_network import MLPRegressor

    folder = tmp_path_factory.mktemp("wide_mlp")
    features = np.random.default_rng(0).normal(size=(60, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one epoch: the width, not the fit, decides
        model = MLPRegressor(hidden_layer_sizes=(900, 900, 900), max_iter=1, random_state=0).fit(
            features, features[:, 0]
        )
    assert sum(c.size for c in model.coefs_) > 1_500_000  # the premise: wider than the rule's bound
    joblib.dump(model, folder / "mlp.joblib")
    np.save(folder / "rows.npy", features[:10])
    return folder / "mlp.joblib", folder / "rows.npy"


def test_auto_keeps_scikit_learn_for_a_wide_mlp(wide_mlp):
    choice = _choose(*wide_mlp, "auto")
    assert choice.engine == "sklearn" and "wide MLP" in choice.detail


def test_onnx_engine_serves_a_wide_mlp_when_asked(wide_mlp):
    assert _choose(*wide_mlp, "onnx").engine == "onnx"


def test_auto_serves_a_narrow_mlp_as_onnx(tmp_path):
    import joblib
    import numpy as np
    from sklearn.neural_network import MLPRegressor

    features = np.random.default_rng(0).normal(size=(60, 5))
    joblib.dump(
        MLPRegressor(hidden_layer_sizes=(8,), max_iter=50).fit(features, features[:, 0]),
        tmp_path / "mlp.joblib",
    )
    np.save(tmp_path / "rows.npy", features[:10])
    assert _choose(tmp_path / "mlp.joblib", tmp_path / "rows.npy", "auto").engine == "onnx"
