"""The scikit-learn engine against the ONNX engine, each with the layer synth builds for it.

Run: ``.venv/bin/python -m benchmarks.engines [--runs N] [--iterations N] [--families mlp,forest,...]
[--sklearn-lambda-src PATH]``

For each model (the MLP family: 100, 250, 500, 750 and 900 units x 3 hidden layers; a 100-tree forest;
a DataFrame pipeline with string categories; an XGBoost classifier; the ``coverage`` family: DataFrame
pipelines with an imputer and a logistic regression or an SVC, an SVR, a LightGBM regressor) the model
file is converted and verified as the construct does with ``engine="onnx"``
(:func:`cdk_sklearn.model.engine.converted_graph`), and each engine's layer is built as ``SklearnLayer``
builds it for python3.13 x86_64 (locked wheels, pruned, target ``.pyc`` compiled by the userland's
CPython 3.13). Each figure comes from a fresh
CPython 3.13.5 of the Debian trixie userland (``tests/support/userland.py``) with ``PYTHONPATH`` = the
layer + the function code:

- cold: ``import lambda_runtime.handler`` (imports, read, SHA-256, load, warm-up) then the first 1-row
  ``predict`` through the handler, from the probe's first line (interpreter start-up not included); the
  median of ``--runs`` (the first run, which writes the function code's bytecode, is dropped);
- warm: ``--iterations`` 1-row requests through the handler in the last process, p50 and p99;
- cost per million predictions at 1024 MB, x86_64: Lambda's request price plus the warm p50 billed
  (rounded up to the millisecond, as Lambda bills) at the GB-second price of ``cdk_sklearn.cost``.

With ``--sklearn-lambda-src PATH`` (a checkout of model-zoo/scikit-learn-lambda, read at run time) a third
row per model serves it the way ``benchmarks.run`` does: its handler and its lazy loading, its layer
(``pip --target`` of the scikit-learn engine layer's pins, pruned as its script prunes: no ``.pyc``)
under ``-B``, the same CPython 3.13 of the trixie userland (chroot), measured by
:func:`benchmarks.coldstart.cold_starts` (median of ``--runs``, rows sent as its ``input``) and
:func:`benchmarks.warm.warm_latency`. Its cold figure leaves out the interpreter start-up phase, as the
probe above starts its clock at its first line. A model it cannot serve is "n/a" with the handler's answer.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from benchmarks import layers
from benchmarks.coldstart import ColdResult, cold_starts
from benchmarks.models import BenchModel
from benchmarks.run import find_trixie_root, pins_for, sklearn_lambda_variant
from benchmarks.targets import Target, trixie_target
from benchmarks.warm import warm_latency
from cdk_sklearn.cost.prices import price
from cdk_sklearn.model.artifact import ModelArtifact, inspect_model
from cdk_sklearn.model.engine import converted_graph
from cdk_sklearn.packaging.build import LayerBuild, build_layer, resolve_bytecode
from cdk_sklearn.packaging.cpu_wheels import plan_cpu_wheels
from cdk_sklearn.packaging.target import LambdaTarget

REPO = Path(__file__).resolve().parent.parent
USERLAND_PYTHON = REPO / ".cache" / "userlands" / "python3.13-x86_64"
TARGET = LambdaTarget("python3.13", "x86_64")
MEMORY_MB = 1024
MLP_WIDTHS = (100, 250, 500, 750, 900)
PROBE = """
import time
t0 = time.perf_counter()
import json, os, sys
from lambda_runtime.handler import handler
t1 = time.perf_counter()
body = os.environ["BENCH_BODY"]
event = {"version": "2.0", "rawPath": "/predict", "headers": {"content-type": "application/json"},
         "requestContext": {"http": {"method": "POST", "path": "/predict"}, "requestId": "x"},
         "body": body, "isBase64Encoded": False}
response = handler(event, None)
t2 = time.perf_counter()
assert response["statusCode"] == 200, response
warm = []
for _ in range(int(os.environ["BENCH_ITERATIONS"])):
    started = time.perf_counter()
    handler(event, None)
    warm.append((time.perf_counter() - started) * 1e3)
leaked = sorted({"sklearn", "scipy", "pandas", "joblib"} & {m.split(".")[0] for m in sys.modules})
print(json.dumps({"cold": (t1 - t0 + t2 - t1) * 1e3, "init": (t1 - t0) * 1e3, "first": (t2 - t1) * 1e3,
                  "warm": warm, "leaked": leaked}), file=sys.stderr)
