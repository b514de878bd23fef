from __future__ import annotations

from hashlib import sha256
from pathlib import Path

from benchmarks.coldstart import Variant
from benchmarks.layers import function_dir
from benchmarks.targets import host_target
from benchmarks.warm import warm_latency

PROJECT = Path(__file__).resolve().parents[3]


def test_warm_latency_times_handler_and_predict_for_one_and_100_rows(tmp_path, venv_site, small_models):
    code = function_dir(PROJECT / "lambda_runtime", tmp_path / "function")

    def env(model: str) -> dict[str, str]:
        return {"MODEL_URI": model, "MODEL_SHA256": sha256(Path(model).read_bytes()).hexdigest()}

    variant = Variant(
        "cdk-sklearn", (code, venv_site), model_env=env, handler="lambda_runtime.handler:handler"
    )
    result = warm_latency(variant, host_target(), small_models["scaler-logreg"], budget_s=0.05, max_calls=60)
    for rows in ("rows1", "rows100"):
        assert result.handler[rows].calls >= 50
        assert result.handler[rows].median_us > 0 and result.predict[rows].median_us > 0
        assert result.handler[rows].p99_us >= result.handler[rows].median_us
