"""The converters a conversion registers with skl2onnx, where they cast, and what the graph declares.

:func:`registered_converters` puts this package's converters (:mod:`.custom`, :mod:`.trees`) in place of
skl2onnx's for one conversion; :func:`settle_types` declares each output with the type its node computes;
:func:`label_rule` says, per estimator, whether labels are exact at ties.

Arithmetic follows each library, not the converter's defaults:

- graph inputs are ``double`` (numbers) or ``string`` (categories), so nothing is rounded on the way in
  and scalers, linear models and MLPs compute in float64 as scikit-learn does;
- scikit-learn's trees (and XGBoost) cast their input to float32 before comparing it with their
  thresholds. A graph comparing the float64 input directly can take the other branch near a threshold,
  so a cast is placed at the tree's boundary, after any float64 step before it, and the tree compares
  that float32 value (as double) with double thresholds: scikit-learn's own order of operations;
- LightGBM and HistGradientBoosting split in double, so they get the double input and double thresholds.

skl2onnx, onnx and onnxmltools are imported inside the functions: only a conversion pays for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from cdk_sklearn.model.onnx.custom import (
    KERNEL_SVMS,
    LINEAR_SCORES,
    Converter,
    convert_imputer,
    convert_kernel_svm,
    convert_linear_scores,
    imputer_accepts,
    kernel_svm_accepts,
    linear_scores_accepts,
    with_fallback,
)
from cdk_sklearn.model.onnx.estimators import final_estimator
from cdk_sklearn.model.onnx.trees import EXACT_TREES, TREE_ENSEMBLE_ML_OPSET, convert_averaged_trees

_SKLEARN_FLOAT32_TREES: Final = frozenset(
    {
        "DecisionTreeClassifier",
        "DecisionTreeRegressor",
        "ExtraTreeClassifier",
        "ExtraTreeRegressor",
        "RandomForestClassifier",
        "RandomForestRegressor",
        "ExtraTreesClassifier",
        "ExtraTreesRegressor",
        "GradientBoostingClassifier",
        "GradientBoostingRegressor",
    }
)
"""scikit-learn estimators that cast their input to float32 and compare it with double thresholds."""
_SKLEARN_DOUBLE_TREES: Final = frozenset({"HistGradientBoostingClassifier", "HistGradientBoostingRegressor"})
"""scikit-learn estimators that compare float64 input with float64 thresholds."""
_XGBOOST: Final = frozenset({"XGBClassifier", "XGBRegressor", "XGBRFClassifier", "XGBRFRegressor"})


def _boundary_mode(estimator: Any) -> str | None:
    """How a step's input is cast at its boundary, or ``None`` when it computes on float64 itself."""
    name = type(estimator).__name__
    if name in _SKLEARN_FLOAT32_TREES:
        return "float32-as-double"
    if name in _XGBOOST:
        return "float32"  # XGBoost's thresholds and sums are float32: it gets a float32 tensor
    return None


_CLASSIFIER_OPTIONS: Final = {"nocl": [True, False], "zipmap": [True, False, "columns"]}


@contextmanager
def registered_converters() -> Iterator[None]:
    """Register this module's converters with skl2onnx for one conversion, then restore skl2onnx's.

    scikit-learn's tree converters are wrapped to keep thresholds in double (they pass ``op_version=3``
    and the container stores ``*_as_tensor`` attributes); XGBoost and LightGBM get onnxmltools'
    converters, registered as skl2onnx documents so they also convert inside pipelines.
    """
    from skl2onnx import update_registered_converter
    from skl2onnx._supported_operators import sklearn_operator_name_map
    from skl2onnx.common import _registration

    update_registered_converter(
        Float32Boundary, "CdkSklearnFloat32Boundary", _boundary_shape, _boundary_converter
    )
    saved: dict[str, Any] = {}
    for cls, alias in sklearn_operator_name_map.items():
        replacement = _replacement(cls.__name__)
        if replacement is not None and alias not in saved:
            original = _registration._converter_pool[alias]
            saved[alias] = original
            _registration.register_converter(
                alias,
                replacement(original._fct),
                overwrite=True,
                options=original.get_allowed_options(),
            )
    _register_xgboost()
    _register_lightgbm()
    try:
        yield
    finally:
        for alias, original in saved.items():
            _registration._converter_pool[alias] = original


