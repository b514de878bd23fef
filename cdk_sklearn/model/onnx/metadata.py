"""The record written into the graph's metadata: what the runtime needs to answer like scikit-learn."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from cdk_sklearn.model.onnx.estimators import describe, plain, public_class_name
from cdk_sklearn.model.onnx.report import GraphInput, GraphOutputs
from cdk_sklearn.model.onnx.settings import TARGET_OPSET
from lambda_runtime import contract

OUTPUT_METHODS: Final[dict[str, str]] = {
    "label": "predict",
    "prediction": "predict",
    "probabilities": "predict_proba",
    "scores": "decision_function",
}
"""Which scikit-learn method each kind of graph output answers."""


def runtime_record(
    model: Any,
    *,
    inputs: Sequence[GraphInput],
    outputs: GraphOutputs,
    feature_names: tuple[str, ...] | None,
    sklearn_version: str | None,
    versions: Mapping[str, str],
    verification: Mapping[str, Any],
) -> dict[str, Any]:
    """The JSON object the runtime reads from the graph's ``metadata_props`` (``contract.ONNX_METADATA_KEY``).

    Parameters
    ----------
    model
        The converted estimator.
    inputs, outputs, feature_names
        The graph's inputs (with ``allow_nan``), what each output holds, and the model's column names.
    sklearn_version
        The scikit-learn version the model was saved with.
    versions
        The converter's versions (:func:`~cdk_sklearn.model.onnx.settings.installed_versions`).
    verification
        The synth-time comparison: ``passed``, ``rows``, ``edge_rows``, ``tolerance``, ``max_abs_diff``
        per method.

    Returns
    -------
    dict
        The record, schema documented at ``lambda_runtime.contract.ONNX_METADATA_KEY``.
    """
    methods: dict[str, str] = {}
    for kind in ("label", "prediction", "probabilities", "scores"):
        name = getattr(outputs, kind)
        if name is not None:
            methods[OUTPUT_METHODS[kind]] = name
    described = []
    for graph_input in inputs:
        item: dict[str, Any] = {"name": graph_input.name, "allow_nan": graph_input.allow_nan}
        if feature_names is not None:
            # A named model has one graph input per column: the request's column of the same name.
            item["column"] = graph_input.name
        described.append(item)
    record: dict[str, Any] = {
        "schema": contract.ONNX_METADATA_SCHEMA,
        "estimator_class": public_class_name(model),
        "estimator": describe(model),
        "training_sklearn_version": sklearn_version,
        "converter": {**dict(sorted(versions.items())), "target_opset": dict(TARGET_OPSET)},
        "verification": dict(verification),
        "outputs": methods,
        "inputs": described,
    }
    if outputs.classes:
        record["classes"] = [plain(c) for c in outputs.classes]
    if feature_names is not None:
        record["feature_names"] = list(feature_names)
    return record


def embed_record(graph: Any, record: Mapping[str, Any]) -> None:
    """Store ``record`` in ``graph``'s ``metadata_props`` under ``contract.ONNX_METADATA_KEY``.

    Written after verification (the record reports it); metadata changes no computation. The runtime
    reads it to answer like scikit-learn: classes, method outputs, where NaN is refused.
    """
    entry = graph.metadata_props.add()
    entry.key = contract.ONNX_METADATA_KEY
    entry.value = json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False)
