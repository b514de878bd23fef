"""In a fresh interpreter, the ONNX engine's init and first request import no scikit-learn stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import models, onnx_models

REPO = Path(__file__).resolve().parents[3]
HEAVY = ("sklearn", "scipy", "pandas", "joblib", "boto3", "botocore", "skl2onnx", "onnx")

SCRIPT = """
import json, sys
from lambda_runtime.handler import handler
from tests.helpers.apigw_events import JSON_HEADERS, LambdaContext, http_api_event

body = json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]], "method": "predict_proba"})
response = handler(http_api_event("POST", "/predict", body, headers=JSON_HEADERS), LambdaContext())
metadata = handler(http_api_event("GET", "/metadata"), LambdaContext())
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:]))
print(json.dumps([response["statusCode"], metadata["statusCode"], heavy]))
"""


def test_the_onnx_path_imports_neither_sklearn_scipy_pandas_nor_joblib(tmp_path: Path) -> None:
    _, data = onnx_models.forest()
    path = onnx_models.save(data, tmp_path / "forest.onnx")
    env = {
        **os.environ,
        "MODEL_URI": str(path),
        "MODEL_SHA256": models.sha256(data),
        "MODEL_FORMAT": "onnx",
    }
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, *HEAVY], env=env, cwd=REPO, capture_output=True, text=True, check=True
    )
    # "onnx" (the converter package) differs from onnxruntime: the runtime needs only the latter.
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [200, 200, []]
