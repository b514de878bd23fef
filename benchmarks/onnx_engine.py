"""The ONNX engine against the scikit-learn engine: cold init + first request, and warm 1-row latency.

Run: ``.venv/bin/python -m benchmarks.onnx_engine [--runs N] [--iterations N] [--python PATH]``

Cold figures come from fresh interpreters: ``--python`` names the interpreter (default: the trixie
CPython 3.13 launcher of ``tests/support/userland.py`` when it exists, else this one). For another
interpreter the engines' wheels are installed for its version into ``.cache/bench-onnx/<version>/``
(``pip install --target --only-binary``). Each run imports ``lambda_runtime.handler`` (imports, fetch,
SHA-256, load, warm-up: "init") and answers one 1-row ``predict_proba`` request ("first"); the first
run of each case compiles bytecode and is dropped. Warm figures: 5,000 1-row JSON requests through
``App.handle`` in this process, log line to a null stream.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from lambda_runtime.app import App, create_app
from tests.helpers import models, onnx_models
from tests.helpers.apigw_events import JSON_HEADERS, LambdaContext, http_api_event

REPO = Path(__file__).resolve().parent.parent
USERLAND_PYTHON = REPO / ".cache" / "userlands" / "python3.13-x86_64"
LAYERS = {
    "onnx": ["onnxruntime==1.32.0", "numpy==2.4.6"],
    "sklearn": ["scikit-learn==1.9.1", "numpy==2.4.6", "joblib==1.6.0"],
}
PROBE = """
import time
t0 = time.perf_counter()
import json, sys
from lambda_runtime.handler import APP, handler
t1 = time.perf_counter()
body = json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]], "method": "predict_proba"})
event = {"version": "2.0", "rawPath": "/predict", "headers": {"content-type": "application/json"},
         "requestContext": {"http": {"method": "POST", "path": "/predict"}, "requestId": "x"},
         "body": body, "isBase64Encoded": False}
response = handler(event, None)
t2 = time.perf_counter()
assert response["statusCode"] == 200, response
print(json.dumps({"init": (t1 - t0) * 1e3, "load": APP.model.load_seconds * 1e3, "first": (t2 - t1) * 1e3,
                  "modules": len(sys.modules)}), file=sys.stderr)
"""


def make_models(folder: Path) -> dict[str, tuple[Path, Path]]:
    """A 100-tree forest and a (64, 64) MLP on iris, each as ``.onnx`` and ``.joblib``."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.neural_network import MLPClassifier

    features, target = models.iris()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimators = {
            "RandomForest 100 trees": RandomForestClassifier(n_estimators=100, random_state=0).fit(
                features, target
            ),
            "MLP (64, 64)": MLPClassifier(hidden_layer_sizes=(64, 64), max_iter=300, random_state=0).fit(
                features, target
            ),
        }
    files = {}
    for i, (name, estimator) in enumerate(estimators.items()):
        onnx_path = folder / f"m{i}.onnx"
        onnx_path.write_bytes(onnx_models.convert(estimator, sample=features[:1].astype(np.float32)))
        joblib_path = folder / f"m{i}.joblib"
        models.save(estimator, joblib_path)
        files[name] = (onnx_path, joblib_path)
    return files


def layer_for(python: str, engine: str) -> str | None:
    """A folder with the engine's wheels for ``python``'s version (``None``: use this environment's)."""
    if python == sys.executable:
        return None
    version = subprocess.run(
        [python, "-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    target = REPO / ".cache" / "bench-onnx" / version / engine
    if not target.is_dir():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--target", str(target),
             "--python-version", version, "--platform", "manylinux_2_28_x86_64",
             "--platform", "manylinux_2_17_x86_64", "--only-binary=:all:", *LAYERS[engine]],
            check=True,
        )  # fmt: skip
    return str(target)


def cold(python: str, engine: str, model: Path, runs: int) -> dict[str, float]:
    layer = layer_for(python, engine)
    path = os.pathsep.join([p for p in (layer, str(REPO)) if p])
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": path,
        "LOG_LEVEL": "ERROR",
        "MODEL_URI": str(model),
        "MODEL_SHA256": models.sha256(model.read_bytes()),
        "MODEL_FORMAT": "onnx" if engine == "onnx" else "joblib",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
    }
    results = []
    for _ in range(runs + 1):
        done = subprocess.run([python, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stderr.strip().splitlines()[-1]))
    results = results[1:]  # the first run compiled bytecode
    return {key: statistics.median(r[key] for r in results) for key in ("init", "load", "first", "modules")}


def warm(engine: str, model: Path, iterations: int) -> tuple[float, float]:
    env = {"MODEL_URI": str(model), "MODEL_SHA256": models.sha256(model.read_bytes())}
    if engine == "onnx":
        env["MODEL_FORMAT"] = "onnx"  # threads follow this machine: no AWS_LAMBDA_FUNCTION_MEMORY_SIZE here
    with open(os.devnull, "w") as null:
        app = create_app(env, stream=null)
        return _handler_times(app, iterations)


def _handler_times(app: App, iterations: int) -> tuple[float, float]:
    event = http_api_event(
        "POST", "/predict", json.dumps({"instances": [models.IRIS_ROW]}), headers=JSON_HEADERS
    )
    context = LambdaContext()
    for _ in range(200):
        app.handle(event, context)
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        app.handle(event, context)
        samples.append((time.perf_counter() - started) * 1e3)
    return statistics.median(samples), statistics.quantiles(samples, n=100)[98]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--iterations", type=int, default=5000)
    default = str(USERLAND_PYTHON) if USERLAND_PYTHON.exists() else sys.executable
    parser.add_argument("--python", default=default)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        files = make_models(Path(folder))
        print(f"cold: {args.python}, median of {args.runs} fresh interpreters")
        print(f"{'model':28} {'engine':8} {'init ms':>8} {'load ms':>8} {'first ms':>9} {'modules':>8}")
        for name, (onnx_path, joblib_path) in files.items():
            for engine, path in (("onnx", onnx_path), ("sklearn", joblib_path)):
                r = cold(args.python, engine, path, args.runs)
                figures = f"{r['init']:8.1f} {r['load']:8.1f} {r['first']:9.2f} {r['modules']:8.0f}"
                print(f"{name:28} {engine:8} {figures}")
        print(f"warm: {sys.executable} {sys.version.split()[0]}, {args.iterations} 1-row JSON requests")
        forest = files["RandomForest 100 trees"]
        for engine, path in (("onnx", forest[0]), ("sklearn", forest[1])):
            p50, p99 = warm(engine, path, args.iterations)
            print(f"RandomForest 100 trees       {engine:8} handler p50 {p50:.3f} ms  p99 {p99:.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
