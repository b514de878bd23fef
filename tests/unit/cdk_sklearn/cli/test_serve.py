"""``cdk-sklearn serve`` as a user runs it: a subprocess serving a model file."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from cdk_sklearn.cli import main
from cdk_sklearn.cli.serve import model_environment
from cdk_sklearn.cli.serve_process import serve_process
from tests.helpers import models

REPO = Path(__file__).resolve().parents[4]


def test_model_environment_has_the_file_digest_format_and_training_version(tmp_path: Path) -> None:
    import sklearn

    path = tmp_path / "m.joblib"
    models.save(models.scaled_pipeline(), path)
    assert model_environment(path, "iris") == {
        "MODEL_URI": str(path.resolve()),
        "MODEL_SHA256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "MODEL_FORMAT": "joblib",
        "MODEL_SKLEARN_VERSION": sklearn.__version__,
        "MODEL_NAME": "iris",
    }


def test_fails_with_exit_2_on_a_missing_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--model", str(tmp_path / "absent.joblib")]) == 2
    assert "is not a file" in capsys.readouterr().err


def test_fails_with_exit_2_on_a_file_that_is_not_a_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "junk.joblib"
    path.write_bytes(b"junk")
    assert main(["serve", "--model", str(path), "--port", "0"]) == 2
    assert "is not a readable pickle stream" in capsys.readouterr().err


def test_serves_a_model_until_stopped(tmp_path: Path) -> None:
    path = tmp_path / "iris.joblib"
    models.save(models.scaled_pipeline(), path)
    with serve_process(path, cwd=REPO) as server:
        request = urllib.request.Request(
            f"{server.url}/predict",
            data=json.dumps([models.IRIS_ROW]).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read()) == {"predictions": [0]}


def _serve_and_predict(model: Path, *flags: str) -> tuple[str, str]:
    """Run a real `cdk-sklearn serve`, send two predictions, stop it; return its stdout and stderr."""
    command = [sys.executable, "-m", "cdk_sklearn.cli", "serve", "--model", str(model), "--port", "0", *flags]
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    url = None
    while url is None:
        line = child.stderr.readline()  # the banner names the address once the model is loaded
        assert line, "serve exited before printing its address"
        url = re.search(r" at (http://127\.0\.0\.1:\d+)", line)
    body = json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]]}).encode()
    for _ in range(2):
        request = urllib.request.Request(
            f"{url.group(1)}/predict", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
    child.terminate()
    out, err = child.communicate(timeout=30)
    return out, err


def test_quiet_prints_no_line_per_request(iris_model):
    out, err = _serve_and_predict(iris_model, "--quiet")
    assert ("/predict" in out, "/predict" in err) == (False, False)


def test_without_quiet_each_request_has_an_access_line_and_a_log_line(iris_model):
    out, err = _serve_and_predict(iris_model)
    assert (out.count('"route":"/predict"'), err.count("POST /predict")) == (2, 2)


def _iris_graph(tmp_path: Path) -> tuple[Path, object]:
    import numpy as np

    from cdk_sklearn.model.onnx import convert

    model = models.scaled_pipeline()
    path = tmp_path / "iris.joblib"
    models.save(model, path)
    sample = tmp_path / "rows.npy"
    np.save(sample, np.array([models.IRIS_ROW, [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]] * 10))
    graph, _ = convert(path, sample).write(tmp_path / "iris.onnx")
    return graph, model


def test_model_environment_of_a_graph_says_onnx(tmp_path: Path) -> None:
    graph, _ = _iris_graph(tmp_path)
    assert model_environment(graph)["MODEL_FORMAT"] == "onnx"


def test_serves_a_graph_with_the_onnx_engine(tmp_path: Path) -> None:
    graph, model = _iris_graph(tmp_path)
    with serve_process(graph, cwd=REPO) as server:
        request = urllib.request.Request(
            f"{server.url}/predict",
            data=json.dumps([models.IRIS_ROW]).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.loads(response.read())
    assert answer == {"predictions": model.predict([models.IRIS_ROW]).tolist()}  # type: ignore[attr-defined]
