"""The module Lambda imports: importing it loads the model (or answers 503) and imports little."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import models

REPO = Path(__file__).resolve().parents[3]

# Runs in a fresh interpreter, as in a new Lambda execution environment. With BLOCK_PANDAS set, pandas
# cannot be imported at all: a layer without pandas (scikit-learn itself imports pandas when present).
PROBE = """
import json, os, sys
class NoPandas:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pandas":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
if os.environ.get("BLOCK_PANDAS"):
    sys.meta_path.insert(0, NoPandas())
import lambda_runtime.handler as h
from tests.helpers.apigw_events import JSON_HEADERS, LambdaContext, http_api_event
health = h.handler(http_api_event("GET", "/health"), LambdaContext())
event = http_api_event("POST", "/predict", os.environ["ROWS"], headers=JSON_HEADERS)
predict = h.handler(event, LambdaContext())
optional = ("pandas", "boto3", "botocore", "skops", "aws_cdk", "cdk_sklearn")
imported = [m for m in optional if sys.modules.get(m)]
print(json.dumps({"health": health, "predict": predict, "imported": imported}))
"""


def import_handler(**env: str) -> dict:
    """Import lambda_runtime.handler in a fresh interpreter, call /health and /predict."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_")}
    environ.update(env, ROWS=json.dumps([models.IRIS_ROW]))
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_without_model_uri_answers_503_saying_so() -> None:
    probe = import_handler()
    assert probe["health"]["statusCode"] == 503
    assert "MODEL_URI is not set" in json.loads(probe["health"]["body"])["error"]
    assert probe["predict"]["statusCode"] == 503


def test_import_serves_a_local_model_without_optional_packages(model_files: dict[str, Path]) -> None:
    path = model_files["scaled_pipeline"]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    probe = import_handler(MODEL_URI=str(path), MODEL_SHA256=digest, BLOCK_PANDAS="1")
    assert probe["health"]["statusCode"] == 200
    assert json.loads(probe["predict"]["body"]) == {"predictions": [0]}
    assert probe["imported"] == []  # no pandas, boto3, skops, aws_cdk or cdk_sklearn


def test_import_leaves_gc_enabled_with_init_objects_frozen() -> None:
    code = (
        "import gc, lambda_runtime.handler as h; "
        "print(gc.isenabled(), gc.get_freeze_count() > 10000, h.APP is not None)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.stdout.splitlines()[-1].split() == ["True", "True", "True"], result.stderr
