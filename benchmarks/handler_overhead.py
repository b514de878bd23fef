"""Handler overhead for a 1-row JSON request, against calling ``model.predict`` directly, and the cold
import cost of ``lambda_runtime.handler`` and of the optional packages it may import.

Run: ``.venv/bin/python -m benchmarks.handler_overhead [--iterations N] [--imports-runs N]``

Everything runs in one process for the overhead figures (the same model object is called directly and
through the handler, with the per-request log line written to /dev/null); import costs are measured
in fresh interpreters, as a Lambda cold start pays them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from lambda_runtime.app import App, create_app
from lambda_runtime.observability import JsonLogger
from tests.helpers import models
from tests.helpers.apigw_events import JSON_HEADERS, LambdaContext, http_api_event

REPO = Path(__file__).resolve().parent.parent


def timings_us(call: Callable[[], Any], iterations: int) -> list[float]:
    for _ in range(min(50, iterations)):
        call()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - started) / 1000)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def app_serving(model: Any, folder: Path, name: str) -> App:
    path = folder / f"{name}.joblib"
    digest = models.save(model, path)
    devnull = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the app
    app = create_app({"MODEL_URI": str(path), "MODEL_SHA256": digest}, stream=devnull)
    app.logger = JsonLogger("INFO", devnull)
    return app


def overhead(label: str, app: App, row: list[Any], direct_input: Any, iterations: int) -> dict[str, Any]:
    estimator = app.model.estimator  # type: ignore[union-attr]
    event = http_api_event("POST", "/predict", json.dumps({"instances": [row]}), headers=JSON_HEADERS)
    context = LambdaContext()
    response = app.handle(event, context)
    assert response["statusCode"] == 200, response
    # Interleave the two in rounds so that a change in machine load hits both alike.
    direct: list[float] = []
    handled: list[float] = []
    rounds = 10
    for _ in range(rounds):
        direct += timings_us(lambda: estimator.predict(direct_input), iterations // rounds)
        handled += timings_us(lambda: app.handle(event, context), iterations // rounds)
    d_med, d_p99 = summary(direct)
    h_med, h_p99 = summary(handled)
    return {
        "model": label,
        "direct_median_us": d_med,
        "direct_p99_us": d_p99,
        "handler_median_us": h_med,
        "handler_p99_us": h_p99,
        "overhead_us": h_med - d_med,
        "ratio": h_med / d_med,
    }


def fresh_import_ms(statement: str, runs: int, env: dict[str, str] | None = None) -> float:
    """Median wall time of ``statement`` in fresh interpreters (the interpreter start itself excluded)."""
    code = f"import time; t = time.perf_counter(); {statement}; print((time.perf_counter() - t) * 1000)"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_")}
    environ.update(env or {})
    values = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=environ, capture_output=True, text=True, check=True
        ).stdout
        values.append(float(out.strip().splitlines()[-1]))
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=5000)
    parser.add_argument("--imports-runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        iris = models.IRIS_ROW
        frame, _ = models.ct_frame(1)
        ct_row = [str(frame.iloc[0, 0]), str(frame.iloc[0, 1]), float(frame.iloc[0, 2])]
        cases = [
            ("iris StandardScaler+LogisticRegression", models.scaled_pipeline(), iris, np.array([iris])),
            ("iris RandomForest(5 trees)", models.random_forest(), iris, np.array([iris])),
            ("ColumnTransformer+OneHotEncoder (DataFrame)", models.column_transformer(), ct_row, frame),
        ]
        print(f"Handler overhead, 1-row JSON request, {args.iterations} iterations, one process")
        print(f"python {sys.version.split()[0]}, {os.uname().machine}")
        print(f"{'model':46} {'direct med':>10} {'p99':>8} {'handler med':>11} {'p99':>8} ", end="")
        print(f"{'overhead':>9} {'ratio':>6}")
        for label, model, row, direct_input in cases:
            app = app_serving(model, folder, label.split()[0])
            r = overhead(label, app, row, direct_input, args.iterations)
            print(
                f"{label:46} {r['direct_median_us']:8.1f}us {r['direct_p99_us']:6.1f}us "
                f"{r['handler_median_us']:9.1f}us {r['handler_p99_us']:6.1f}us {r['overhead_us']:7.1f}us "
                f"{r['ratio']:5.2f}x"
            )

        iris_path = folder / "iris-import.joblib"
        models.save(models.scaled_pipeline(), iris_path)
        model_env = {
            "MODEL_URI": str(iris_path),
            "MODEL_SHA256": hashlib.sha256(iris_path.read_bytes()).hexdigest(),
        }
        runs = args.imports_runs
        print(f"\nCold import cost, median of {runs} fresh interpreters (interpreter start excluded)")
        rows = [
            (
                "import lambda_runtime.handler (no MODEL_URI)",
                fresh_import_ms("import lambda_runtime.handler", runs),
            ),
            (
                "import numpy, sklearn.base, joblib (the floor)",
                fresh_import_ms("import numpy, sklearn.base, joblib", runs),
            ),
            (
                "import lambda_runtime.handler + load iris model",
                fresh_import_ms("import lambda_runtime.handler", runs, model_env),
            ),
            ("  optional: import pandas", fresh_import_ms("import pandas", runs)),
            ("  optional: import boto3 (s3:// MODEL_URI)", fresh_import_ms("import boto3", runs)),
            ("  optional: import skops.io (.skops models)", fresh_import_ms("import skops.io", runs)),
        ]
        rows.append(("  of which lambda_runtime's own modules (-X importtime)", own_modules_import_ms(runs)))
        for label, ms in rows:
            print(f"{label:52} {ms:8.1f} ms")


def own_modules_import_ms(runs: int) -> float:
    """Self time of the lambda_runtime modules alone (numpy etc. excluded), from ``-X importtime``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MODEL_")}
    totals = []
    for _ in range(runs):
        err = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import lambda_runtime.handler"],
            cwd=REPO,
            env=environ,
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        total_us = 0
        for line in err.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[2].strip().startswith("lambda_runtime"):
                total_us += int(parts[0].split(":")[1])
        totals.append(total_us / 1000)
    return statistics.median(totals)


if __name__ == "__main__":
    main()
