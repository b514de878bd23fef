"""Local batch scoring against the obvious baseline, and its memory at two file sizes.

Usage::

    .venv/bin/python -m benchmarks.batch [--rows 1000000] [--small-rows 250000] [--workers N]

For two models (a random forest on 8 numeric columns; a DataFrame pipeline, ColumnTransformer with
one-hot strings and scaled numbers into a logistic regression), on a generated CSV with an ``id``
column:

* baseline: ``pandas.read_csv`` of the whole file, then one ``model.predict`` over it, one process;
* ``cdk-sklearn batch`` (the batch entry point's code: ranged reads, line alignment, per-row checks,
  CSV out) with ``--workers`` processes.

Each run is a fresh subprocess; its wall time gives rows/s, and the largest peak RSS among it and
its children (``RUSAGE_CHILDREN``) the memory. Figures are printed as a Markdown table, not checked:
the machine is shared, so they are indications, not limits.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parents[1]
N_FEATURES = 8

_BASELINE = """
import sys, joblib, pandas as pd
model = joblib.load(sys.argv[1])
frame = pd.read_csv(sys.argv[2])
ids = frame.pop("id")
if not hasattr(model, "feature_names_in_"):
    frame = frame.to_numpy()
predictions = model.predict(frame)
pd.DataFrame({"id": ids, "prediction": predictions}).to_csv(sys.argv[3], index=False)
"""


def train(kind: str, folder: Path) -> Path:
    """A model of ``kind`` (``forest`` or ``pipeline``) trained on generated data, saved with joblib."""
    import joblib
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    features = rng.normal(size=(20_000, N_FEATURES))
    target = (features[:, 0] + features[:, 1] ** 2 > 1).astype(int)
    if kind == "forest":
        model = RandomForestClassifier(n_estimators=100, max_depth=10, random_state=0, n_jobs=1)
        model.fit(features, target)
    else:
        frame = pd.DataFrame(features[:, :4], columns=["a", "b", "c", "d"])
        frame["colour"] = rng.choice(["red", "green", "blue"], size=len(frame))
        frame["size"] = rng.choice(["S", "M", "L"], size=len(frame))
        pre = ColumnTransformer(
            [("cat", OneHotEncoder(), ["colour", "size"]), ("num", StandardScaler(), ["a", "b", "c", "d"])]
        )
        model = make_pipeline(pre, LogisticRegression(max_iter=300)).fit(frame, target)
    path = folder / f"{kind}.joblib"
    joblib.dump(model, path)
    return path


def write_csv(kind: str, rows: int, path: Path) -> None:
    """``rows`` rows for model ``kind``, with an ``id`` column, written in blocks (bounded memory)."""
    rng = np.random.default_rng(1)
    with path.open("w") as out:
        if kind == "forest":
            out.write("id," + ",".join(f"x{i}" for i in range(N_FEATURES)) + "\n")
        else:
            out.write("id,a,b,c,d,colour,size\n")
        for start in range(0, rows, 100_000):
            n = min(100_000, rows - start)
            values = rng.normal(size=(n, N_FEATURES if kind == "forest" else 4)).round(6)
            ids = np.arange(start, start + n)
            if kind == "forest":
                lines = [
                    f"{i}," + ",".join(map(repr, row)) for i, row in zip(ids, values.tolist(), strict=True)
                ]
            else:
                colours = rng.choice(["red", "green", "blue"], size=n)
                sizes = rng.choice(["S", "M", "L"], size=n)
                lines = [
                    f"{i}," + ",".join(map(repr, row)) + f",{c},{s}"
                    for i, row, c, s in zip(ids, values.tolist(), colours, sizes, strict=True)
                ]
            out.write("\n".join(lines) + "\n")


def timed(argv: list[str]) -> tuple[float, float]:
    """Run ``argv`` in a fresh process; return (seconds, peak RSS in MiB of its largest process)."""
    started = time.perf_counter()
    # Each measurement runs in a fresh grandchild, so RUSAGE_CHILDREN of this helper is its own.
    probe = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
        "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *argv], check=True, capture_output=True, text=True, cwd=PROJECT
    )
    seconds = time.perf_counter() - started
    return seconds, int(result.stdout.strip()) / 1024.0


def measure(kind: str, rows: int, small_rows: int, workers: int, folder: Path) -> dict[str, float]:
    model = train(kind, folder)
    figures: dict[str, float] = {}
    for label, n in (("large", rows), ("small", small_rows)):
        data = folder / f"in-{kind}-{label}"
        data.mkdir()
        write_csv(kind, n, data / "data.csv")
        base_s, base_mb = timed(
            [sys.executable, "-c", _BASELINE, str(model), str(data / "data.csv"), str(folder / "base.csv")]
        )
        out = folder / f"out-{kind}-{label}"
        cli = [sys.executable, "-m", "cdk_sklearn.cli", "batch", "--model", str(model), "--input", str(data)]
        cli += ["--output", str(out), "--id-column", "id", "--workers", str(workers), "--quiet"]
        batch_s, batch_mb = timed(cli)
        figures.update(
            {
                f"{label}_rows": n,
                f"{label}_baseline_rows_s": n / base_s,
                f"{label}_batch_rows_s": n / batch_s,
                f"{label}_baseline_peak_mib": base_mb,
                f"{label}_batch_peak_mib": batch_mb,
            }
        )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.batch", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small-rows", type=int, default=250_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--models", nargs="+", default=["forest", "pipeline"])
    args = parser.parse_args(argv)
    print(f"workers={args.workers}, cpu_count={os.cpu_count()}, python {sys.version.split()[0]}")
    print("| model | rows | baseline rows/s | batch rows/s | ratio | baseline peak MiB | batch peak MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        for kind in args.models:
            folder = Path(tmp) / kind
            folder.mkdir()
            f = measure(kind, args.rows, args.small_rows, args.workers, folder)
            for label in ("small", "large"):
                base, batch = f[f"{label}_baseline_rows_s"], f[f"{label}_batch_rows_s"]
                peaks = f"{f[f'{label}_baseline_peak_mib']:,.0f} | {f[f'{label}_batch_peak_mib']:,.0f}"
                print(
                    f"| {kind} | {f[f'{label}_rows']:,.0f} | {base:,.0f} | {batch:,.0f} | "
                    f"{batch / base:.2f}x | {peaks} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
