"""The top-level conversion: load, convert, open a session, verify, record, and hand back the result.

Every stage that runs skl2onnx or onnxruntime refuses with a one-line :class:`ConversionError` when
they fail (:func:`~cdk_sklearn.model.onnx.errors.refusing`), so ``engine="auto"`` can always fall back.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy.typing as npt

from cdk_sklearn.model.artifact import ModelArtifact, inspect_model
from cdk_sklearn.model.onnx.conversion import graph_inputs, session, to_onnx
from cdk_sklearn.model.onnx.converters import label_rule
from cdk_sklearn.model.onnx.cost import measure_runtime_cost
from cdk_sklearn.model.onnx.errors import ConversionError, refusing
from cdk_sklearn.model.onnx.estimators import describe, mlp_weights, refuse_unsafe
from cdk_sklearn.model.onnx.loading import Sample, load_model, load_sample
from cdk_sklearn.model.onnx.metadata import OUTPUT_METHODS, embed_record, runtime_record
from cdk_sklearn.model.onnx.report import ConversionResult, GraphInput, Tolerance
from cdk_sklearn.model.onnx.settings import DEFAULT_RTOL, DEFAULT_TOLERANCE, installed_versions
from cdk_sklearn.model.onnx.verify import Runner, check_edges, verify_sample


def convert(
    model_path: str | os.PathLike[str],
    sample_input: str | os.PathLike[str],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    trusted_types: Sequence[str] | None = None,
    rtol: float = DEFAULT_RTOL,
    measure_cost: bool = True,
) -> ConversionResult:
    """Convert a model file to ONNX and verify the graph against the model.

    Parameters
    ----------
    model_path
        A joblib, pickle or skops file (loaded here: it runs the file's code).
    sample_input
        Rows like those the endpoint will receive: CSV with a header, Parquet, ``.npy`` or JSON
        records (:func:`~cdk_sklearn.model.onnx.loading.load_sample`).
    tolerance
        Largest absolute difference allowed between scikit-learn's and the graph's probabilities or
        decision scores, on every row; the floor for regression outputs. Labels must be identical.
    trusted_types
        For a skops file, see :func:`~cdk_sklearn.model.onnx.loading.load_model`.
    rtol
        Regression outputs may differ by ``rtol`` times the output's scale (the largest ``|prediction|``
        scikit-learn gives on the sample, or on the row when larger), and at least by ``tolerance``.
    measure_cost
        Measure the graph's session creation time and peak memory in child processes
        (:mod:`~cdk_sklearn.model.onnx.cost`) and write them to the report.

    Returns
    -------
    ConversionResult
        The graph's bytes and its verification report; :meth:`ConversionResult.write` saves both.

    Raises
    ------
    ConversionError
        One line: the model cannot be converted faithfully (no converter, native categorical features,
        a converter or onnxruntime failure at conversion, session creation or on the rows) or the
        sample does not fit the model.
    VerificationError
        If the graph answers differently on a sample row or an edge row.
    """
    for label, value in (("tolerance", tolerance), ("rtol", rtol)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise ConversionError(f"{label} must be a finite number >= 0, got {value!r}")
    artifact = inspect_model(model_path)
    with refusing(artifact.path.name, "could not be loaded to convert it"):
        model = load_model(artifact.path, trusted_types=trusted_types)
    result = _convert_loaded(
        model, artifact, load_sample(sample_input), Tolerance(float(tolerance), float(rtol))
    )
    if measure_cost:
        result = replace(result, runtime_cost=measure_runtime_cost(result.onnx_bytes))
    return result


def _convert_loaded(
    model: Any, artifact: ModelArtifact, sample: Sample, tolerance: Tolerance
) -> ConversionResult:
    estimator = describe(model)
    refuse_unsafe(model)
    inputs, feature_names = graph_inputs(model, sample)
    graph = to_onnx(model, inputs)
    with refusing(estimator, "as ONNX cannot be loaded by onnxruntime"):
        runner = Runner(model, session(graph.SerializeToString()), inputs, feature_names)
    columns = _model_columns(sample, feature_names)
    differences, tolerance = verify_sample(runner, columns, sample.n_rows, tolerance, estimator)
    cases, allow_nan, edge_maxima = check_edges(runner, columns, tolerance, estimator)
    for output, gap in edge_maxima.items():
        differences[output] = max(differences.get(output, 0.0), gap)
    final_inputs = tuple(GraphInput(i.name, i.type, i.shape, allow_nan=allow_nan[i.name]) for i in inputs)
    versions = installed_versions()
    verification = {
        "passed": True,
        "rows": sample.n_rows,
        "edge_rows": len(cases),
        "tolerance": tolerance.absolute,
        "tolerances": tolerance.to_json(),
        "max_abs_diff": {
            OUTPUT_METHODS[k]: differences[k] for k in sorted(differences) if k in OUTPUT_METHODS
        },
    }
    record = runtime_record(
        model,
        inputs=final_inputs,
        outputs=runner.outputs,
        feature_names=feature_names,
        sklearn_version=artifact.sklearn_version,
        versions=versions,
        verification=verification,
    )
    embed_record(graph, record)
    return ConversionResult(
        onnx_bytes=graph.SerializeToString(),
        estimator=estimator,
        inputs=final_inputs,
        outputs=runner.outputs,
        tolerance=tolerance,
        rows_checked=sample.n_rows,
        max_differences=differences,
        edge_cases=tuple(cases),
        versions=versions,
        model_sha256=artifact.sha256,
        model_name=artifact.path.name,
        sklearn_version=artifact.sklearn_version,
        feature_names=feature_names,
        labels=label_rule(model) if runner.classifier else None,
        mlp_weights=mlp_weights(model),
    )


def _model_columns(sample: Sample, feature_names: tuple[str, ...] | None) -> Mapping[str, npt.NDArray[Any]]:
    """One key per model column: the feature name, or the position for a matrix model."""
    ordered = list(sample.columns.values())
    if feature_names is None:
        return {str(j): column for j, column in enumerate(ordered)}
    if sample.named:
        return sample.columns
    return {n: ordered[j] for j, n in enumerate(feature_names)}