"""


@dataclass(frozen=True)
class Case:
    """A saved model, the sample its conversion is verified on, one request body and rows as arrays."""

    name: str
    model: Path
    sample: Path
    body: str
    rows: str


def make_cases(folder: Path, families: set[str]) -> list[Case]:
    """Train and save every benchmarked model (seeded: the same files on every run)."""
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.neural_network import MLPClassifier

    features, target = make_classification(2000, 20, n_informative=10, n_classes=3, random_state=0)
    matrix_sample = folder / "matrix.npy"
    np.save(matrix_sample, features[:200])
    matrix_body = json.dumps({"instances": features[:1].tolist()})
    matrix_rows = json.dumps(features[:100].tolist())
    cases = []

    def save(name: str, model: Any, sample: Path, body: str, rows: str = matrix_rows) -> None:
        path = folder / f"{name.replace(' ', '_')}.joblib"
        joblib.dump(model, path)
        cases.append(Case(name, path, sample, body, rows))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few MLP epochs: the size, not the fit, is measured
        if "mlp" in families:
            for width in MLP_WIDTHS:
                mlp = MLPClassifier((width,) * 3, max_iter=3, random_state=0).fit(features, target)
                save(f"MLP {width}x3", mlp, matrix_sample, matrix_body)
        if "forest" in families:
            forest = RandomForestClassifier(n_estimators=100, random_state=0).fit(features, target)
            save("RandomForest 100", forest, matrix_sample, matrix_body)
        if "xgboost" in families:
            import xgboost

            booster = xgboost.XGBClassifier(n_estimators=100, max_depth=6, n_jobs=1, random_state=0)
            save("XGBoost 100", booster.fit(features, target), matrix_sample, matrix_body)
    if "dataframe" in families:
        _frame_cases(folder, save)
    if "coverage" in families:
        _coverage_cases(folder, save, features)
    return cases


Save = Callable[..., None]


def _churn_frame(n: int = 2000, missing: bool = False) -> Any:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "age": rng.uniform(18, 80, n).round(1),
            "income": rng.normal(50_000, 15_000, n).round(0),
            "city": rng.choice(["paris", "lima", "oslo"], n),
            "plan": rng.choice(["basic", "pro"], n),
        }
    )
    if missing:
        frame.loc[rng.random(n) < 0.1, "income"] = np.nan
    return frame


def _save_frame(folder: Path, save: Save, name: str, model: Any, frame: Any) -> None:
    sample = folder / f"{name.replace(' ', '_')}.csv"
    frame.iloc[:200].to_csv(sample, index=False)
    body = json.dumps({"dataframe_records": frame.iloc[:1].replace({np.nan: None}).to_dict(orient="records")})
    # scikit-learn-lambda passes its "input" to predict as it comes: rows of values, no column names.
    save(name, model, sample, body, json.dumps(frame.iloc[:100].replace({np.nan: None}).values.tolist()))


def _columns(numbers: Any) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    return ColumnTransformer(
        [
            ("numbers", numbers, ["age", "income"]),
            ("categories", OneHotEncoder(handle_unknown="ignore"), ["city", "plan"]),
        ]
    )


def _frame_cases(folder: Path, save: Save) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    frame = _churn_frame()
    target = ((frame["age"] > 45) ^ (frame["plan"] == "pro")).astype(int)
    pipeline = Pipeline(
        [
            ("columns", _columns(StandardScaler())),
            ("classifier", HistGradientBoostingClassifier(max_iter=100, random_state=0)),
        ]
    ).fit(frame, target)
    _save_frame(folder, save, "DataFrame pipeline", pipeline, frame)


def _coverage_cases(folder: Path, save: Save, features: Any) -> None:
    """The kinds issue 25 made servable: DataFrame pipelines with an imputer, a logistic regression and an
    SVC, an SVR, and a LightGBM regressor on a target of 25-350."""
    import lightgbm
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC, SVR

    frame = _churn_frame(missing=True)
    target = ((frame["age"] > 45) ^ (frame["plan"] == "pro")).astype(int)
    imputed = make_pipeline(SimpleImputer(), StandardScaler())
    logistic = make_pipeline(_columns(imputed), LogisticRegression(max_iter=500)).fit(frame, target)
    _save_frame(folder, save, "DataFrame imputer logistic", logistic, frame)
    svc = make_pipeline(_columns(imputed), SVC(probability=True, random_state=0)).fit(frame, target)
    _save_frame(folder, save, "DataFrame imputer SVC", svc, frame)
    sample = folder / "matrix.npy"
    body = json.dumps({"instances": features[:1].tolist()})
    price = 25.0 + 325.0 * (features[:, 0] - features[:, 0].min()) / np.ptp(features[:, 0])
    save("SVR", make_pipeline(StandardScaler(), SVR()).fit(features, price), sample, body)
    booster = lightgbm.LGBMRegressor(n_estimators=100, verbose=-1, random_state=0).fit(features, price)
    save("LightGBM regressor 100", booster, sample, body)


def layer_for(model: ModelArtifact, engine: str, python: str) -> LayerBuild:
    """The layer ``SklearnLayer`` builds for ``model`` (from the cache when built before)."""
    interpreter = resolve_bytecode(TARGET, python)
    plan = plan_cpu_wheels(model.requirements, TARGET)
    return build_layer(
        plan.requirements,
        TARGET,
        interpreter,
        without_dependencies=plan.without_dependencies,
        modules=model.referenced,
        engine=engine,
        log=lambda _line: None,
    )


def measure(
    python: str, layer: LayerBuild, model: ModelArtifact, body: str, runs: int, iterations: int
) -> dict[str, Any]:
    """Cold (median of ``runs``) and warm figures of ``model`` served from ``layer``."""
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join([str(layer.layer_dir / "python"), str(REPO)]),
        "LOG_LEVEL": "ERROR",
        "MODEL_URI": str(model.path),
        **model.runtime_environment(),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(MEMORY_MB),
        "BENCH_BODY": body,
    }
    results = []
    for run in range(runs + 1):
        env["BENCH_ITERATIONS"] = str(iterations if run == runs else 0)
        done = subprocess.run([python, "-c", PROBE], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{model.path.name}: {done.stderr[-2000:]}")
        results.append(json.loads(done.stderr.strip().splitlines()[-1]))
    kept = results[1:]  # the first run wrote the function code's bytecode
    warm = kept[-1]["warm"]
    return {
        "cold": statistics.median(r["cold"] for r in kept),
        "p50": statistics.median(warm),
        "p99": statistics.quantiles(warm, n=100)[98],
        "leaked": kept[-1]["leaked"],
    }


@dataclass(frozen=True)
class SklearnLambda:
    """scikit-learn-lambda set up once: its code, the runtime's boto3, the trixie target, a work folder."""

    target: Target
    code: Path
    runtime: Path
    work: Path

    @classmethod
    def prepare(cls, src: Path, work: Path) -> SklearnLambda:
        root = find_trixie_root(None)
        if root is None:
            raise ValueError("--sklearn-lambda-src needs the trixie userland under .cache/")
        target = trixie_target(root)
        target.compile_stdlib()
        package = layers.find_sklearn_lambda_package(src)
        code = layers.function_dir(package, work / "function-sklearn-lambda")
        runtime = layers.runtime_dir(work / f"runtime-{target.runtime}", _version("boto3"), target.version)
        target.compile(runtime)
        return cls(target, code, runtime, work)

    def layer(self, sklearn_site: Path) -> Path:
        """Its pruned ``pip --target`` layer with the pins of the scikit-learn engine's layer."""
        folder = self.work / "layers" / f"sklearn-lambda-{self.target.runtime}"
        return layers.pip_target_layer(folder, pins_for(sklearn_site), self.target.version, prune=True)

    def measure(self, case: Case, sklearn_site: Path, runs: int, iterations: int) -> dict[str, Any]:
        """Cold and warm figures, or ``{"na": reason}`` when its handler does not answer 200."""
        layer = self.layer(sklearn_site)
        variant = sklearn_lambda_variant(self.code, layer, self.runtime)
        model = BenchModel(case.name, case.model, case.model.stat().st_size, None, rows=case.rows)
        try:
            [cold] = cold_starts([variant], self.target, [model], runs, progress=lambda _line: None)
        except RuntimeError as error:
            return {"na": na_reason(error)}
        warm = warm_latency(variant, self.target, model, budget_s=1.0, max_calls=iterations)
        return {
            "cold": cold_after_interpreter(cold),
            "from_spawn": cold.total,
            "p50": warm.handler["rows1"].median_us / 1000,
            "p99": warm.handler["rows1"].p99_us / 1000,
            "layer_bytes": layers.tree_size(layer),
        }


