"""Proof: a LightGBM model's layer carries the libgomp Lambda lacks, and serves next to scikit-learn.

The layer is built for real (pip, prune, .pyc, closure check) for python3.13 on x86_64 and booted in
the Debian trixie userland, which has no libgomp of its own (as Lambda has none): LightGBM can only
load through the layer's ``lib/`` on ``LD_LIBRARY_PATH=/opt/lib``, as Lambda sets it. A
HistGradientBoosting model is served from the same process, so scikit-learn's own vendored OpenMP
runtime and the copy in ``lib/`` run side by side. Predictions must equal the host's.

Needs root and debootstrap; skipped with the reason elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import HistGradientBoostingClassifier

from cdk_sklearn.model.artifact import inspect_model
from cdk_sklearn.packaging.build import build_layer, copy_layer
from cdk_sklearn.packaging.bytecode import probe
from cdk_sklearn.packaging.target import LambdaTarget
from tests.helpers import models
from tests.support.userland import make_userland, missing_tools

pytestmark = [pytest.mark.root, pytest.mark.slow]

PROJECT = Path(__file__).resolve().parents[2]
DRIVER = PROJECT / "tests" / "support" / "boot_driver.py"
# What the Lambda Python runtimes put on LD_LIBRARY_PATH, a layer's lib/ last.
LAMBDA_LIBRARY_PATH = "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/task:/var/task/lib:/opt/lib"


@pytest.fixture(scope="module")
def booted(tmp_path_factory):
    missing = missing_tools("x86_64")
    if missing:
        pytest.skip(f"boot test needs {', '.join(missing)}")
    userland = make_userland("x86_64")
    assert not list((userland.root / "usr" / "lib").rglob("libgomp.so*")), "the userland must lack libgomp"
    directory = tmp_path_factory.mktemp("closure")
    features, target = load_iris(return_X_y=True)
    rows = features[::29][:6]
    trained = {
        "lightgbm": models.lgbm_classifier(),
        "hist_gradient_boosting": HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(
            features, target
        ),
    }
    paths = {}
    for name, model in trained.items():
        paths[name] = directory / f"{name}.joblib"
        joblib.dump(model, paths[name])
    requirements = sorted({r for path in paths.values() for r in inspect_model(path).requirements})
    modules = {m for path in paths.values() for m in inspect_model(path).referenced}
    compiler = probe(str(userland.host_python()))
    build = build_layer(requirements, LambdaTarget("python3.13", "x86_64"), compiler, modules=modules)

    opt, task = userland.root / "opt", userland.root / "var" / "task"
    for folder in (opt, task):
        shutil.rmtree(folder, ignore_errors=True)
    copy_layer(build, opt)
    shutil.copytree(
        PROJECT / "lambda_runtime", task / "lambda_runtime", ignore=shutil.ignore_patterns("__pycache__")
    )
    (task / "models").mkdir()
    plan = {"models": []}
    for name, path in paths.items():
        shutil.copy2(path, task / "models" / path.name)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        plan["models"].append(
            {
                "name": name,
                "path": f"/var/task/models/{path.name}",
                "sha256": digest,
                "instances": rows.tolist(),
            }
        )
    (task / "plan.json").write_text(json.dumps(plan))
    shutil.copy2(DRIVER, task / "boot_driver.py")
    expected = {name: model.predict(rows).tolist() for name, model in trained.items()}

    def run(library_path: str | None) -> dict:
        env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
        if library_path:
            env["LD_LIBRARY_PATH"] = library_path
        completed = subprocess.run(
            userland.python("-I", "-S", "-B", "/var/task/boot_driver.py", "/var/task/plan.json"),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            env=env,
        )
        assert completed.returncode == 0, completed.stderr[-4000:]
        return json.loads(completed.stdout.strip().splitlines()[-1])

    return build, expected, run


def test_layer_ships_libgomp_in_lib(booted):
    build, _, _ = booted
    assert build.added_libraries == ("libgomp.so.1",)
    assert (build.layer_dir / "lib" / "libgomp.so.1").is_file()


def test_lightgbm_and_scikit_learn_predict_in_one_process_as_on_the_host(booted):
    _, expected, run = booted
    report = run(LAMBDA_LIBRARY_PATH)
    for name, predictions in expected.items():
        result = report["results"][name]
        assert result["status"] == 200, (name, result)
        np.testing.assert_allclose(result["body"]["predictions"], predictions, rtol=1e-6, err_msg=name)


def test_fails_without_the_layers_lib_on_the_library_path(booted):
    # The control: the userland has no libgomp, so lib/ is what made LightGBM load above.
    _, _, run = booted
    report = run(None)
    assert report["results"]["lightgbm"]["status"] == 503
    assert report["results"]["hist_gradient_boosting"]["status"] == 200
