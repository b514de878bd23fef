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
