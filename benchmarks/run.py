"""``make bench``: cold start, warm latency and layer size vs scikit-learn-lambda, into docs/benchmarks.md.

Usage::

    .venv/bin/python -m benchmarks.run [--quick] [--sklearn-lambda-src PATH] [--target auto|host|trixie]

Nothing is fetched from anywhere but PyPI (wheels for the layers, cached under build/bench/). The
scikit-learn-lambda comparison needs a copy of https://github.com/model-zoo/scikit-learn-lambda made
by you outside this repository (``git clone https://github.com/model-zoo/scikit-learn-lambda
/tmp/scikit-learn-lambda``); without ``--sklearn-lambda-src`` it is skipped.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from benchmarks import layers, plots, report
from benchmarks.coldstart import ColdResult, Variant, cold_starts
from benchmarks.models import BenchModel, generate, model_specs, size_table
from benchmarks.targets import Target, host_target, trixie_target
from benchmarks.warm import WarmResult, warm_latency
from cdk_sklearn.model.artifact import inspect_model

PROJECT = Path(__file__).resolve().parents[1]
TRIXIE_PYTHON = "usr/bin/python3.13"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: two small models, 2 runs, short warm loops"
    )
    parser.add_argument("--sklearn-lambda-src", type=Path, help="a copy of model-zoo/scikit-learn-lambda")
    parser.add_argument(
        "--target",
        choices=("auto", "host", "trixie"),
        default="auto",
        help="auto: the trixie userland (CPython 3.13) if built and running as root, else host",
    )
    parser.add_argument(
        "--trixie-root", type=Path, help="the Debian trixie userland (default: found under .cache/)"
    )
    parser.add_argument("--runs", type=int, help="cold starts per model and handler (default 5, --quick 2)")
    parser.add_argument("--our-layer", type=Path, help="use this built layer folder instead of building one")
    parser.add_argument("--work", type=Path, default=PROJECT / "build/bench")
    parser.add_argument("--output", type=Path, default=PROJECT / "docs/benchmarks.md")
    parser.add_argument("--img", type=Path, default=PROJECT / "docs/img")
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = 2 if args.quick else 5
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    return args


def log(message: str) -> None:
    print(message, flush=True)


def find_trixie_root(explicit: Path | None) -> Path | None:
    """The userland the layer boot test built (``.cache/**/usr/bin/python3.13``), or None."""
    if explicit is not None:
        return explicit
    cache = PROJECT / ".cache"
    for candidate in sorted(cache.glob(f"*/{TRIXIE_PYTHON}")) + sorted(cache.glob(f"*/*/{TRIXIE_PYTHON}")):
        root = candidate.parents[2]
        # make userlands also builds an arm64 root (run through qemu): only the host's own
        # architecture measures real cold starts.
        if platform.machine() in root.name or "-" not in root.name:
            return root
    return None


def choose_target(args: argparse.Namespace) -> Target:
    if args.target == "host":
        return host_target()
    root = find_trixie_root(args.trixie_root)
    if root is None:
        if args.target == "trixie":
            raise ValueError(
                "--target trixie: no Debian trixie userland under .cache/; build it with the layer boot test "
                "or pass --trixie-root PATH"
            )
        log("no trixie userland under .cache/ (or not root): measuring under the host interpreter")
        return host_target()
    try:
        target = trixie_target(root)
        target.compile_stdlib()
        return target
    except ValueError as error:
        if args.target == "trixie":
            raise
        log(f"{error}: measuring under the host interpreter")
        return host_target()


def layer_site(folder: Path) -> Path:
    """A layer's importable folder: ``python/`` inside a layer folder, or the folder itself."""
    return folder / "python" if (folder / "python").is_dir() else folder


def bytecode_python(target: Target, work: Path, cache: Path) -> str:
    """An executable that compiles with the target's interpreter (the layer's ``bytecode_python``).

    For the trixie userland it is a script that enters the root in a private mount namespace with
    the project and the layer cache bound at their own paths, so compileall sees the same paths.
    """
    if target.root is None:
        return target.python
    script = work / "bin" / f"python{target.version}"
    script.parent.mkdir(parents=True, exist_ok=True)
    binds = " ".join(shlex.quote(str(d)) for d in (PROJECT, cache))
    root = shlex.quote(str(target.root))
    script.write_text(
        "#!/bin/sh\n"
        f"# CPython {target.version} of {target.root}, with {binds} bound at the same paths.\n"
        "exec unshare --mount --propagation private sh -c '\n"
        f'  for d in {binds}; do mkdir -p {root}"$d" && mount --bind "$d" {root}"$d"; done\n'
        f'  exec chroot {root} {target.python} "$@"\' sh "$@"\n'
    )
    script.chmod(0o755)
    return str(script)


