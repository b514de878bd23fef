"""Proof: the built layer boots ``lambda_runtime`` under the target CPython with nothing else.

For python3.13 on x86_64 and arm64, a real layer (pip, prune, .pyc) goes to ``/opt/python`` of a Debian
trixie userland (CPython 3.13), the function code to ``/var/task``, and
``python3.13 -I -S -B`` serves ``POST /predict`` for several estimator families; predictions must match
the ones computed here on the host. arm64 runs through qemu-aarch64-static (minutes). Each
architecture is booted with the full layer and with the slim one (sourceless .pyc, no .py).

Needs root, debootstrap and qemu-user-static; skipped with the reason elsewhere. First run downloads
the userlands (``make userlands``) and the wheels (cached afterwards).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from cdk_sklearn.model.artifact import inspect_model
from cdk_sklearn.packaging.build import build_layer, copy_layer
from cdk_sklearn.packaging.bytecode import probe
from cdk_sklearn.packaging.target import LambdaTarget
from tests.support.userland import host_architecture, make_userland, missing_tools

pytestmark = [pytest.mark.root, pytest.mark.slow]

PROJECT = Path(__file__).resolve().parents[2]
DRIVER = PROJECT / "tests" / "support" / "boot_driver.py"


def _families(directory: Path) -> dict[str, tuple[Path, list[list[float]], list[object]]]:
    """Train small models of several families; return path, request rows and host predictions."""
    iris_x, iris_y = load_iris(return_X_y=True)
    diabetes_x, diabetes_y = load_diabetes(return_X_y=True)
    models = {
        "logistic_pipeline": (make_pipeline(StandardScaler(), _logistic()), iris_x, iris_y),
        "random_forest": (RandomForestClassifier(n_estimators=20, random_state=0), iris_x, iris_y),
        "hist_gradient_boosting": (HistGradientBoostingClassifier(max_iter=20), iris_x, iris_y),
        "svc": (SVC(), iris_x, iris_y),
        "mlp_regressor": (
            make_pipeline(
                StandardScaler(), MLPRegressor(hidden_layer_sizes=(16,), max_iter=300, random_state=0)
            ),
            diabetes_x,
            diabetes_y,
        ),
        "k_neighbors_regressor": (KNeighborsRegressor(), diabetes_x, diabetes_y),
    }
    out = {}
    for name, (model, features, target) in models.items():
        model.fit(features, target)
        path = directory / f"{name}.joblib"
        joblib.dump(model, path)
        rows = features[::37][:4]
        out[name] = (path, rows.tolist(), model.predict(rows).tolist())
    return out


def _logistic():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=500)


def _skip_unless_ready(architecture: str) -> None:
    missing = missing_tools(architecture)
    if missing:
        pytest.skip(f"boot test for {architecture} needs {', '.join(missing)}")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return _families(tmp_path_factory.mktemp("families"))


@pytest.mark.parametrize("slim", [False, True], ids=["full", "slim"])
@pytest.mark.parametrize("architecture", ["x86_64", "arm64"])
def test_layer_boots_lambda_runtime_and_predicts(architecture, slim, trained):
    _skip_unless_ready(architecture)
    _skip_unless_ready(host_architecture())
    userland = make_userland(architecture)
    compiler = probe(str(make_userland(host_architecture()).host_python()))
    assert compiler is not None and compiler.version == (3, 13)
    requirements = sorted({r for path, _, _ in trained.values() for r in inspect_model(path).requirements})
    build = build_layer(requirements, LambdaTarget("python3.13", architecture), compiler, slim=slim)
    assert build.bytecode_tag == "cpython-313" and build.slim == slim

    opt, task = userland.root / "opt", userland.root / "var" / "task"
    for folder in (opt, task):
        shutil.rmtree(folder, ignore_errors=True)
    copy_layer(build, opt)
    if slim:  # nothing but bytecode: every library module imported below came from a sourceless .pyc
        assert not list((opt / "python").rglob("*.py"))
    shutil.copytree(
        PROJECT / "lambda_runtime", task / "lambda_runtime", ignore=shutil.ignore_patterns("__pycache__")
    )
    (task / "models").mkdir()
    plan = {"models": []}
    for name, (path, rows, _) in trained.items():
        shutil.copy2(path, task / "models" / path.name)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        plan["models"].append(
            {"name": name, "path": f"/var/task/models/{path.name}", "sha256": digest, "instances": rows}
        )
    (task / "plan.json").write_text(json.dumps(plan))
    shutil.copy2(DRIVER, task / "boot_driver.py")

    completed = subprocess.run(
        userland.python("-I", "-S", "-B", "/var/task/boot_driver.py", "/var/task/plan.json"),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])

    assert report["python"].startswith("3.13.")
    assert report["machine"] == userland_machine(architecture)
    assert report["flags"] == {"isolated": 1, "no_site": 1} and not report["site_imported"]
    # Every module came from the function code, the layer or the standard library.
    assert set(report["origins"]) <= {"/var/task", "/opt/python", "/usr/lib/python3.13"}, report["origins"]
    for name, (_, _, expected) in trained.items():
        result = report["results"][name]
        assert result["status"] == 200, (name, result)
        np.testing.assert_allclose(result["body"]["predictions"], expected, rtol=1e-6, err_msg=name)
    # Logs stay useful: the library frame is named by file and line in both layers.
    frame = re.search(
        r'File "/opt/python/sklearn/utils/validation\.py", line \d+, in check_array\n(?P<next>.*)\n',
        report["library_traceback"],
    )
    assert frame is not None, report["library_traceback"]
    # The full layer also prints the source line; the slim one has no source to print.
    assert frame.group("next").startswith("  File ") == slim, frame.group("next")
    assert "Input contains NaN" in report["library_traceback"]


def userland_machine(architecture: str) -> str:
    return {"x86_64": "x86_64", "arm64": "aarch64"}[architecture]
