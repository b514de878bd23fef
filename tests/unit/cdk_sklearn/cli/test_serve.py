"""``cdk-sklearn serve`` as a user runs it: a subprocess serving a model file."""

from __future__ import annotations

import hashlib
import json
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
