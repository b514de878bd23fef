"""Choose the engine an endpoint's model is served with, converting it to ONNX at synth when asked.

``engine="sklearn"`` serves the model file as it is. ``engine="onnx"`` converts it on the deployer's
machine (:func:`cdk_sklearn.model.onnx.convert`), verifies the graph on the sample, and serves the
graph: the model asset is the ``.onnx`` file. ``engine="auto"`` does the same, and falls back to the
scikit-learn engine, saying why in one line, when the model cannot be served as a verified graph: any
refusal of the converter, of onnxruntime (at conversion, session creation or on the verification rows)
or of the verification is such a reason, so ``auto`` never fails synth. ``auto`` also keeps scikit-learn
for a wide MLP (:data:`AUTO_MAX_MLP_WEIGHTS`): a static rule on the model, read from the report.

A converted graph is kept in the cache (``<cache>/onnx/<key>/``), keyed by what decides its bytes: the
model's and the sample's SHA-256, the tolerance and the converter's versions. A re-synth reuses it without
loading the model; the same inputs give the same bytes, so the asset hash does not move.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cdk_sklearn.distribution import install_extra
from cdk_sklearn.model.artifact import ModelArtifact, inspect_model, onnx_report_path
from cdk_sklearn.packaging.cache import cache_root
from cdk_sklearn.packaging.target import LambdaTarget
from lambda_runtime import __version__

ENGINE_CHOICES: Final[tuple[str, ...]] = ("sklearn", "onnx", "auto")
"""Values of the ``engine`` prop."""
ONNX_MIN_PYTHON: Final = (3, 12)
"""The oldest Lambda Python the ONNX engine's layer supports: python3.11 runs on Amazon Linux 2
(glibc 2.26), and current onnxruntime wheels need a newer glibc than it has."""
AUTO_MAX_MLP_WEIGHTS: Final = 1_500_000
"""``engine="auto"`` serves a multi-layer perceptron with more weights than this with scikit-learn.