def _replacement(name: str) -> Callable[[Converter], Converter] | None:
    """How this package replaces skl2onnx's converter of the class ``name``, or ``None`` to keep it."""
    if name in EXACT_TREES:
        return lambda stock: convert_averaged_trees
    if name in _SKLEARN_FLOAT32_TREES | _SKLEARN_DOUBLE_TREES:
        return lambda stock: _tree_converter(stock, double=True, op_version=3)
    if name == "SimpleImputer":
        return lambda stock: with_fallback(imputer_accepts, convert_imputer, stock)
    if name in LINEAR_SCORES or name == "SGDClassifier":
        return lambda stock: with_fallback(linear_scores_accepts, convert_linear_scores, stock)
    if name in KERNEL_SVMS:
        return lambda stock: with_fallback(kernel_svm_accepts, convert_kernel_svm, stock)
    return None


def _register_xgboost() -> None:
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    try:
        import xgboost
        from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    except ImportError:  # an XGBoost model cannot load without xgboost: nothing to register
        return
    for xgb_classifier in (xgboost.XGBClassifier, xgboost.XGBRFClassifier):
        update_registered_converter(
            xgb_classifier,
            f"XGBoost{xgb_classifier.__name__}",
            calculate_linear_classifier_output_shapes,
            _tree_converter(convert_xgboost, double=False),
            options=_CLASSIFIER_OPTIONS,
        )
    for xgb_regressor in (xgboost.XGBRegressor, xgboost.XGBRFRegressor):
        update_registered_converter(
            xgb_regressor,
            f"XGBoost{xgb_regressor.__name__}",
            calculate_linear_regressor_output_shapes,
            _tree_converter(convert_xgboost, double=False),
        )


def _register_lightgbm() -> None:
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    try:
        import lightgbm
        from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    except ImportError:  # a LightGBM model cannot load without lightgbm: nothing to register
        return
    update_registered_converter(
        lightgbm.LGBMClassifier,
        "LightGbmLGBMClassifier",
        calculate_linear_classifier_output_shapes,
        _tree_converter(convert_lightgbm, double=True),
        options=_CLASSIFIER_OPTIONS,
    )
    update_registered_converter(
        lightgbm.LGBMRegressor,
        "LightGbmLGBMRegressor",
        calculate_linear_regressor_output_shapes,
        _tree_converter(convert_lightgbm, double=True),
        options={"split": None},
    )


try:  # scikit-learn is a dependency of cdk-sklearn; the class only marks where the graph casts.
    from sklearn.base import BaseEstimator, TransformerMixin
except ImportError:  # pragma: no cover - scikit-learn is always installed with cdk-sklearn
    BaseEstimator = TransformerMixin = object


class Float32Boundary(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Marks, in a copy of the user's pipeline, the float32 cast a tree applies to its own input.

    Only the converter reads it (:func:`_boundary_converter`); ``transform`` does what the tree does
    internally, so inserting it changes no prediction.

    Parameters
    ----------
    mode
        ``"float32-as-double"``: round to float32 and hand on as double (scikit-learn's trees compare
        the float32 value with double thresholds). ``"float32"``: hand on float32 (XGBoost).
    """

    def __init__(self, mode: str = "float32-as-double") -> None:
        self.mode = mode

    def fit(self, X: Any, y: Any = None) -> Float32Boundary:
        """Nothing to learn."""
        return self

    def transform(self, X: Any) -> npt.NDArray[Any]:
        """Round to float32 (and back to float64 unless ``mode == "float32"``)."""
        rounded = np.asarray(X, dtype=np.float32)
        return rounded if self.mode == "float32" else rounded.astype(np.float64)


def _boundary_shape(operator: Any) -> None:
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    shape = operator.inputs[0].type.shape
    tensor = FloatTensorType if operator.raw_operator.mode == "float32" else DoubleTensorType
    operator.outputs[0].type = tensor(shape)


def _boundary_converter(scope: Any, operator: Any, container: Any) -> None:
    from onnx import TensorProto

    source, target = operator.inputs[0].full_name, operator.outputs[0].full_name
    if operator.raw_operator.mode == "float32":
        container.add_node(
            "Cast", [source], [target], to=TensorProto.FLOAT, name=scope.get_unique_operator_name("Cast")
        )
        return
    rounded = scope.get_unique_variable_name("float32_input")
    container.add_node(
        "Cast", [source], [rounded], to=TensorProto.FLOAT, name=scope.get_unique_operator_name("Cast")
    )
    container.add_node(
        "Cast", [rounded], [target], to=TensorProto.DOUBLE, name=scope.get_unique_operator_name("Cast")
    )


class _OutputView:
    """A stand-in for a converter's output variable: another name, float type."""

    def __init__(self, full_name: str, type_: Any) -> None:
        self.full_name = full_name
        self.onnx_name = full_name
        self.type = type_


class _FloatOutputs:
    """The operator as a converter sees it, with each double output replaced by a float one.

    The ``ai.onnx.ml`` tree operators only produce float tensors, while skl2onnx declares a double
    graph's outputs as double. The tree converter writes to these float stand-ins and
    :func:`_tree_converter` casts them to the declared outputs afterwards.
    """

    def __init__(self, operator: Any, outputs: list[Any]) -> None:
        self._operator = operator
        self.outputs = outputs
        self.output_full_names = [o.full_name for o in outputs]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._operator, name)


