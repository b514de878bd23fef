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


def _probe(tmp_path: Path) -> Path:
    from tests.helpers.environment_probe import EnvironmentProbe

    path = tmp_path / "probe.joblib"
    models.save(EnvironmentProbe().fit([[1.0, 2.0]]), path)
    return path


def _seen_by_the_worker(server_url: str) -> str:
    request = urllib.request.Request(
        f"{server_url}/predict", data=b"[[1.0, 2.0]]", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: str = json.loads(response.read())["predictions"][0]
    return answer


def test_the_worker_has_the_functions_thread_settings_for_the_default_memory(tmp_path: Path) -> None:
    with serve_process(_probe(tmp_path), cwd=REPO) as server:
        seen = _seen_by_the_worker(server.url)
        banner = server.output[0]
    assert seen == "OMP_NUM_THREADS=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=1024 OPENBLAS_NUM_THREADS=None openmp=1"
    assert (
        banner
        == "threads: OMP_NUM_THREADS=1 (memory 1024 MB from the construct's default, like the function)"
    )


def test_the_worker_has_the_threads_of_memory_mb_whatever_the_shell_sets(tmp_path: Path) -> None:
    shell = {"OMP_NUM_THREADS": "7", "OPENBLAS_NUM_THREADS": "5"}
    with serve_process(_probe(tmp_path), cwd=REPO, extra_args=["--memory-mb", "4000"], env=shell) as server:
        seen = _seen_by_the_worker(server.url)
        banner = server.output[0]
    # 4000 MB is 2.26 times the 1,769 MB of one vCPU: Lambda gives it 3 vCPUs' worth of threads.
    assert seen == "OMP_NUM_THREADS=3 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=4000 OPENBLAS_NUM_THREADS=None openmp=3"
    assert banner == (
        "threads: OMP_NUM_THREADS=3 (memory 4000 MB from --memory-mb, like the function); your shell's "
        "OMP_NUM_THREADS=7 is not used; your shell's OPENBLAS_NUM_THREADS=5 is not used"
    )


def test_the_worker_has_the_memory_of_the_cdk_json_environment(tmp_path: Path) -> None:
    probe = _probe(tmp_path)
    cdk_json = {"context": {"environments": {"prod": {"model_path": probe.name, "memory_size": 2048}}}}
    (tmp_path / "cdk.json").write_text(json.dumps(cdk_json))
    with serve_process(
        probe, cwd=tmp_path, extra_args=["--env", "prod"], env={"PYTHONPATH": str(REPO)}
    ) as server:
        seen = _seen_by_the_worker(server.url)
    assert seen == "OMP_NUM_THREADS=2 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=2048 OPENBLAS_NUM_THREADS=None openmp=2"


def test_fails_with_exit_2_on_memory_outside_lambdas_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--model", str(_probe(tmp_path)), "--memory-mb", "64"]) == 2
    assert "--memory-mb must be between 128 and 10240 (Lambda's range), got 64" in capsys.readouterr().err
