"""Layer figures for the README: size (ours vs plain ``pip install --target``) and cold import+load.

``python -m benchmarks.layer_figures`` (root: it runs the layer in the trixie userland of
``tests/support/userland.py``, made on first use). For python3.13 x86_64 it prints, as Markdown:

* MB per package of a plain ``pip install --target`` (which compiles .pyc for the HOST Python) and of
  the cdk-sklearn layer (pruned, .pyc for CPython 3.13);
* MB per package of the full and the slim (sourceless .pyc) layer, for x86_64 and arm64;
* the median CPU time of a cold ``import lambda_runtime.handler`` (imports numpy/scikit-learn and
  loads the model) in fresh ``python3.13 -I -S -B`` processes, with the target .pyc, with the slim
  layer, and without .pyc, for the iris demo model and a ~50 MB MLPClassifier.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import joblib
from sklearn.datasets import load_iris
from sklearn.neural_network import MLPClassifier

from cdk_sklearn.packaging.budget import directory_size, package_sizes
from cdk_sklearn.packaging.build import LayerBuild, build_layer, copy_layer
from cdk_sklearn.packaging.bytecode import Interpreter, probe
from cdk_sklearn.packaging.install import pip_command
from cdk_sklearn.packaging.target import LambdaTarget
from tests.support.userland import make_userland

PROJECT = Path(__file__).resolve().parents[1]
TARGET = LambdaTarget("python3.13", "x86_64")
REQUIREMENTS = ("scikit-learn==1.9.1",)
_MB = 1_000_000
_TIMER = """
import os, sys, time
sys.path[:0] = ["/var/task", "/opt/python"]
os.environ["MODEL_URI"], os.environ["MODEL_SHA256"] = sys.argv[1], sys.argv[2]
wall, cpu = time.perf_counter(), time.process_time()
import lambda_runtime.handler
print(time.process_time() - cpu, time.perf_counter() - wall)
"""


def plain_install(destination: Path) -> None:
    """What a user gets from pip alone (same target options, pip's default host-Python .pyc)."""
    command = [*pip_command(), "install", "-q", "--target", str(destination), *TARGET.pip_arguments()]
    subprocess.run([*command, *REQUIREMENTS], check=True, capture_output=True)


def demo_models(directory: Path) -> dict[str, Path]:
    """The iris demo model and a ~50 MB MLPClassifier."""
    sys.path.insert(0, str(PROJECT))
    from examples.train_iris import train

    features, target = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPClassifier(hidden_layer_sizes=(2300, 650), max_iter=2, random_state=0).fit(features, target)
    joblib.dump(mlp, directory / "mlp.joblib")
    return {"iris demo": train(directory / "iris.joblib"), "MLP": directory / "mlp.joblib"}


def cold_times(userland_root: Path, run: list[str], model: Path, repeats: int) -> list[float]:
    """CPU seconds of ``import lambda_runtime.handler`` in fresh interpreters, ``repeats`` times.

    CPU time rather than wall time: it is what compiling costs, and it does not move when other
    processes share the machine's two cores.
    """
    task = userland_root / "var" / "task"
    shutil.copy2(model, task / model.name)
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    times = []
    for _ in range(repeats + 1):
        out = subprocess.run(
            [*run, "/var/task/timer.py", f"/var/task/{model.name}", digest],
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(float(out.stdout.strip().splitlines()[-1].split()[0]))
    return times[1:]  # the first run warms the page cache


def slim_table(compiler: Interpreter) -> None:
    """Print MB per package of the full and the slim layer for x86_64 and arm64."""
    columns = []
    for architecture in ("x86_64", "arm64"):
        target = LambdaTarget(TARGET.runtime, architecture)
        for slim in (False, True):
            build = build_layer(REQUIREMENTS, target, compiler, slim=slim)
            columns.append((f"{architecture} {'slim' if slim else 'full'}", build))
    print("\n| package | " + " | ".join(f"{label} (MB)" for label, _ in columns) + " |")
    print("|---|" + "---:|" * len(columns))
    names = sorted(
        {n for _, b in columns for n in b.packages}, key=lambda n: -columns[0][1].packages.get(n, 0)
    )
    for name in names:
        cells = " | ".join(f"{b.packages.get(name, 0) / _MB:.1f}" for _, b in columns)
        print(f"| {name} | {cells} |")
    print("| **total** | " + " | ".join(f"**{b.layer_bytes / _MB:.1f}**" for _, b in columns) + " |")


def install_layer(opt: Path, build: LayerBuild) -> None:
    """Put ``build`` at the userland's ``/opt`` (replacing what was there)."""
    shutil.rmtree(opt, ignore_errors=True)
    copy_layer(build, opt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    userland = make_userland("x86_64")
    compiler = probe(str(userland.host_python()))
    assert compiler is not None
    build = build_layer(REQUIREMENTS, TARGET, compiler)
    slim = build_layer(REQUIREMENTS, TARGET, compiler, slim=True)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        plain = work / "plain"
        plain_install(plain)
        ours = package_sizes(build.layer_dir / "python")
        theirs = package_sizes(plain)
        print("| package | plain pip --target (MB) | cdk-sklearn layer (MB) |\n|---|---:|---:|")
        for name in sorted(set(ours) | set(theirs), key=lambda n: -theirs.get(n, 0)):
            print(f"| {name} | {theirs.get(name, 0) / _MB:.1f} | {ours.get(name, 0) / _MB:.1f} |")
        print(f"| **total** | **{directory_size(plain) / _MB:.1f}** | **{build.layer_bytes / _MB:.1f}** |")
        slim_table(compiler)

        opt, task = userland.root / "opt", userland.root / "var" / "task"
        shutil.rmtree(task, ignore_errors=True)
        install_layer(opt, build)
        shutil.copytree(PROJECT / "lambda_runtime", task / "lambda_runtime")
        for cache in task.rglob("__pycache__"):
            shutil.rmtree(cache)
        (task / "timer.py").write_text(_TIMER)
        run = userland.python("-I", "-S", "-B")
        models = demo_models(work)
        results: dict[str, dict[str, float]] = {}
        for label, model in models.items():
            results[label] = {"with": statistics.median(cold_times(userland.root, run, model, args.repeats))}
        install_layer(opt, slim)
        for label, model in models.items():
            results[label]["slim"] = statistics.median(cold_times(userland.root, run, model, args.repeats))
        install_layer(opt, build)
        # Same layer without bytecode: what a cold start pays when it must compile every import.
        for cache in (opt / "python").rglob("__pycache__"):
            shutil.rmtree(cache)
        for label, model in models.items():
            results[label]["without"] = statistics.median(cold_times(userland.root, run, model, args.repeats))
        print("\n| model | size | cold import+load, CPU s, with target .pyc | slim | without .pyc |")
        print("|---|---:|---:|---:|---:|")
        for label, model in models.items():
            size = model.stat().st_size / _MB
            row = results[label]
            print(
                f"| {label} | {size:.1f} MB | {row['with']:.2f} s | {row['slim']:.2f} s "
                f"| {row['without']:.2f} s |"
            )
        print("\n" + json.dumps({"lock": build.lock, "repeats": args.repeats}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