def _version(distribution: str) -> str:
    from importlib import metadata

    return metadata.version(distribution)


def cold_after_interpreter(result: ColdResult) -> float:
    """Median cold start without the interpreter start-up phase (first line -> answer), in ms."""
    return statistics.median(run.total - run.phases["interpreter"] for run in result.runs)


def na_reason(error: Exception) -> str:
    """Why a handler could not serve a model, in one line, from the benchmark's RuntimeError."""
    text = str(error)
    if "stderr:" in text:
        lines = [line for line in text.split("stderr:", 1)[1].splitlines() if line.strip()]
        text = lines[-1] if lines else text
    else:
        text = text.partition(": ")[2] or text
    return " ".join(text.split())[:240]


def cost_per_million(p50_ms: float) -> float:
    """USD per million predictions at :data:`MEMORY_MB`, x86_64, billed per started millisecond."""
    billed_seconds = math.ceil(p50_ms) / 1000
    per_request = price("lambda.request") + billed_seconds * MEMORY_MB / 1024 * price(
        "lambda.duration.x86_64"
    )
    return per_request * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--families", default="mlp,forest,dataframe,xgboost,coverage")
    parser.add_argument("--python", default=str(USERLAND_PYTHON))
    parser.add_argument(
        "--sklearn-lambda-src", type=Path, help="a checkout of model-zoo/scikit-learn-lambda (third row)"
    )
    parser.add_argument("--work", type=Path, default=REPO / "build" / "bench")
    args = parser.parse_args(argv)
    started = time.monotonic()
    families = set(args.families.split(","))
    print(
        f"python3.13 x86_64 layers with target .pyc; cold = fresh {args.python} -> first 1-row predict "
        f"(median of {args.runs}); warm = {args.iterations} 1-row requests; $/M at {MEMORY_MB} MB x86_64"
    )
    sll = None
    if args.sklearn_lambda_src:
        args.work.mkdir(parents=True, exist_ok=True)
        sll = SklearnLambda.prepare(args.sklearn_lambda_src, args.work)
        print(
            f"sll = scikit-learn-lambda ({args.sklearn_lambda_src}): its handler, lazy load, pruned layer "
            f"without .pyc, -B, under {sll.target.python} in {sll.target.root}; cold without interpreter "
            f"start-up (median of {args.runs}); warm: up to {args.iterations} 1-row handler calls "
            "alternating with direct predict calls"
        )
    else:
        print(
            "scikit-learn-lambda skipped: pass --sklearn-lambda-src PATH to a checkout of "
            "https://github.com/model-zoo/scikit-learn-lambda for a third row per model"
        )
    header = (
        f"{'model':20} {'engine':8} {'cold ms':>8} {'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'$/M':>6} {'layer MB':>8} {'onnx/sll':>8}"
    )
    print(header)
    try:
        with tempfile.TemporaryDirectory() as work:
            folder = Path(work)
            for case in make_cases(folder, families):
                _compare(case, args, sll)
    finally:
        if sll is not None:
            sll.target.cleanup()
    print(f"({time.monotonic() - started:.0f} s)", file=sys.stderr)
    return 0