A trade-off measured, not a failure: onnxruntime's ``MatMul`` on the one intra-op thread Lambda gives
below 1,769 MB is slower warm than scikit-learn's BLAS on wide layers (0.93 ms against 0.33 ms for one
row through 3 x 900 units, about 1.7 million weights), while the cold start still favours ONNX. The
rule reads ``mlp_weights`` from the conversion report, a property of the model: never a timing taken at
synth. ``engine="onnx"`` serves such a model as ONNX when asked."""
_CACHE_SCHEMA: Final = 2
"""2: the issue-25 converters (double imputer, linear scores, kernel SVMs, exact averaged trees) and
relative regression tolerances make other graphs and reports from the same model."""


class EngineError(ValueError):
    """The model cannot be served by the engine asked for (``engine="onnx"``); the message says why."""


@dataclass(frozen=True)
class EngineChoice:
    """What an endpoint serves, and why.

    Attributes
    ----------
    engine
        ``"sklearn"`` or ``"onnx"``.
    model
        The model asset's inspection: the original file, or the verified ``.onnx`` graph.
    detail
        One line for the synth log: the verification summary, or why ``auto`` fell back.
    """

    engine: str
    model: ModelArtifact
    detail: str


def onnx_runtime_problem(runtime: str) -> str | None:
    """Why ``runtime`` cannot run the ONNX engine, or ``None`` when it can."""
    if LambdaTarget(runtime, "x86_64").version_tuple < ONNX_MIN_PYTHON:
        return (
            f"the ONNX engine needs python3.12 or newer: {runtime} runs on Amazon Linux 2, whose glibc 2.26 "
            "cannot load current onnxruntime wheels; set runtime='python3.13' (or keep engine='sklearn')"
        )
    return None


def choose_engine(
    model: ModelArtifact,
    *,
    engine: str,
    runtime: str,
    sample_input: str | os.PathLike[str] | None,
    tolerance: float,
    trusted_types: Sequence[str] = (),
) -> EngineChoice:
    """Decide the engine for ``model`` and, for ONNX, the verified graph to deploy.

    Parameters
    ----------
    model
        The inspected ``model_path``.
    engine
        ``"sklearn"``, ``"onnx"`` or ``"auto"`` (validated by the caller's props).
    runtime
        The Lambda runtime name.
    sample_input
        Rows to verify the conversion on (needed unless ``model`` already is a verified graph).
    tolerance
        Absolute tolerance of the verification.
    trusted_types
        A skops model's trusted types (to load it for conversion).

    Returns
    -------
    EngineChoice

    Raises
    ------
    EngineError
        With ``engine="onnx"``: the conversion or the verification failed, or the runtime cannot run it.
    """
    if model.format == "onnx":
        # Already a verified graph (its report was checked by inspect_model): nothing is unpickled.
        problem = onnx_runtime_problem(runtime)
        if problem is not None:
            raise EngineError(f"model {model.path.name} is an ONNX graph, but {problem}")
        return EngineChoice("onnx", model, f"committed graph {model.path.name}: {_report_summary(model)}")
    if engine == "sklearn":
        return EngineChoice("sklearn", model, "the model file as it is")
    problem = onnx_runtime_problem(runtime)
    if problem is None:
        if sample_input is None:
            problem = "no sample_input to verify the conversion on"
        else:
            try:
                graph = converted_graph(model, Path(sample_input), tolerance, trusted_types)
            except EngineError as exc:
                problem = str(exc)
            else:
                wide = _wide_mlp(graph) if engine == "auto" else None
                if wide is None:
                    return EngineChoice("onnx", graph, _report_summary(graph))
                problem = wide
    if engine == "onnx":
        raise EngineError(problem)
    return EngineChoice("sklearn", model, f"auto: not ONNX ({problem})")


def converted_graph(
    model: ModelArtifact, sample: Path, tolerance: float, trusted_types: Sequence[str] = ()
) -> ModelArtifact:
    """The verified ``.onnx`` of ``model`` in the cache, converting it when the cache lacks it.

    Raises
    ------
    EngineError
        The conversion or its verification failed (the message names the estimator, the rows and the
        largest difference), or the converter is not installed.
    """
    key = conversion_key(model.sha256, _sha256(sample), tolerance)
    folder = cache_root() / "onnx" / key
    graph = folder / f"{model.path.stem}.onnx"
    if graph.is_file() and onnx_report_path(graph).is_file():
        try:
            return inspect_model(graph)
        except ValueError:
            shutil.rmtree(folder, ignore_errors=True)  # a damaged entry: convert again
    try:
        from cdk_sklearn.model.onnx import ConversionError, convert

        result = convert(model.path, sample, tolerance=tolerance, trusted_types=trusted_types or None)
    except ConversionError as exc:  # one line by construction (cdk_sklearn.model.onnx.errors)
        raise EngineError(str(exc)) from None
    except ImportError as exc:
        raise EngineError(
            f"converting to ONNX needs cdk-sklearn's onnx extra ({exc.name} is missing): "
            f"{install_extra('onnx')}"
        ) from None
    staging = folder.parent / f".{key}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    result.write(staging / graph.name)
    try:
        staging.rename(folder)
    except OSError:  # another synth wrote the same key first: the same bytes
        shutil.rmtree(staging, ignore_errors=True)
    return inspect_model(graph)


def conversion_key(model_sha256: str, sample_sha256: str, tolerance: float) -> str:
    """The cache key of a conversion: everything that decides the graph's bytes and its verification."""
    from cdk_sklearn.model.onnx.settings import installed_versions

    versions = installed_versions()
    payload = {
        "schema": _CACHE_SCHEMA,
        "cdk_sklearn": __version__,
        "model": model_sha256,
        "sample": sample_sha256,
        "tolerance": repr(float(tolerance)),
        "versions": versions,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _wide_mlp(graph: ModelArtifact) -> str | None:
    """Why ``auto`` keeps scikit-learn for this verified graph's model (:data:`AUTO_MAX_MLP_WEIGHTS`)."""
    report: dict[str, Any] = (
        json.loads(graph.onnx_report.read_text()) if graph.onnx_report is not None else {}
    )
    weights = report.get("mlp_weights")
    if isinstance(weights, int) and weights > AUTO_MAX_MLP_WEIGHTS:
        return (
            f"a wide MLP ({weights:,} weights > {AUTO_MAX_MLP_WEIGHTS:,}) answers faster warm on "
            "scikit-learn than on onnxruntime's one thread; set engine='onnx' to serve it as ONNX anyway"
        )
    return None


def _report_summary(graph: ModelArtifact) -> str:
    report: dict[str, Any] = (
        json.loads(graph.onnx_report.read_text()) if graph.onnx_report is not None else {}
    )
    diffs = report.get("max_abs_difference") or {}
    shown = ", ".join(f"{k} {v:.2g}" for k, v in sorted(diffs.items())) or "no numeric output"
    edges = len(report.get("edge_cases") or [])
    return (
        f"verified {report.get('estimator', '?')} on {report.get('rows_checked', '?')} rows + {edges} edge "
        f"rows, max abs difference {shown} (tolerance {report.get('tolerance', '?')})"
    )
