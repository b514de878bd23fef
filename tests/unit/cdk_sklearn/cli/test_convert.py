"""cdk-sklearn convert: writes the verified graph and its report, or exits 2 with one line on stderr."""

from __future__ import annotations

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cdk_sklearn.cli.main import main
from tests.helpers import onnx_models
from tests.helpers.onnx_models import Custom

X, Y = make_classification(200, 5, n_informative=4, n_redundant=0, n_classes=3, random_state=0)


@pytest.fixture(scope="module")
def matrix_sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "rows.npy"
    np.save(path, X[:80])
    return path


def _convert(model, sample, output):
    return main(["convert", "--model", str(model), "--sample", str(sample), "--output", str(output)])


def test_cli_convert_writes_graph_and_report(tmp_path, matrix_sample):
    path = tmp_path / "model.joblib"
    joblib.dump(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, Y), path)
    code = _convert(path, matrix_sample, tmp_path / "m.onnx")
    assert code == 0 and (tmp_path / "m.onnx.report.json").is_file()


def test_fails_cli_convert_with_exit_2_and_one_line(tmp_path, matrix_sample, capsys):
    path = tmp_path / "model.joblib"
    joblib.dump(Custom().fit(X, Y), path)
    code = _convert(path, matrix_sample, tmp_path / "m.onnx")
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("cdk-sklearn convert: error: Custom cannot be converted")
    assert err.count("\n") == 1


@pytest.mark.parametrize("kind", sorted(onnx_models.UNSERVABLE))
def test_fails_cli_convert_with_one_line_when_onnxruntime_cannot_run_the_graph(kind, tmp_path, capsys):
    model, sample = onnx_models.unservable(kind, tmp_path)
    code = _convert(model, sample, tmp_path / "m.onnx")
    err = capsys.readouterr().err
    assert (code, err.count("\n")) == (2, 1)
    assert err.startswith("cdk-sklearn convert: error: ") and onnx_models.UNSERVABLE[kind] in err
    assert not (tmp_path / "m.onnx").exists()
