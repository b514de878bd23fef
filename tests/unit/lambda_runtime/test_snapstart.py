"""SnapStart hooks, registered with the real snapshot_restore_py module the Lambda runtime ships."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import snapshot_restore_py

from lambda_runtime.app import create_app
from lambda_runtime.snapstart import register_hooks
from tests.helpers import models
from tests.helpers.apigw_events import LambdaContext, http_api_event


def run_registered(registry: list, owner: object) -> int:
    """Call the hooks registered for ``owner`` the way the runtime does; return how many ran."""
    ran = 0
    for func, args, kwargs in registry:
        if getattr(func, "__self__", None) is owner:
            func(*args, **kwargs)
            ran += 1
    return ran


def test_hooks_are_registered_with_the_runtime_module(model_files: dict[str, Path]) -> None:
    app, _ = models.app_for(model_files["logistic"])
    assert register_hooks(app) is True
    assert run_registered(snapshot_restore_py.get_before_snapshot(), app) == 1
    assert run_registered(snapshot_restore_py.get_after_restore(), app) == 1


def test_after_restore_reseeds_random_state(model_files: dict[str, Path]) -> None:
    app, _ = models.app_for(model_files["logistic"])
    # Two environments restored from one snapshot start with identical generator states...
    random.seed(1234)
    np.random.seed(1234)
    snapshot_python, snapshot_numpy = random.getstate(), np.random.get_state()[1].copy()
    app.after_restore()
    # ...and must leave the restore hook with different ones.
    assert random.getstate() != snapshot_python
    assert not np.array_equal(np.random.get_state()[1], snapshot_numpy)


def test_first_request_after_restore_counts_as_a_cold_start(model_files: dict[str, Path]) -> None:
    app, stream = models.app_for(model_files["logistic"])
    app.handle(http_api_event("GET", "/health"), LambdaContext())
    app.before_snapshot()
    app.after_restore()
    app.handle(http_api_event("GET", "/health"), LambdaContext())
    cold = [json.loads(line)["ColdStart"] for line in stream.getvalue().splitlines() if '"request"' in line]
    assert cold == [1, 1]


def test_after_restore_retries_a_model_that_failed_to_load(tmp_path: Path) -> None:
    path = tmp_path / "late.joblib"
    model = models.logistic()
    digest = models.sha256(models.dump_bytes(model))
    app = create_app(
        {"MODEL_URI": str(path), "MODEL_SHA256": digest, "MODEL_RELOAD_INTERVAL_SECONDS": "3600"}
    )
    assert app.model is None
    models.save(model, path)
    app.after_restore()
    assert app.model is not None
