"""The conversion proper: which graph inputs a model gets, skl2onnx with this package's converters, and
the onnxruntime session the graph is verified with.

skl2onnx and onnxruntime are imported inside the functions: only a conversion pays for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdk_sklearn.model.onnx.converters import (
    allowed_options,
    registered_converters,
    settle_types,
    with_boundaries,
)
from cdk_sklearn.model.onnx.errors import ConversionError, refusing
from cdk_sklearn.model.onnx.estimators import describe, final_estimator
from cdk_sklearn.model.onnx.loading import Sample
from cdk_sklearn.model.onnx.report import GraphInput, InputType
from cdk_sklearn.model.onnx.settings import MAX_LISTED_ROWS, TARGET_OPSET
from lambda_runtime import __version__


def graph_inputs(model: Any, sample: Sample) -> tuple[list[GraphInput], tuple[str, ...] | None]:
    """The graph's inputs for ``model`` and its column names (``None`` for a matrix model).

    A model fitted on a DataFrame gets one ``[None, 1]`` input per column, typed from the sample's
    column (``string`` for text, else ``double``); a matrix model gets one ``X`` input.

    Raises
    ------
    ConversionError
        If the sample's columns do not fit the model.
    """
    names = getattr(model, "feature_names_in_", None)
    n_features = getattr(model, "n_features_in_", None)
    if names is not None:
        names = tuple(str(n) for n in names)
        if sample.named:
            missing = [n for n in names if n not in sample.columns]
            if missing:
                raise ConversionError(f"the sample lacks the model's columns {missing[:MAX_LISTED_ROWS]}")
        elif len(sample.columns) != len(names):
            raise ConversionError(
                f"the .npy sample has {len(sample.columns)} columns; the model takes {len(names)} ({names})"
            )
        inputs = []
        for index, name in enumerate(names):
            column = sample.columns[name] if sample.named else sample.columns[str(index)]
            kind: InputType = "string" if column.dtype == object else "double"
            inputs.append(GraphInput(name, kind, (None, 1), allow_nan=True))
        return inputs, names
    if n_features is None:
        n_features = len(sample.columns)
    if len(sample.columns) != n_features:
        raise ConversionError(f"the sample has {len(sample.columns)} columns; the model takes {n_features}")
    if any(c.dtype == object for c in sample.columns.values()):
        raise ConversionError("the sample holds text but the model was fitted on a numeric matrix")
    return [GraphInput("X", "double", (None, int(n_features)), allow_nan=True)], None


def to_onnx(model: Any, inputs: Sequence[GraphInput]) -> Any:
    """Convert ``model`` with skl2onnx and this package's converters: an unverified ``ModelProto``.

    Raises
    ------
    ConversionError
        One line: no converter for a member, or any failure of the converter.
    """
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import DoubleTensorType, StringTensorType
    from skl2onnx.common.exceptions import MissingConverter, MissingShapeCalculator
    from sklearn.base import is_classifier

    initial_types = [
        (i.name, StringTensorType([None, 1]) if i.type == "string" else DoubleTensorType(list(i.shape)))
        for i in inputs
    ]
    final = final_estimator(model)
    options: dict[int, dict[str, Any]] = {}
    estimator = describe(model)
    with refusing(estimator, "could not be converted to ONNX"):
        try:
            with registered_converters():
                if is_classifier(final) and "zipmap" in allowed_options(final):
                    # Without ZipMap the probabilities are a plain (n, n_classes) tensor, not a list of maps.
                    options[id(final)] = {"zipmap": False}
                graph = convert_sklearn(
                    with_boundaries(model),
                    initial_types=initial_types,
                    target_opset=dict(TARGET_OPSET),
                    options=options,
                )
        except (MissingConverter, MissingShapeCalculator) as exc:
            unsupported = str(exc).strip().split("\n", 1)[0]
            raise ConversionError(
                f"{estimator} cannot be converted to ONNX: {unsupported} (skl2onnx has no converter for "
                "it; see onnx.ai/sklearn-onnx/supported.html). Serve it with the scikit-learn engine"
            ) from exc
    with refusing(estimator, "as ONNX has outputs whose types cannot be settled"):
        settle_types(graph)
    # Deterministic, self-describing bytes: no converter-version banner that drifts with a rebuild
    # of the same versions, and the producer named as the tool that verified the graph.
    graph.producer_name = "cdk-sklearn convert"
    graph.producer_version = __version__
    graph.doc_string = ""
    graph.graph.doc_string = ""
    # skl2onnx names the graph with a random UUID; a fixed name keeps the bytes reproducible.
    graph.graph.name = "cdk_sklearn"
    return graph


def session(graph_bytes: bytes) -> Any:
    """An onnxruntime ``InferenceSession`` on one thread (onnxruntime's exceptions propagate)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # verification is small; do not take every core of a shared machine
    options.inter_op_num_threads = 1
    return ort.InferenceSession(graph_bytes, options, providers=["CPUExecutionProvider"])