class _DoubleTreeAttributes:
    """A converter container that keeps tree thresholds and leaf values in double.

    Converters hand float64 arrays (skl2onnx at ``op_version=3``) or Python floats (onnxmltools'
    LightGBM) to the container, which would store them as float attributes: every threshold rounded to
    float32, so a value between the two roundings takes the other branch. ``ai.onnx.ml`` 3 holds the
    same numbers exactly in the ``*_as_tensor`` attributes.
    """

    _DOUBLE: Final = ("nodes_values", "nodes_hitrates", "class_weights", "target_weights", "base_values")

    def __init__(self, container: Any) -> None:
        self._container = container

    def __getattr__(self, name: str) -> Any:
        return getattr(self._container, name)

    def add_node(self, op_type: str, inputs: Any, outputs: Any, **attrs: Any) -> Any:
        if op_type in ("TreeEnsembleClassifier", "TreeEnsembleRegressor"):
            from onnx import numpy_helper

            for key in self._DOUBLE:
                if key in attrs:
                    values = np.asarray(attrs.pop(key), dtype=np.float64).ravel()
                    attrs[f"{key}_as_tensor"] = numpy_helper.from_array(values)
            for key, value in attrs.items():
                # HistGradientBoosting's missing-value flags arrive as (numpy) booleans; ONNX wants ints.
                if isinstance(value, np.ndarray) and value.dtype == np.bool_:
                    attrs[key] = value.astype(np.int64)
                elif isinstance(value, list) and any(isinstance(v, bool | np.bool_) for v in value):
                    attrs[key] = [int(v) for v in value]
            attrs["op_version"] = 3
        return self._container.add_node(op_type, inputs, outputs, **attrs)


def _tree_converter(convert: Callable[..., None], *, double: bool, **kwargs: Any) -> Callable[..., None]:
    """Wrap a tree converter: double thresholds (``double=True``) and outputs cast to the declared type."""

    def converter(scope: Any, operator: Any, container: Any) -> None:
        from onnx import TensorProto
        from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

        views, casts = [], []
        for variable in operator.outputs:
            if isinstance(variable.type, DoubleTensorType):
                name = scope.get_unique_variable_name(f"{variable.onnx_name}_float")
                views.append(_OutputView(name, FloatTensorType(variable.type.shape)))
                casts.append((name, variable.full_name))
            else:
                views.append(variable)
        target = _DoubleTreeAttributes(container) if double else container
        convert(scope, _FloatOutputs(operator, views), target, **kwargs)
        for source, declared in casts:
            container.add_node(
                "Cast",
                [source],
                [declared],
                to=TensorProto.DOUBLE,
                name=scope.get_unique_operator_name("Cast"),
            )

    return converter


