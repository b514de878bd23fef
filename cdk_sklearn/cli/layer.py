"""``cdk-sklearn layer build``: build a model's Lambda layer outside CDK.

``--engine sklearn`` (the default for a pickle or skops file) builds the scikit-learn layer pinned to the
model's training versions; ``--engine onnx`` (the default for a verified ``.onnx``) the ONNX engine's
layer: numpy + onnxruntime, pinned to the onnxruntime that verified the graph.

The same pipeline as :class:`cdk_sklearn.layer.SklearnLayer` (:mod:`cdk_sklearn.packaging.pipeline`,
the same cache, the same automatic slimming over 230 MB), so for the same model, runtime, architecture
and lock it writes the files the construct ships. The lock is the app's when there is one
(``$CDK_SKLEARN_LOCK``, or ``pylock.cdk-sklearn.toml`` in the current folder), as at synth; elsewhere
a lock private to the cache. The output folder holds ``python/`` and ``requirements.lock``, ready to
zip (``cd DIR && zip -qr ../layer.zip .``) and publish with ``aws lambda publish-layer-version``.
"""

from __future__ import annotations

import argparse
import os
from importlib import metadata
from pathlib import Path
from typing import Any

from cdk_sklearn.model.artifact import ModelArtifact, inspect_model
from cdk_sklearn.packaging.build import copy_layer, merge_requirements
from cdk_sklearn.packaging.lock import LOCK_ENV, lock_path
from cdk_sklearn.packaging.pipeline import LayerRecipe, ship_layer
from cdk_sklearn.packaging.target import LambdaTarget
from lambda_runtime import limits
from lambda_runtime.limits import DEFAULT_ARCHITECTURE, DEFAULT_RUNTIME


def register(subparsers: Any) -> None:
    """Add ``layer build`` to the CLI."""
    layer = subparsers.add_parser("layer", help="build a model's Lambda layer (scikit-learn or ONNX engine)")
    actions = layer.add_subparsers(dest="layer_command", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build",
        help="build the layer into a folder (python/ + requirements.lock)",
        description="Build the scikit-learn layer pinned to a model's training versions, without Docker.",
    )
    build.add_argument(
        "--model",
        type=Path,
        default=None,
        help="the model file (.joblib, .pkl, .skops, or a verified .onnx); optional with --engine onnx",
    )
    build.add_argument(
        "--engine",
        choices=("sklearn", "onnx"),
        default=None,
        help="whose layer: sklearn (scikit-learn and friends) or onnx (numpy + onnxruntime only); "
        "default: from the model file",
    )
    build.add_argument(
        "--runtime",
        default=DEFAULT_RUNTIME,
        choices=limits.RUNTIMES,
        help=f"Lambda runtime (default {DEFAULT_RUNTIME}, as the construct)",
    )
    build.add_argument(
        "--architecture",
        default=DEFAULT_ARCHITECTURE,
        choices=limits.ARCHITECTURES,
        help=f"Lambda architecture (default {DEFAULT_ARCHITECTURE}, as the construct)",
    )
    build.add_argument(
        "--output", required=True, type=Path, help="folder to create (must be empty or absent)"
    )
    build.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="REQUIREMENT",
        help="another pip requirement for the layer (repeatable), e.g. --extra 'pandas>=2'",
    )
    build.add_argument(
        "--bytecode-python",
        default=None,
        metavar="PYTHON",
        help="a CPython of the runtime's version to compile .pyc with (default: found automatically)",
    )
    _add_shipping_options(build)
    build.set_defaults(func=run_build)


def _add_shipping_options(build: argparse.ArgumentParser) -> None:
    # What the construct takes beside the model: function code size, code paths, lock, slim.
    build.add_argument(
        "--function-code-bytes",
        type=int,
        default=0,
        help="unzipped size of the function code, counted in the size budget (default 0)",
    )
    build.add_argument(
        "--code-path",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        dest="code_paths",
        help="your module or package shipped with the function code (repeatable), as code_paths= of the "
        "construct: the closure check accepts the modules the model references from it",
    )
    build.add_argument(
        "--lock",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"the layer lock (default: ${LOCK_ENV}, else pylock.cdk-sklearn.toml here if it exists, "
        "as synth; else a lock private to the cache)",
    )
    build.add_argument(
        "--slim",
        action="store_true",
        help="ship modules as sourceless .pyc (about 15%% smaller; tracebacks show file:line, not source)",
    )


def run_build(args: argparse.Namespace) -> int:
    """Build the layer into ``args.output`` and print its budget; return the exit code."""
    output: Path = args.output
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise ValueError(f"--output {output} exists and is not an empty folder; choose a new folder")
    model = inspect_model(args.model) if args.model is not None else None
    recipe = _recipe(args, model)
    shipped = ship_layer(
        recipe,
        bytecode_python=args.bytecode_python,
        modules=model.referenced if model is not None else (),
        code_paths=tuple(path.expanduser().resolve() for path in args.code_paths),
    )
    build = shipped.build
    budget = build.budget(args.function_code_bytes)
    print(budget.render(f"cdk-sklearn {recipe.engine} layer for {recipe.target.describe()}"))
    budget.check(args.extra)
    copy_layer(build, output)
    bytecode = f".pyc for {build.bytecode_tag}" if build.bytecode_tag else "no .pyc"
    if build.slim:
        bytecode += ", sourceless" + (" (over the automatic slimming line)" if shipped.auto_slimmed else "")
    print(f"layer written to {output} ({bytecode}; lock: {output / 'requirements.lock'})")
    return 0


def _recipe(args: argparse.Namespace, model: ModelArtifact | None) -> LayerRecipe:
    # The construct's choices: the engine from the model file, its pins then the extras.
    engine = args.engine or ("onnx" if model is not None and model.format == "onnx" else "sklearn")
    if model is None and engine != "onnx":
        raise ValueError("--model is required (or pass --engine onnx for the numpy + onnxruntime layer)")
    if model is not None and model.format == "onnx" and engine != "onnx":
        raise ValueError(f"--model {model.path.name} is an ONNX graph: its layer is --engine onnx")
    if engine == "onnx" and (model is None or model.format != "onnx"):
        # A model that is not yet a graph: the layer its graph will need, pinned to the local
        # onnxruntime (the one `cdk-sklearn convert` verifies with).
        base: tuple[str, ...] = onnx_layer_requirements()
    else:
        assert model is not None
        base = model.requirements
    requirements = merge_requirements(base, args.extra)
    if not requirements:
        raise ValueError(
            f"model {args.model} references no package the layer could provide; name them with --extra"
        )
    target = LambdaTarget(args.runtime, args.architecture)
    return LayerRecipe(requirements, target, engine, slim=args.slim, lock=cli_lock(args.lock))


def cli_lock(explicit: Path | None) -> Path | None:
    """The lock ``layer build`` uses: ``explicit``, else the app's as synth finds it, else ``None``.

    ``None`` is the cache's private lock: outside an app the CLI pins per machine, and never creates
    a ``pylock.cdk-sklearn.toml`` in a folder that had none.
    """
    if explicit is not None:
        return explicit.expanduser().absolute()
    app_lock = lock_path()
    return app_lock if os.environ.get(LOCK_ENV) or app_lock.is_file() else None


def onnx_layer_requirements() -> tuple[str, ...]:
    """``numpy`` and ``onnxruntime``, pinned to the onnxruntime installed here when there is one."""
    try:
        return ("numpy", f"onnxruntime=={metadata.version('onnxruntime')}")
    except metadata.PackageNotFoundError:
        return ("numpy", "onnxruntime")
