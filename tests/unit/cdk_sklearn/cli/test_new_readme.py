"""The model- and install-dependent parts of a new project's README."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from cdk_sklearn.cli.new_readme import ModelInputs, model_inputs, readme_fields, request_body
from cdk_sklearn.cli.new_sources import OwnRequirement
from tests.helpers import models

WHEEL_INSTALL = OwnRequirement(
    ("--find-links ./wheels", "cdk-sklearn==1.2.3"), wheel=Path("w.whl"), onnx="cdk-sklearn[onnx]==1.2.3"
)


@pytest.fixture(scope="module")
def frame_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("frame") / "churn.joblib"
    models.save(models.frame_pipeline(), path)
    return path


def test_reads_the_columns_of_a_dataframe_model(frame_model: Path) -> None:
    assert model_inputs(frame_model) == ModelInputs(("colour", "size", "weight"), 3)


def test_reads_the_feature_count_of_an_array_model(iris_model: Path) -> None:
    assert model_inputs(iris_model) == ModelInputs(None, 4)


def test_does_not_load_a_skops_file(tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    path.write_bytes(b"not read")
    assert model_inputs(path) is None


def test_a_file_that_does_not_load_gives_no_inputs(tmp_path: Path) -> None:
    path = tmp_path / "broken.joblib"
    path.write_bytes(b"not a pickle")
    assert model_inputs(path) is None


def test_request_for_a_dataframe_model_is_one_record() -> None:
    body = json.loads(request_body(ModelInputs(("plan", "tenure"), 2)))
    assert body == {"instances": [{"plan": None, "tenure": None}]}


def test_request_for_an_array_model_is_one_row_of_zeros() -> None:
    assert json.loads(request_body(ModelInputs(None, 3))) == {"instances": [[0.0, 0.0, 0.0]]}


def test_curl_example_quotes_a_column_name_with_an_apostrophe(tmp_path: Path) -> None:
    # The body sits in single quotes in the shell line: an apostrophe must survive the shell.
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    frame = pd.DataFrame({"it's": [0.0, 1.0, 2.0, 3.0]})
    path = tmp_path / "quoted.joblib"
    models.save(LogisticRegression().fit(frame, [0, 0, 1, 1]), path)
    words = shlex.split(readme_fields("models/quoted.joblib", path, WHEEL_INSTALL)["request"])
    assert json.loads(words[words.index("-d") + 1]) == {"instances": [{"it's": None}]}


def test_onnx_install_uses_the_wheels_folder_for_a_wheel_install() -> None:
    fields = readme_fields("models/m.joblib", None, WHEEL_INSTALL)
    assert fields["onnx_install"] == "python -m pip install 'cdk-sklearn[onnx]==1.2.3' --find-links ./wheels"


def test_onnx_graph_goes_beside_the_model() -> None:
    assert readme_fields("models/churn.joblib", None, WHEEL_INSTALL)["onnx_model"] == "models/churn.onnx"


def test_share_paragraph_explains_the_wheels_folder() -> None:
    assert "--find-links ./wheels" in readme_fields("models/m.joblib", None, WHEEL_INSTALL)["share"]