def with_boundaries(model: Any) -> Any:
    """A shallow copy of ``model`` with a :class:`Float32Boundary` in front of each tree step."""
    from sklearn.pipeline import Pipeline

    steps = getattr(model, "steps", None)
    if isinstance(model, Pipeline) and steps:
        rebuilt: list[tuple[str, Any]] = []
        for name, step in steps:
            mode = _boundary_mode(step)
            if mode is not None:
                rebuilt.append((f"{name}__float32", Float32Boundary(mode)))
            rebuilt.append((name, with_boundaries(step)))
        return Pipeline(rebuilt)
    mode = _boundary_mode(model)
    if mode is not None:
        return Pipeline([("float32", Float32Boundary(mode)), ("model", model)])
    return model


def allowed_options(estimator: Any) -> frozenset[str]:
    """The conversion options the registered converter of ``estimator`` takes (none when unknown)."""
    from skl2onnx._supported_operators import sklearn_operator_name_map
    from skl2onnx.common import _registration

    alias = sklearn_operator_name_map.get(type(estimator))
    converter = _registration._converter_pool.get(alias) if alias is not None else None
    options = converter.get_allowed_options() if converter is not None else None
    return frozenset(options or ())


def settle_types(graph: Any) -> None:
    """Declare each graph output with the type its node computes, and the opset ``TreeEnsemble`` needs.

    skl2onnx declares a classifier's outputs from the graph's first input, so a DataFrame pipeline can
    declare float probabilities that a double ``Div`` computes (or the reverse, after an ``SVMClassifier``),
    and onnxruntime refuses the graph. The computed type is the truth: it is what the verification
    compares with scikit-learn. ``TreeEnsemble`` (:mod:`.trees`) exists from ``ai.onnx.ml`` 5.
    """
    from onnx import shape_inference

    if any(node.op_type == "TreeEnsemble" and node.domain == "ai.onnx.ml" for node in graph.graph.node):
        for opset in graph.opset_import:
            if opset.domain == "ai.onnx.ml":
                opset.version = max(opset.version, TREE_ENSEMBLE_ML_OPSET)
    probe = graph.__class__()
    probe.CopyFrom(graph)
    for output in probe.graph.output:
        output.type.tensor_type.elem_type = 0
    inferred = shape_inference.infer_shapes(probe, strict_mode=False)
    computed = {value.name: value.type.tensor_type.elem_type for value in inferred.graph.value_info}
    computed.update({value.name: value.type.tensor_type.elem_type for value in inferred.graph.output})
    for output in graph.graph.output:
        found = computed.get(output.name, 0)
        if found:
            output.type.tensor_type.elem_type = found


_FLOAT64_PROBABILITIES: Final = frozenset(
    {"LogisticRegression", "LogisticRegressionCV", "MLPClassifier", "GaussianNB", "KNeighborsClassifier"}
)


def label_rule(model: Any) -> tuple[bool, str]:
    """Whether the graph's label equals scikit-learn's on every row, ties included, and the rule it follows.

    Parameters
    ----------
    model
        The converted classifier (a pipeline is judged by its last step).
    """
    final = final_estimator(model)
    name = type(final).__name__
    if name in EXACT_TREES:
        return True, (
            "exact: each tree's probabilities added in float64 in scikit-learn's order, divided by the "
            "number of trees; the first largest class (numpy's argmax), ties included"
        )
    if name in LINEAR_SCORES or (name in KERNEL_SVMS and not hasattr(final, "predict_proba")):
        return False, (
            "float64 scores; two classes: the second where the score is > 0 (>= 0 for an SVM), else the "
            "first largest score; a score within about 1e-15 of a tie can round the other way"
        )
    if name in KERNEL_SVMS:
        return False, (
            "the SVMClassifier operator votes pairwise as libsvm does, with float32 kernel sums: a row "
            "within float32 rounding of a pairwise boundary can get another class"
        )
    if name in _FLOAT64_PROBABILITIES:
        return False, (
            "float64 probabilities, the first largest class (ArgMax); probabilities within about 1e-15 "
            "of a tie can round the other way"
        )
    if name in _SKLEARN_FLOAT32_TREES | _SKLEARN_DOUBLE_TREES | _XGBOOST or name.startswith("LGBM"):
        return False, (
            "the ai.onnx.ml tree operator sums in float32: rows whose classes are within float32 "
            "rounding of a tie can get another class than scikit-learn"
        )
    return False, "labels agree on the sample and edge rows; ties are not guaranteed"