def build_our_layer(model: BenchModel, target: Target, work: Path) -> Path:
    """Our layer for the target's runtime, built by cdk-sklearn's packaging (cached by its inputs)."""
    # Imported here: the rest of the benchmark runs without the construct library's packaging.
    from cdk_sklearn.model.artifact import inspect_model
    from cdk_sklearn.packaging.build import build_layer, resolve_bytecode
    from cdk_sklearn.packaging.cache import cache_root
    from cdk_sklearn.packaging.target import LambdaTarget

    lambda_target = LambdaTarget(target.runtime, "x86_64")
    interpreter = resolve_bytecode(lambda_target, bytecode_python(target, work, cache_root()))
    build = build_layer(inspect_model(model.path).requirements, lambda_target, interpreter, log=log)
    log(f"our layer: {build.layer_dir} ({build.layer_bytes / 1e6:.1f} MB, bytecode {build.bytecode_tag})")
    return layer_site(build.layer_dir)


def installed_versions(site: Path) -> dict[str, str]:
    """Distribution name -> version from the ``*.dist-info`` folders of a layer."""
    found = {}
    for dist in metadata.distributions(path=[str(site)]):
        found[dist.metadata["Name"].lower()] = dist.version
    return found


def pins_for(site: Path) -> list[str]:
    """Requirements that reproduce the layer's packages with plain pip (the host's versions if unknown)."""
    versions = installed_versions(site)
    wanted = ["scikit-learn", "joblib", "numpy", "scipy", "threadpoolctl"]
    return [f"{name}=={versions.get(name) or metadata.version(name)}" for name in wanted]


def sklearn_lambda_variant(code: Path, layer: Path, runtime: Path) -> Variant:
    """scikit-learn-lambda's handler as shipped: its package, its pruned layer, the runtime's boto3.

    It loads the model lazily on the first request (``SKLEARN_MODEL_PATH``), from a layer without
    ``.pyc``; the loader is timed by wrapping it.
    """
    return Variant(
        report.THEIRS,
        (code, layer, runtime),
        model_env=lambda path: {"SKLEARN_MODEL_PATH": path},
        handler="scikit_learn_lambda:handler",
        body_key="input",
        wrap="scikit_learn_lambda.cache:load_model_from_path",
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)

    log("models ...")
    specs = model_specs()
    if args.quick:
        specs = [s for s in specs if s.name in {"mlp-100x3", "scaler-logreg"}]
    models = generate(work.parent / "bench-models", specs)
    log(size_table(models))

    target = choose_target(args)
    log(f"target: {target.name} ({target.python})")
    try:
        return _measure(args, target, models, started)
    finally:
        target.cleanup()


def _measure(args: argparse.Namespace, target: Target, models: list[BenchModel], started: float) -> int:
    work: Path = args.work
    notes: list[str] = []
    our_layer = layer_site(args.our_layer) if args.our_layer else build_our_layer(models[0], target, work)
    if args.our_layer:
        notes.append(f"Our layer was given with --our-layer {args.our_layer}, not built by this run.")
    pins = pins_for(our_layer)
    plain = layers.pip_target_layer(
        work / "layers" / f"pip-target-{target.runtime}", pins, target.version, False
    )
    runtime = layers.runtime_dir(
        work / f"runtime-{target.runtime}", metadata.version("boto3"), target.version
    )
    target.compile(runtime)
    ours_code = layers.function_dir(PROJECT / "lambda_runtime", work / "function-cdk-sklearn")

    ours = Variant(
        report.OURS,
        (ours_code, our_layer, runtime),
        # Exactly what the construct sets on the function (digest, training version).
        model_env=lambda path: {"MODEL_URI": path, **environments[path]},
        handler="lambda_runtime.handler:handler",
        body_key="instances",
        entry_module="lambda_runtime.handler",
    )
    floor = Variant(report.FLOOR, (our_layer,))
    variants = [ours]
    sizes = {"pip --target": layers.package_sizes(plain), "cdk-sklearn": layers.package_sizes(our_layer)}
    sklearn_lambda_version = None
    if args.sklearn_lambda_src:
        package = layers.find_sklearn_lambda_package(args.sklearn_lambda_src)
        theirs_layer = layers.pip_target_layer(
            work / "layers" / f"sklearn-lambda-{target.runtime}", pins, target.version, prune=True
        )
        theirs_code = layers.function_dir(package, work / "function-sklearn-lambda")
        variants.append(sklearn_lambda_variant(theirs_code, theirs_layer, runtime))
        sizes["scikit-learn-lambda (pruned)"] = layers.package_sizes(theirs_layer)
        sklearn_lambda_version = _describe_source(args.sklearn_lambda_src)
    else:
        log(
            "scikit-learn-lambda comparison skipped: pass --sklearn-lambda-src PATH to a copy of "
            "https://github.com/model-zoo/scikit-learn-lambda (e.g. git clone it into /tmp)"
        )
    variants.append(floor)
    environments = {target.stage(m.path): inspect_model(m.path).runtime_environment() for m in models}

    log(f"cold starts: {len(variants)} variants x {len(models)} models x {args.runs} runs ...")
    cold = cold_starts(variants, target, models, args.runs, progress=log)

    log("warm latency ...")
    budget, max_calls = (0.3, 300) if args.quick else (1.5, 3000)
    warm: list[WarmResult] = []
    for model in models:
        for variant in variants:
            if variant is not floor:
                warm.append(warm_latency(variant, target, model, budget, max_calls))

    versions = {
        name: installed_versions(our_layer).get(name, "?")
        for name in ("scikit-learn", "numpy", "scipy", "joblib")
    }
    facts = report.Facts(
        command=_command(args),
        date=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        target=target.name,
        target_python=_python_version(target),
        runs=args.runs,
        versions=versions,
        sklearn_lambda=sklearn_lambda_version,
        layer_sizes=sizes,
        notes=notes,
    )
    _write(args, facts, models, cold, warm, work)
    log(f"done in {time.monotonic() - started:.0f} s: {args.output}")
    return 0


