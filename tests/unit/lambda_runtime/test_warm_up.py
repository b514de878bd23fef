"""The warm-up prediction at load is the check that the model can predict at all.

A module or shared library the estimator needs and the function lacks makes every prediction fail,
so /health and the readiness routes answer 503 saying what is missing; a warm-up row of zeros the
model rejects as data does not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from lambda_runtime.app import App
from lambda_runtime.engines.checks import PANDAS_MISSING
from tests.helpers import models
from tests.helpers.apigw_events import http_api_event
from tests.unit.lambda_runtime.conftest import invoke_app

REPO = Path(__file__).resolve().parents[3]
HEALTH_ROUTES = ("/health", "/v2/health/ready", "/v2/models/model/ready")


def serve(tmp_path: Path, model: Any) -> tuple[App, str]:
    path = tmp_path / "model.joblib"
    models.save(model, path)
    app, stream = models.app_for(path)
    return app, stream.getvalue()


def warnings_logged(log: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log.splitlines()]
    return [line for line in lines if line.get("level") == "WARNING"]


def health_statuses(app: App) -> list[int]:
    return [invoke_app(app, http_api_event("GET", route))[0] for route in HEALTH_ROUTES]


def test_fails_health_when_predict_needs_a_module_the_function_lacks(tmp_path: Path) -> None:
    model = models.needing_at_predict(models.import_module_then_pass, module="gbm_module_not_installed")
    app, _ = serve(tmp_path, model)
    assert health_statuses(app) == [503, 503, 503]
    _, body, _ = invoke_app(app, http_api_event("GET", "/health"))
    assert (
        "the model loads but cannot predict: its predict needs the Python module "
        "'gbm_module_not_installed', which is not installed in the function" in body["error"]
    )


def test_fails_health_when_predict_needs_a_shared_library_the_function_lacks(tmp_path: Path) -> None:
    model = models.needing_at_predict(models.load_library_then_pass, library="libgbm_not_installed.so.1")
    app, _ = serve(tmp_path, model)
    status, body, _ = invoke_app(app, http_api_event("GET", "/health"))
    assert status == 503
    assert "its predict needs the shared library libgbm_not_installed.so.1" in body["error"]


def test_a_missing_dependency_found_at_warm_up_is_logged_as_a_warning(tmp_path: Path) -> None:
    model = models.needing_at_predict(models.import_module_then_pass, module="gbm_module_not_installed")
    _, log = serve(tmp_path, model)
    [warning] = [w for w in warnings_logged(log) if w["message"] == "warm-up prediction failed"]
    assert warning["model_can_serve"] is False
    assert "gbm_module_not_installed" in warning["reason"]


def test_a_warm_up_rejected_as_data_leaves_the_model_healthy(tmp_path: Path) -> None:
    # Zeros in string-category columns: the OneHotEncoder (handle_unknown="error") refuses them
    # (a TypeError with scikit-learn 1.9; other versions say ValueError). Data, not a missing module.
    app, log = serve(tmp_path, models.column_transformer())
    assert health_statuses(app) == [200, 200, 200]
    [warning] = [w for w in warnings_logged(log) if w["message"] == "warm-up prediction failed"]
    assert warning["model_can_serve"] is True
    assert warning["reason"].startswith(("TypeError", "ValueError"))


def test_a_model_fitted_on_named_columns_is_warmed_up_with_a_dataframe(tmp_path: Path) -> None:
    # Scikit-learn warns when a model fitted on named columns is called without them: no such
    # warning, and no failure logged, means the warm-up row carried the model's own columns.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        app, log = serve(tmp_path, models.named_columns())
    assert not [w for w in caught if "feature names" in str(w.message)]
    assert warnings_logged(log) == []
    assert health_statuses(app) == [200, 200, 200]


# A fresh interpreter where `import pandas` fails, as in a layer without pandas; it serves the model
# at argv[1] and prints the handler's answer for each route.
_WITHOUT_PANDAS = """
import json, sys
sys.modules["pandas"] = None  # `import pandas` now raises ModuleNotFoundError
import hashlib, os
path = sys.argv[1]
os.environ["MODEL_URI"] = path
os.environ["MODEL_SHA256"] = hashlib.sha256(open(path, "rb").read()).hexdigest()
from lambda_runtime.handler import handler
from tests.helpers.apigw_events import JSON_HEADERS, LambdaContext, http_api_event
answers = {}
for method, route in [("GET", "/health"), ("GET", "/v2/health/ready"), ("GET", "/v2/models/model/ready"),
                      ("POST", "/predict"), ("GET", "/v2/health/live")]:
    response = handler(http_api_event(method, route, "[[1, 2, 3, 4]]", headers=JSON_HEADERS), LambdaContext())
    answers[route] = [response["statusCode"], json.loads(response["body"])]
print(json.dumps(answers))
"""


def answers_without_pandas(model_file: Path) -> dict[str, Any]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_")}
    environ["LOG_LEVEL"] = "ERROR"
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_PANDAS, str(model_file)],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answers: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return answers


@pytest.fixture(scope="module")
def without_pandas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("no-pandas") / "named.joblib"
    models.save(models.named_columns(), path)
    return answers_without_pandas(path)


def test_fails_health_for_a_model_on_named_columns_without_pandas(without_pandas: dict[str, Any]) -> None:
    for route in HEALTH_ROUTES:
        status, body = without_pandas[route]
        assert status == 503, route
        assert body["error"] == f"the model is not loaded: {PANDAS_MISSING}"


def test_fails_predictions_for_a_model_on_named_columns_without_pandas(
    without_pandas: dict[str, Any],
) -> None:
    status, body = without_pandas["/predict"]
    assert status == 503
    assert "needs pandas, which is not in the function's layer" in body["error"]


def test_the_function_stays_live_without_pandas(without_pandas: dict[str, Any]) -> None:
    assert without_pandas["/v2/health/live"] == [200, {"live": True}]


def test_fails_health_when_predict_needs_pandas_and_the_function_lacks_it(tmp_path: Path) -> None:
    # Fitted on an array, so its inputs need no pandas; its predict does.
    path = tmp_path / "through-pandas.joblib"
    models.save(models.needing_at_predict(models.through_pandas), path)
    status, body = answers_without_pandas(path)["/health"]
    assert status == 503
    assert "its predict needs the Python module 'pandas'" in body["error"]
