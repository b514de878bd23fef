"""Converters written here where skl2onnx's would round to float32 or has no double kernel in onnxruntime.

- :func:`convert_imputer`: ``SimpleImputer`` on numbers as ``IsNaN`` (or ``Equal``) + ``Where`` in the
  input's type. onnxruntime has no double ``Imputer`` kernel, and a float one would round every value.
- :func:`convert_linear_scores`: linear classifiers without ``predict_proba`` (``RidgeClassifier``,
  ``LinearSVC``, ``Perceptron``, a hinge ``SGDClassifier``) as ``MatMul`` + ``Add`` in double, the label
  as scikit-learn picks it (score > 0 for two classes, the first largest score otherwise).
  ``LinearClassifier`` only produces float.
- :func:`convert_kernel_svm`: ``SVR``/``NuSVR`` and a two-class ``SVC``/``NuSVC`` without probabilities,
  the kernel written out in double (onnxruntime has no double ``SVMRegressor``).

Each returns ``False`` from its ``accepts`` check for a case it does not cover, and the stock converter
runs instead. skl2onnx and onnx are imported inside the functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

import numpy as np

LINEAR_SCORES: Final = frozenset(
    {"RidgeClassifier", "RidgeClassifierCV", "LinearSVC", "Perceptron", "PassiveAggressiveClassifier"}
)
"""Linear classifiers whose only scores are ``decision_function`` (plus a hinge ``SGDClassifier``)."""
KERNEL_SVMS: Final = frozenset({"SVR", "NuSVR", "SVC", "NuSVC"})

Converter = Callable[[Any, Any, Any], None]


def _is_double(variable: Any) -> bool:
    from skl2onnx.common.data_types import DoubleTensorType

    return isinstance(variable.type, DoubleTensorType)


def _names(scope: Any) -> tuple[Callable[[str], str], Callable[[str], str]]:
    return scope.get_unique_variable_name, scope.get_unique_operator_name


def _single_input(scope: Any, operator: Any, container: Any) -> str:
    """The operator's inputs as one ``[N, F]`` tensor (skl2onnx may hand several columns)."""
    names = [variable.full_name for variable in operator.inputs]
    if len(names) == 1:
        return str(names[0])
    name, op = _names(scope)
    merged = name("merged_input")
    container.add_node("Concat", names, [merged], axis=1, name=op("Concat"))
    return merged


def _constant(scope: Any, container: Any, label: str, values: Any, onnx_type: int | None = None) -> str:
    from onnx import TensorProto

    array = np.asarray(values)
    name = scope.get_unique_variable_name(label)
    kind = onnx_type if onnx_type is not None else TensorProto.DOUBLE
    cast: Any = int if kind == TensorProto.INT64 else float
    container.add_initializer(name, kind, list(array.shape), [cast(v) for v in array.ravel()])
    return str(name)