def _command(args: argparse.Namespace) -> str:
    """The command that reproduces this run, as the user typed it (``make bench`` when run by make)."""
    flags = sys.argv[1:]
    if not os.environ.get("MAKELEVEL"):
        return " ".join([".venv/bin/python -m benchmarks.run", *(shlex.quote(f) for f in flags)])
    parts = ["make bench"]
    if args.sklearn_lambda_src:
        parts.append(f"SKLEARN_LAMBDA_SRC={shlex.quote(str(args.sklearn_lambda_src))}")
        i = flags.index("--sklearn-lambda-src")
        flags = flags[:i] + flags[i + 2 :]
    if flags:
        parts.append(f"BENCH_FLAGS={shlex.quote(' '.join(flags))}")
    return " ".join(parts)


def _python_version(target: Target) -> str:
    with_root = ["chroot", str(target.root)] if target.root else []
    code = "import sys; print(sys.version.split()[0])"
    done = subprocess.run(
        [*with_root, target.python, "-I", "-c", code], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _describe_source(src: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(src), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    commit = done.stdout.strip() if done.returncode == 0 else "unknown commit"
    return f"model-zoo/scikit-learn-lambda ({commit})"


def _write(
    args: argparse.Namespace,
    facts: report.Facts,
    models: list[BenchModel],
    cold: list[ColdResult],
    warm: list[WarmResult],
    work: Path,
) -> None:
    args.img.mkdir(parents=True, exist_ok=True)
    title = f"{facts.target} CPython {facts.target_python}, median of {facts.runs}"
    plots.cold_start_vs_size(cold, f"Cold start vs model size ({title})", args.img / "bench-cold-start.png")
    plots.cold_start_phases(cold, f"Cold start phases ({title})", args.img / "bench-cold-phases.png")
    plots.warm_latency(
        warm, f"Warm latency, cdk-sklearn handler ({facts.target})", args.img / "bench-warm.png"
    )
    raw = {
        "facts": asdict(facts),
        "cold": [
            {"variant": r.variant, "model": r.model.name, "runs": [asdict(x) for x in r.runs]} for r in cold
        ],
        "warm": [
            {
                "variant": w.variant,
                "model": w.model.name,
                "handler": {k: asdict(v) for k, v in w.handler.items()},
                "predict": {k: asdict(v) for k, v in w.predict.items()},
            }
            for w in warm
        ],
    }
    (work / "results.json").write_text(json.dumps(raw, indent=1))
    layer_mb = sum(facts.layer_sizes["cdk-sklearn"].values()) / report.MB
    goal_rows = report.goals(cold, warm, layer_mb)
    text = report.document(facts, models, cold, warm, goal_rows, args.img, args.output.parent)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    readme = args.output.parent / "readme" / "benchmarks.md"
    readme.parent.mkdir(parents=True, exist_ok=True)
    readme.write_text(report.readme_section(facts, models, cold, warm, goal_rows))
    log(size_table(models))
    log(report.goals_table(goal_rows))


if __name__ == "__main__":
    raise SystemExit(main())