def _compare(case: Case, args: argparse.Namespace, sll: SklearnLambda | None) -> None:
    """Print one row per engine (and one for scikit-learn-lambda) for ``case``."""
    source = inspect_model(case.model)
    graph = converted_graph(source, case.sample, 1e-5)
    cold: dict[str, float] = {}
    sklearn_site = None
    for engine, model in (("sklearn", source), ("onnx", graph)):
        layer = layer_for(model, engine, args.python)
        if engine == "sklearn":
            sklearn_site = layer.layer_dir / "python"
        r = measure(args.python, layer, model, case.body, args.runs, args.iterations)
        cold[engine] = r["cold"]
        ratio = r["cold"] / cold["sklearn"]
        leaked = f"  imported {','.join(r['leaked'])}" if engine == "onnx" and r["leaked"] else ""
        print(
            f"{case.name:20} {engine:8} {r['cold']:8.1f} {ratio:6.2f} {r['p50']:7.3f} {r['p99']:7.3f} "
            f"{cost_per_million(r['p50']):6.2f} {layer.layer_bytes / 1e6:8.1f}{leaked}",
            flush=True,
        )
    if sll is None or sklearn_site is None:
        return
    r = sll.measure(case, sklearn_site, args.runs, args.iterations)
    if "na" in r:
        print(f"{case.name:20} {'sll':8} {'n/a':>8}  {r['na']}", flush=True)
        return
    print(
        f"{case.name:20} {'sll':8} {r['cold']:8.1f} {r['cold'] / cold['sklearn']:6.2f} {r['p50']:7.3f} "
        f"{r['p99']:7.3f} {cost_per_million(r['p50']):6.2f} {r['layer_bytes'] / 1e6:8.1f} "
        f"{cold['onnx'] / r['cold']:8.2f}  (from spawn {r['from_spawn']:.1f})",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