def imputer_accepts(operator: Any) -> bool:
    """Numbers in double, every column kept, no indicator: the cases :func:`convert_imputer` covers."""
    model = operator.raw_operator
    statistics = np.asarray(getattr(model, "statistics_", []), dtype=object)
    try:
        numeric = np.asarray(statistics, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return (
        all(_is_double(v) for v in operator.inputs)
        and not getattr(model, "add_indicator", False)
        and not bool(np.any(np.isnan(numeric)))  # a dropped all-missing column: the stock converter
    )


def convert_imputer(scope: Any, operator: Any, container: Any) -> None:
    """``SimpleImputer``: each missing value replaced by its column's statistic, in double."""
    from onnx import TensorProto

    model = operator.raw_operator
    name, op = _names(scope)
    source = _single_input(scope, operator, container)
    fill = _constant(scope, container, "statistics", np.asarray(model.statistics_, dtype=np.float64))
    missing = name("is_missing")
    marker = model.missing_values
    if (isinstance(marker, float) and math.isnan(marker)) or marker is None:
        container.add_node("IsNaN", [source], [missing], name=op("IsNaN"))
    else:
        value = _constant(scope, container, "missing_value", [float(marker)], TensorProto.DOUBLE)
        container.add_node("Equal", [source, value], [missing], name=op("Equal"))
    container.add_node("Where", [missing, fill, source], [operator.outputs[0].full_name], name=op("Where"))


def linear_scores_accepts(operator: Any) -> bool:
    """A double input and no ``predict_proba`` (a log-loss ``SGDClassifier`` keeps the stock converter)."""
    model = operator.raw_operator
    return _is_double(operator.inputs[0]) and not hasattr(model, "predict_proba")


def convert_linear_scores(scope: Any, operator: Any, container: Any) -> None:
    """``decision_function`` = X @ coef.T + intercept in double; the label as scikit-learn's ``predict``."""
    model = operator.raw_operator
    name, op = _names(scope)
    source = _single_input(scope, operator, container)
    coef = _constant(scope, container, "coef", np.atleast_2d(np.asarray(model.coef_, dtype=np.float64)).T)
    intercept = _constant(
        scope, container, "intercept", np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64))
    )
    product, scores = name("product"), name("scores")
    container.add_node("MatMul", [source, coef], [product], name=op("MatMul"))
    container.add_node("Add", [product, intercept], [scores], name=op("Add"))
    _scores_and_label(scope, container, operator, scores, binary_rule="Greater")


def _scores_and_label(scope: Any, container: Any, operator: Any, scores: str, *, binary_rule: str) -> None:
    """Write the label and scores outputs from ``scores`` (``[N, 1]`` for two classes, else ``[N, C]``).

    Two classes: scores out as ``[N, 2]`` = (-s, s), the label is ``classes[1]`` where ``s > 0``
    (``Greater``, linear models) or ``s >= 0`` (``GreaterOrEqual``, libsvm's vote). More classes: the
    label is the first largest score, as numpy's ``argmax``.
    """
    from onnx import TensorProto

    name, op = _names(scope)
    classes = operator.raw_operator.classes_
    label_out, scores_out = operator.outputs[0].full_name, operator.outputs[1].full_name
    position = name("label_position")
    if len(classes) == 2:
        negated, zero, above = name("negated"), _constant(scope, container, "zero", [0.0]), name("positive")
        container.add_node("Neg", [scores], [negated], name=op("Neg"))
        container.add_node("Concat", [negated, scores], [scores_out], axis=1, name=op("Concat"))
        flat, shape = name("flat_scores"), _constant(scope, container, "shape", [-1], TensorProto.INT64)
        container.add_node("Reshape", [scores, shape], [flat], name=op("Reshape"))
        container.add_node(binary_rule, [flat, zero], [above], name=op(binary_rule))
        container.add_node("Cast", [above], [position], to=TensorProto.INT64, name=op("Cast"))
    else:
        container.add_node("Identity", [scores], [scores_out], name=op("Identity"))
        container.add_node("ArgMax", [scores], [position], axis=1, keepdims=0, name=op("ArgMax"))
    _gather_class(scope, container, operator, position, label_out)


def _gather_class(scope: Any, container: Any, operator: Any, position: str, label: str) -> None:
    from onnx import TensorProto
    from skl2onnx.common.data_types import StringTensorType

    classes = operator.raw_operator.classes_
    if isinstance(operator.outputs[0].type, StringTensorType):
        table = scope.get_unique_variable_name("classes")
        container.add_initializer(
            table, TensorProto.STRING, [len(classes)], [str(c).encode() for c in classes]
        )
    else:
        table = _constant(scope, container, "classes", [int(c) for c in classes], TensorProto.INT64)
    container.add_node(
        "Gather", [table, position], [label], axis=0, name=scope.get_unique_operator_name("Gather")
    )


def kernel_svm_accepts(operator: Any) -> bool:
    """A double input, a kernel given by name, and for a classifier two classes and no probabilities."""
    model = operator.raw_operator
    if not _is_double(operator.inputs[0]) or model.kernel not in ("linear", "poly", "rbf", "sigmoid"):
        return False
    if hasattr(model, "classes_"):
        return len(model.classes_) == 2 and not hasattr(model, "predict_proba")
    return True


def _kernel(scope: Any, container: Any, model: Any, source: str) -> str:
    """``K(x, support vectors)``, ``[N, S]``, as libsvm computes it (squared distance from differences)."""
    name, op = _names(scope)
    support = np.asarray(model.support_vectors_, dtype=np.float64)
    if model.kernel == "rbf":
        axis = _constant(scope, container, "axis", [1], onnx_type=7)  # INT64
        wide, gaps, squares, distance = name("x_wide"), name("gaps"), name("squares"), name("distance")
        container.add_node("Unsqueeze", [source, axis], [wide], name=op("Unsqueeze"))
        vectors = _constant(scope, container, "support_vectors", support)
        container.add_node("Sub", [wide, vectors], [gaps], name=op("Sub"))
        container.add_node("Mul", [gaps, gaps], [squares], name=op("Mul"))
        last = _constant(scope, container, "last_axis", [2], onnx_type=7)
        container.add_node("ReduceSum", [squares, last], [distance], keepdims=0, name=op("ReduceSum"))
        scaled, negative, kernel = name("scaled"), name("negative"), name("kernel")
        gamma = _constant(scope, container, "gamma", [float(model._gamma)])
        container.add_node("Mul", [distance, gamma], [scaled], name=op("Mul"))
        container.add_node("Neg", [scaled], [negative], name=op("Neg"))
        container.add_node("Exp", [negative], [kernel], name=op("Exp"))
        return kernel
    dot = name("dot")
    container.add_node(
        "MatMul", [source, _constant(scope, container, "support_t", support.T)], [dot], name=op("MatMul")
    )
    if model.kernel == "linear":
        return dot
    scaled, shifted, kernel = name("scaled"), name("shifted"), name("kernel")
    gamma = _constant(scope, container, "gamma", [float(model._gamma)])
    coef0 = _constant(scope, container, "coef0", [float(model.coef0)])
    container.add_node("Mul", [dot, gamma], [scaled], name=op("Mul"))
    container.add_node("Add", [scaled, coef0], [shifted], name=op("Add"))
    if model.kernel == "poly":
        degree = _constant(scope, container, "degree", [float(model.degree)])
        container.add_node("Pow", [shifted, degree], [kernel], name=op("Pow"))
    else:
        container.add_node("Tanh", [shifted], [kernel], name=op("Tanh"))
    return kernel


def convert_kernel_svm(scope: Any, operator: Any, container: Any) -> None:
    """dual_coef @ K(x, SV).T + intercept in double: the regression, or a two-class SVC's score."""
    model = operator.raw_operator
    name, op = _names(scope)
    source = _single_input(scope, operator, container)
    kernel = _kernel(scope, container, model, source)
    weights = _constant(scope, container, "dual_coef", np.asarray(model.dual_coef_, dtype=np.float64).T)
    intercept = _constant(scope, container, "intercept", np.asarray(model.intercept_, dtype=np.float64))
    product = name("weighted")
    container.add_node("MatMul", [kernel, weights], [product], name=op("MatMul"))
    if not hasattr(model, "classes_"):
        container.add_node("Add", [product, intercept], [operator.outputs[0].full_name], name=op("Add"))
        return
    scores = name("scores")
    container.add_node("Add", [product, intercept], [scores], name=op("Add"))
    # libsvm votes for the second class unless its own (negated) decision value is > 0.
    _scores_and_label(scope, container, operator, scores, binary_rule="GreaterOrEqual")


def with_fallback(accepts: Callable[[Any], bool], converter: Converter, stock: Converter) -> Converter:
    """A converter that runs ``converter`` when ``accepts(operator)``, else skl2onnx's ``stock`` one."""

    def convert(scope: Any, operator: Any, container: Any) -> None:
        (converter if accepts(operator) else stock)(scope, operator, container)

    return convert
