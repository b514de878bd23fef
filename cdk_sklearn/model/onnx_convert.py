"""Convert a scikit-learn model to ONNX on the deployer's machine and prove the graph answers like it.

The ONNX engine serves a graph with onnxruntime instead of unpickling the model in Lambda. That is only
worth having if the graph gives the answers scikit-learn gives, so :func:`convert` never returns a graph
it has not checked: every row of a sample the user provides, plus edge rows built from it (an unseen
category, NaN, values ten times beyond the sample's range), goes through the original model and through
onnxruntime, and the two must agree.

Arithmetic follows each library, not the converter's defaults:

- graph inputs are ``double`` (numbers) or ``string`` (categories), so nothing is rounded on the way in
  and scalers, linear models and MLPs compute in float64 as scikit-learn does;
- scikit-learn's trees (and XGBoost) cast their input to float32 before comparing it with their
  thresholds. A graph comparing the float64 input directly can take the other branch near a threshold,
  so a cast is placed at the tree's boundary, after any float64 step before it, and the tree compares
  that float32 value (as double) with double thresholds: scikit-learn's own order of operations;
- LightGBM and HistGradientBoosting split in double, so they get the double input and double thresholds.

This module loads the model (joblib, pickle or skops): unpickling runs code, which is acceptable here,
on the machine that trained or owns the model, and never in Lambda. It needs the ``onnx`` extra
(``pip install 'cdk-sklearn[onnx]'``); everything heavy is imported inside the functions.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from cdk_sklearn.model.artifact import inspect_model, onnx_report_path
from lambda_runtime import contract

DEFAULT_TOLERANCE: Final = 1e-5
"""Largest absolute difference allowed between scikit-learn's and the graph's probabilities or
regression outputs. Tree probabilities come out of onnxruntime as float32 (the ``ai.onnx.ml`` tree
operators only produce float), which alone costs up to about 6e-8 on a value in [0, 1]."""
REPORT_SCHEMA_VERSION: Final = 1
TARGET_OPSET: Final[dict[str, int]] = {"": 17, "ai.onnx.ml": 3}
"""Pinned so the same model and converter versions give the same bytes; ``ai.onnx.ml`` 3 is the first
opset whose tree operators hold double thresholds. onnxruntime has run both since 1.13."""
UNSEEN_CATEGORY: Final = "__cdk_sklearn_unseen_category__"
EDGE_FACTOR: Final = 10.0
CONVERTER_DISTRIBUTIONS: Final[tuple[str, ...]] = (
    "scikit-learn",
    "skl2onnx",
    "onnxmltools",
    "onnx",
    "onnxruntime",
    "numpy",
    "xgboost",
    "lightgbm",
)
"""Whose versions the report records: the same model through the same versions gives the same bytes."""
_MAX_LISTED_ROWS: Final = 5
_SAMPLE_SUFFIXES: Final = (".csv", ".parquet", ".pq", ".npy", ".json", ".jsonl")

InputType = Literal["double", "string"]


class ConversionError(ValueError):
    """The model cannot be served as ONNX: no converter, a feature converters get wrong, or bad input.

    The message names the estimator and what to do instead.
    """


class VerificationError(ConversionError):
    """The converted graph does not answer like the model on the sample or an edge row.

    Attributes
    ----------
    estimator
        The model's class name.
    rows
        The first rows (0-based in the sample, or edge-case names) that disagree.
    max_difference
        The largest absolute difference seen (``inf`` when labels or outcomes differ).
    """

    def __init__(self, message: str, *, estimator: str, rows: Sequence[str], max_difference: float) -> None:
        super().__init__(message)
        self.estimator = estimator
        self.rows = tuple(rows)
        self.max_difference = max_difference


@dataclass(frozen=True)
class GraphInput:
    """One input of the graph.

    Attributes
    ----------
    name
        The graph input's name: the column's name for a model fitted on a DataFrame, ``"X"`` for a
        model fitted on a matrix.
    type
        ``"double"`` (numbers, sent as float64) or ``"string"``.
    shape
        ``[None, 1]`` for one column, ``[None, n_features]`` for the matrix.
    allow_nan
        Whether scikit-learn accepts NaN in this input. When ``False`` the runtime must reject a
        request holding NaN (a 400), because scikit-learn raises and the graph would answer anyway.
    """

    name: str
    type: InputType
    shape: tuple[int | None, int]
    allow_nan: bool

    def to_json(self) -> dict[str, Any]:
        """The report's representation."""
        return {"name": self.name, "type": self.type, "shape": list(self.shape), "allow_nan": self.allow_nan}


@dataclass(frozen=True)
class GraphOutputs:
    """Which graph output holds what.

    Attributes
    ----------
    label
        The predicted class (classifiers) or ``None``.
    probabilities
        ``predict_proba`` as an ``(n, n_classes)`` float tensor, or ``None``.
    scores
        ``decision_function`` scores for a classifier without ``predict_proba``, or ``None``.
    prediction
        The regression output, ``(n, 1)``, or ``None``.
    classes
        The class labels in the column order of ``probabilities``/``scores``.
    """

    label: str | None
    probabilities: str | None
    scores: str | None
    prediction: str | None
    classes: tuple[Any, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The report's representation."""
        return {
            "label": self.label,
            "probabilities": self.probabilities,
            "scores": self.scores,
            "prediction": self.prediction,
            "classes": [_plain(c) for c in self.classes],
        }


@dataclass(frozen=True)
class EdgeCase:
    """One edge row and what both engines did with it.

    Attributes
    ----------
    name
        ``"<kind>:<input>[<feature>]"``, e.g. ``"nan:age"`` or ``"above_range:X[3]"``.
    kind
        ``"unseen_category"``, ``"nan"``, ``"above_range"`` or ``"below_range"``.
    input
        The graph input it changes.
    value
        The value put there (``"NaN"`` for NaN).
    sklearn
        ``"ok"`` or ``"error: <exception type>"``.
    onnx
        ``"ok"`` or ``"error: <exception type>"``.
    outcome
        ``"same"`` (both answered alike, or both raised) or ``"runtime_rejects"`` (scikit-learn raises on
        NaN, the graph answers: the runtime must reject NaN in this input, see ``allow_nan``).
    max_difference
        Largest absolute difference of the numeric outputs when both answered, else ``None``.
    """

    name: str
    kind: str
    input: str
    value: Any
    sklearn: str
    onnx: str
    outcome: str
    max_difference: float | None

    def to_json(self) -> dict[str, Any]:
        """The report's representation."""
        return {
            "name": self.name,
            "kind": self.kind,
            "input": self.input,
            "value": self.value,
            "sklearn": self.sklearn,
            "onnx": self.onnx,
            "outcome": self.outcome,
            "max_difference": self.max_difference,
        }


@dataclass(frozen=True)
class ConversionResult:
    """A verified graph and its report.

    Attributes
    ----------
    onnx_bytes
        The serialized ``ModelProto``; identical for the same model and converter versions.
    estimator
        The model's class name (``Pipeline(StandardScaler, LogisticRegression)`` for a pipeline).
    inputs
        The graph's inputs, in order.
    outputs
        What each graph output holds.
    tolerance
        The absolute tolerance the outputs were checked with.
    rows_checked
        Sample rows checked (edge rows not included).
    max_differences
        Largest absolute difference per numeric output over the sample and the edge rows.
    edge_cases
        The edge rows and their outcomes.
    versions
        Installed versions of :data:`CONVERTER_DISTRIBUTIONS` (absent ones omitted).
    model_sha256
        SHA-256 of the source model file.
    feature_names
        The model's ``feature_names_in_`` (named inputs), or ``None``.
    """

    onnx_bytes: bytes
    estimator: str
    inputs: tuple[GraphInput, ...]
    outputs: GraphOutputs
    tolerance: float
    rows_checked: int
    max_differences: Mapping[str, float]
    edge_cases: tuple[EdgeCase, ...]
    versions: Mapping[str, str]
    model_sha256: str
    model_name: str
    sklearn_version: str | None
    feature_names: tuple[str, ...] | None = None
    onnx_sha256: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "onnx_sha256", hashlib.sha256(self.onnx_bytes).hexdigest())

    def report(self) -> dict[str, Any]:
        """The verification report (see the README's "The ONNX engine" for its fields)."""
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "estimator": self.estimator,
            "source_model": {
                "file": self.model_name,
                "sha256": self.model_sha256,
                "sklearn_version": self.sklearn_version,
            },
            "onnx": {"sha256": self.onnx_sha256, "size_bytes": len(self.onnx_bytes), "opset": TARGET_OPSET},
            "versions": dict(sorted(self.versions.items())),
            "tolerance": self.tolerance,
            "rows_checked": self.rows_checked,
            "max_abs_difference": {k: self.max_differences[k] for k in sorted(self.max_differences)},
            "inputs": [i.to_json() for i in self.inputs],
            "feature_names": list(self.feature_names) if self.feature_names is not None else None,
            "outputs": self.outputs.to_json(),
            "edge_cases": [e.to_json() for e in self.edge_cases],
        }

    def report_json(self) -> str:
        """The report as deterministic JSON text (sorted keys, fixed indentation, trailing newline)."""
        return json.dumps(self.report(), indent=2, sort_keys=True, allow_nan=False) + "\n"

    def write(self, output: str | os.PathLike[str]) -> tuple[Path, Path]:
        """Write the graph to ``output`` and the report next to it (:func:`report_path`).

        Returns
        -------
        tuple[Path, Path]
            The ``.onnx`` path and the report's path.
        """
        target = Path(output).expanduser()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.onnx_bytes)
        report = report_path(target)
        report.write_text(self.report_json())
        return target, report

    def summary(self) -> str:
        """A few lines for a terminal."""
        diffs = ", ".join(f"{k} {v:.2e}" for k, v in sorted(self.max_differences.items())) or "none"
        kinds: dict[str, int] = {}
        for case in self.edge_cases:
            kinds[case.outcome] = kinds.get(case.outcome, 0) + 1
        edges = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
        rejects = [i.name for i in self.inputs if not i.allow_nan]
        inputs = ", ".join(f"{i.name}:{i.type}" for i in self.inputs)
        lines = [
            f"verified {self.estimator} as ONNX on {self.rows_checked} rows and {len(self.edge_cases)} "
            "edge rows",
            f"  tolerance {self.tolerance:g}; max abs difference: {diffs}",
            f"  edge rows: {edges}",
            f"  inputs: {inputs}",
        ]
        if rejects:
            lines.append(f"  NaN must be rejected by the runtime in: {', '.join(rejects)}")
        lines.append(f"  onnx sha256 {self.onnx_sha256}")
        return "\n".join(lines)


def report_path(onnx_path: str | os.PathLike[str]) -> Path:
    """Where the report of ``onnx_path`` lives: ``<onnx_path>.report.json`` (where synth looks for it)."""
    return onnx_report_path(Path(onnx_path))


# -- loading ---------------------------------------------------------------------------------------


def load_model(path: str | os.PathLike[str], *, trusted_types: Sequence[str] | None = None) -> Any:
    """Load a model file written by joblib, pickle or skops (this runs the file's code: trust it).

    Parameters
    ----------
    path
        The model file.
    trusted_types
        For a ``.skops`` file, the types it may load beyond skops' defaults. ``None`` trusts the types
        the file names, which is no more trust than loading a joblib file gives it.
    """
    artifact = inspect_model(path)
    if artifact.format == "onnx":
        raise ConversionError(f"{artifact.path} is already an ONNX graph; convert the scikit-learn model")
    if artifact.format == "skops":
        import skops.io as sio

        trusted = (
            list(trusted_types) if trusted_types is not None else sio.get_untrusted_types(file=artifact.path)
        )
        return sio.load(artifact.path, trusted=trusted)
    import joblib

    return joblib.load(artifact.path)  # joblib also reads plain pickle files


@dataclass(frozen=True)
class Sample:
    """Rows to verify with, column by column.

    Attributes
    ----------
    columns
        Column name (or ``"0"``, ``"1"``, ... for a ``.npy`` matrix) to a 1-D array: float64 for
        numbers, object (``str``) for text.
    named
        Whether the file named its columns (CSV, Parquet, JSON) or not (``.npy``).
    """

    columns: dict[str, npt.NDArray[Any]]
    named: bool

    @property
    def n_rows(self) -> int:
        """How many rows."""
        return len(next(iter(self.columns.values()))) if self.columns else 0


def load_sample(path: str | os.PathLike[str]) -> Sample:
    """Read sample rows from CSV (with a header), Parquet, ``.npy`` (2-D) or JSON records.

    A CSV column is numeric when every non-empty cell parses as a number (empty cells become NaN);
    otherwise it is text and kept as written. JSON is a list of objects (``[{"age": 3, ...}, ...]``),
    or one object per line for ``.jsonl``; ``null`` is NaN in a numeric column.

    Raises
    ------
    ConversionError
        If the file is missing, empty, ragged or of another kind.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConversionError(f"sample file {file} does not exist")
    suffix = file.suffix.lower()
    loaders: dict[str, Callable[[Path], Sample]] = {
        ".csv": _load_csv,
        ".parquet": _load_parquet,
        ".pq": _load_parquet,
        ".npy": _load_npy,
        ".json": _load_json,
        ".jsonl": _load_json,
    }
    loader = loaders.get(suffix)
    if loader is None:
        raise ConversionError(
            f"sample file {file} has suffix {suffix!r}; expected one of {', '.join(_SAMPLE_SUFFIXES)}"
        )
    try:
        sample = loader(file)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, ConversionError):
            raise
        raise ConversionError(f"sample file {file} is not readable as {suffix[1:]}: {exc}") from exc
    if sample.n_rows == 0:
        raise ConversionError(f"sample file {file} holds no rows; give a few rows like those you will send")
    return sample


def _typed_column(values: Sequence[Any]) -> npt.NDArray[Any]:
    numbers: list[float] = []
    for value in values:
        if value is None or (isinstance(value, str) and value.strip() == ""):
            numbers.append(math.nan)
        elif isinstance(value, bool):
            return np.array([str(v) for v in values], dtype=object)
        elif isinstance(value, int | float):
            numbers.append(float(value))
        else:
            try:
                numbers.append(float(value))
            except (TypeError, ValueError):
                return np.array(["" if v is None else str(v) for v in values], dtype=object)
    return np.array(numbers, dtype=np.float64)


def _load_csv(file: Path) -> Sample:
    with file.open(newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return Sample({}, named=True)
    header, body = rows[0], [r for r in rows[1:] if r]
    if any(len(r) != len(header) for r in body):
        raise ConversionError(f"sample file {file}: every row must have the header's {len(header)} cells")
    return Sample({name: _typed_column([r[i] for r in body]) for i, name in enumerate(header)}, named=True)


def _load_json(file: Path) -> Sample:
    text = file.read_text()
    records: Any
    if file.suffix.lower() == ".jsonl":
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        records = json.loads(text)
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ConversionError(f"sample file {file} must hold JSON records: a list of objects")
    if not records:
        return Sample({}, named=True)
    names = list(records[0])
    if any(list(r) != names and set(r) != set(names) for r in records):
        raise ConversionError(f"sample file {file}: every record must have the same keys as the first")
    return Sample({n: _typed_column([r[n] for r in records]) for n in names}, named=True)


def _load_parquet(file: Path) -> Sample:
    import pyarrow.parquet as pq

    table = pq.read_table(file).to_pydict()
    return Sample({str(name): _typed_column(values) for name, values in table.items()}, named=True)


def _load_npy(file: Path) -> Sample:
    matrix = np.load(file, allow_pickle=False)
    if matrix.ndim != 2:
        raise ConversionError(f"sample file {file} holds a {matrix.ndim}-D array; expected rows x features")
    return Sample(
        {str(j): np.asarray(matrix[:, j], dtype=np.float64) for j in range(matrix.shape[1])}, named=False
    )


# -- what the converters get wrong or cannot do ----------------------------------------------------


def _children(estimator: Any) -> Iterator[Any]:
    for step in getattr(estimator, "steps", None) or ():
        yield step[1]
    for item in getattr(estimator, "transformers_", None) or ():
        yield item[1]
    for item in getattr(estimator, "transformer_list", None) or ():
        yield item[1]
    estimators = getattr(estimator, "estimators_", None)
    if isinstance(estimators, list | tuple):
        for item in estimators:
            if isinstance(item, list | tuple | np.ndarray):
                yield from item
            else:
                yield item
    for name in ("final_estimator_", "estimator_"):
        child = getattr(estimator, name, None)
        if child is not None:
            yield child
    for calibrated in getattr(estimator, "calibrated_classifiers_", None) or ():
        yield calibrated.estimator


def walk(estimator: Any) -> Iterator[Any]:
    """Yield ``estimator`` and every fitted estimator inside it (pipeline steps, transformers, members)."""
    stack, seen = [estimator], set()
    while stack:
        current = stack.pop()
        if id(current) in seen or isinstance(current, str) or current is None:
            continue
        seen.add(id(current))
        yield current
        stack.extend(reversed(list(_children(current))))


def describe(estimator: Any) -> str:
    """A short name: the class, or ``Pipeline(StepA, StepB)`` for a pipeline."""
    steps = getattr(estimator, "steps", None)
    if steps:
        return f"{type(estimator).__name__}({', '.join(describe(s[1]) for s in steps)})"
    return type(estimator).__name__


def refuse_unsafe(model: Any) -> None:
    """Raise :class:`ConversionError` for features converters are known to get silently wrong.

    HistGradientBoosting with native categorical features: its category bitsets have no faithful
    counterpart in the converters, so the graph would answer, and answer differently.
    """
    for estimator in walk(model):
        categorical = getattr(estimator, "is_categorical_", None)
        if categorical is not None and bool(np.any(categorical)):
            raise ConversionError(
                f"{type(estimator).__name__} uses native categorical features (categorical_features="
                f"{getattr(estimator, 'categorical_features', None)!r}); ONNX converters do not reproduce "
                "its "
                "categorical splits. Encode the categories before it (OrdinalEncoder or OneHotEncoder in a "
                "ColumnTransformer) and pass categorical_features=None, or serve it with the scikit-learn "
                "engine"
            )


# -- conversion ------------------------------------------------------------------------------------

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


@contextmanager
def _converters() -> Iterator[None]:
    """Register this module's converters with skl2onnx for one conversion, then restore skl2onnx's.

    scikit-learn's tree converters are wrapped to keep thresholds in double (they pass ``op_version=3``
    and the container stores ``*_as_tensor`` attributes); XGBoost and LightGBM get onnxmltools'
    converters, registered as skl2onnx documents so they also convert inside pipelines.
    """
    from skl2onnx import update_registered_converter
    from skl2onnx._supported_operators import sklearn_operator_name_map
    from skl2onnx.common import _registration
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    update_registered_converter(
        Float32Boundary, "CdkSklearnFloat32Boundary", _boundary_shape, _boundary_converter
    )
    saved: dict[str, Any] = {}
    for cls, alias in sklearn_operator_name_map.items():
        if cls.__name__ in _SKLEARN_FLOAT32_TREES | _SKLEARN_DOUBLE_TREES and alias not in saved:
            original = _registration._converter_pool[alias]
            saved[alias] = original
            _registration.register_converter(
                alias,
                _tree_converter(original._fct, double=True, op_version=3),
                overwrite=True,
                options=original.get_allowed_options(),
            )
    classifier_options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    try:
        import xgboost
        from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    except ImportError:  # an XGBoost model cannot load without xgboost: nothing to register
        pass
    else:
        for xgb_classifier in (xgboost.XGBClassifier, xgboost.XGBRFClassifier):
            update_registered_converter(
                xgb_classifier,
                f"XGBoost{xgb_classifier.__name__}",
                calculate_linear_classifier_output_shapes,
                _tree_converter(convert_xgboost, double=False),
                options=classifier_options,
            )
        for xgb_regressor in (xgboost.XGBRegressor, xgboost.XGBRFRegressor):
            update_registered_converter(
                xgb_regressor,
                f"XGBoost{xgb_regressor.__name__}",
                calculate_linear_regressor_output_shapes,
                _tree_converter(convert_xgboost, double=False),
            )
    try:
        import lightgbm
        from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    except ImportError:
        pass
    else:
        update_registered_converter(
            lightgbm.LGBMClassifier,
            "LightGbmLGBMClassifier",
            calculate_linear_classifier_output_shapes,
            _tree_converter(convert_lightgbm, double=True),
            options=classifier_options,
        )
        update_registered_converter(
            lightgbm.LGBMRegressor,
            "LightGbmLGBMRegressor",
            calculate_linear_regressor_output_shapes,
            _tree_converter(convert_lightgbm, double=True),
            options={"split": None},
        )
    try:
        yield
    finally:
        for alias, original in saved.items():
            _registration._converter_pool[alias] = original


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


def _with_boundaries(model: Any) -> Any:
    """A shallow copy of ``model`` with a :class:`Float32Boundary` in front of each tree step."""
    from sklearn.pipeline import Pipeline

    steps = getattr(model, "steps", None)
    if isinstance(model, Pipeline) and steps:
        rebuilt: list[tuple[str, Any]] = []
        for name, step in steps:
            mode = _boundary_mode(step)
            if mode is not None:
                rebuilt.append((f"{name}__float32", Float32Boundary(mode)))
            rebuilt.append((name, _with_boundaries(step)))
        return Pipeline(rebuilt)
    mode = _boundary_mode(model)
    if mode is not None:
        return Pipeline([("float32", Float32Boundary(mode)), ("model", model)])
    return model


def _final_estimator(model: Any) -> Any:
    steps = getattr(model, "steps", None)
    return _final_estimator(steps[-1][1]) if steps else model


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def _versions() -> dict[str, str]:
    found: dict[str, str] = {}
    for name in CONVERTER_DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _graph_inputs(model: Any, sample: Sample) -> tuple[list[GraphInput], tuple[str, ...] | None]:
    names = getattr(model, "feature_names_in_", None)
    n_features = getattr(model, "n_features_in_", None)
    if names is not None:
        names = tuple(str(n) for n in names)
        if sample.named:
            missing = [n for n in names if n not in sample.columns]
            if missing:
                raise ConversionError(f"the sample lacks the model's columns {missing[:_MAX_LISTED_ROWS]}")
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


def _to_onnx(model: Any, inputs: Sequence[GraphInput]) -> Any:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import DoubleTensorType, StringTensorType
    from skl2onnx.common.exceptions import MissingConverter, MissingShapeCalculator
    from sklearn.base import is_classifier

    initial_types = [
        (i.name, StringTensorType([None, 1]) if i.type == "string" else DoubleTensorType(list(i.shape)))
        for i in inputs
    ]
    final = _final_estimator(model)
    options: dict[int, dict[str, Any]] = {}
    if is_classifier(final):
        # Without ZipMap the probabilities are a plain (n, n_classes) tensor, not a list of maps.
        options[id(final)] = {"zipmap": False}
    try:
        with _converters():
            graph = convert_sklearn(
                _with_boundaries(model),
                initial_types=initial_types,
                target_opset=dict(TARGET_OPSET),
                options=options,
            )
    except (MissingConverter, MissingShapeCalculator) as exc:
        unsupported = str(exc).split("\n", 1)[0]
        raise ConversionError(
            f"{describe(model)} cannot be converted to ONNX: {unsupported} (skl2onnx has no converter for "
            "it; see onnx.ai/sklearn-onnx/supported.html). Serve it with the scikit-learn engine"
        ) from exc
    except Exception as exc:
        first = str(exc).strip().split("\n", 1)[0][:300]
        raise ConversionError(
            f"{describe(model)} could not be converted to ONNX ({type(exc).__name__}: {first}); serve it "
            "with the scikit-learn engine"
        ) from exc
    # Deterministic, self-describing bytes: no converter-version banner that drifts with a rebuild
    # of the same versions, and the producer named as the tool that verified the graph.
    from cdk_sklearn import __version__

    graph.producer_name = "cdk-sklearn convert"
    graph.producer_version = __version__
    graph.doc_string = ""
    graph.graph.doc_string = ""
    # skl2onnx names the graph with a random UUID; a fixed name keeps the bytes reproducible.
    graph.graph.name = "cdk_sklearn"
    return graph


# -- verification ----------------------------------------------------------------------------------


class _Runner:
    """Runs rows through the original model and through the graph, in the same shapes."""

    def __init__(
        self, model: Any, session: Any, inputs: Sequence[GraphInput], feature_names: tuple[str, ...] | None
    ) -> None:
        from sklearn.base import is_classifier, is_regressor

        self.model = model
        self.session = session
        self.inputs = list(inputs)
        self.feature_names = feature_names
        self.classifier = is_classifier(model)
        self.regressor = is_regressor(model)
        self.has_proba = self.classifier and hasattr(model, "predict_proba")
        self.has_scores = self.classifier and not self.has_proba and hasattr(model, "decision_function")
        names = [o.name for o in session.get_outputs()]
        if self.classifier:
            second = names[1] if len(names) > 1 else None
            self.outputs = GraphOutputs(
                label=names[0],
                probabilities=second if self.has_proba else None,
                scores=second if self.has_scores else None,
                prediction=None,
                classes=tuple(_plain(c) for c in getattr(model, "classes_", ())),
            )
        else:
            self.outputs = GraphOutputs(None, None, None, prediction=names[0])

    def sklearn_input(self, columns: Mapping[str, npt.NDArray[Any]]) -> Any:
        if self.feature_names is not None:
            import pandas as pd

            return pd.DataFrame({name: columns[name] for name in self.feature_names})
        return np.column_stack([columns[k] for k in sorted(columns, key=int)]).astype(np.float64)

    def onnx_feed(self, columns: Mapping[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
        if self.feature_names is None:
            matrix = np.column_stack([columns[k] for k in sorted(columns, key=int)]).astype(np.float64)
            return {"X": matrix}
        feed = {}
        for graph_input in self.inputs:
            column = columns[graph_input.name]
            dtype = object if graph_input.type == "string" else np.float64
            feed[graph_input.name] = np.asarray(column, dtype=dtype).reshape(-1, 1)
        return feed

    def sklearn_outputs(self, columns: Mapping[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
        frame = self.sklearn_input(columns)
        if self.regressor or not self.classifier:
            return {"prediction": np.asarray(self.model.predict(frame), dtype=np.float64).reshape(-1)}
        found = {"label": np.asarray(self.model.predict(frame))}
        if self.has_proba:
            found["probabilities"] = np.asarray(self.model.predict_proba(frame), dtype=np.float64)
        elif self.has_scores:
            found["scores"] = np.asarray(self.model.decision_function(frame), dtype=np.float64)
        return found

    def onnx_outputs(self, columns: Mapping[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
        results = self.session.run(None, self.onnx_feed(columns))
        if not self.classifier:
            return {"prediction": np.asarray(results[0], dtype=np.float64).reshape(-1)}
        found = {"label": np.asarray(results[0]).reshape(-1)}
        if self.has_proba:
            found["probabilities"] = np.asarray(results[1], dtype=np.float64)
        elif self.has_scores:
            found["scores"] = np.asarray(results[1], dtype=np.float64)
        return found


def _label_mismatches(expected: npt.NDArray[Any], got: npt.NDArray[Any]) -> list[int]:
    if expected.dtype.kind in "iufb" and got.dtype.kind in "iufb":
        equal = expected.astype(np.float64) == got.astype(np.float64)
    else:
        equal = np.array([str(a) == str(b) for a, b in zip(expected, got, strict=True)])
    return [int(i) for i in np.flatnonzero(~equal)]


def _compare(
    expected: Mapping[str, npt.NDArray[Any]], got: Mapping[str, npt.NDArray[Any]]
) -> tuple[list[int], dict[str, float], list[int]]:
    """Rows whose labels differ, max abs difference per numeric output, and rows worst first."""
    label_rows = _label_mismatches(expected["label"], got["label"]) if "label" in expected else []
    differences: dict[str, float] = {}
    per_row = np.zeros(len(next(iter(expected.values()))))
    for key in ("probabilities", "scores", "prediction"):
        if key not in expected:
            continue
        want, have = expected[key], got[key]
        if want.ndim == 1 and have.ndim == 2 and have.shape[1] == 2:
            have = have[:, 1]  # binary decision_function: scikit-learn gives the positive class only
        have = have.reshape(want.shape)
        gap = np.abs(want - have)
        both_nan = np.isnan(want) & np.isnan(have)
        gap = np.where(both_nan, 0.0, np.where(np.isnan(gap), np.inf, gap))
        row_gap = gap.reshape(len(gap), -1).max(axis=1)
        per_row = np.maximum(per_row, row_gap)
        differences[key] = float(gap.max()) if gap.size else 0.0
    return label_rows, differences, [int(i) for i in np.argsort(-per_row, kind="stable")]


def _outcome(
    call: Callable[[], dict[str, npt.NDArray[Any]]],
) -> tuple[dict[str, npt.NDArray[Any]] | None, str]:
    try:
        return call(), "ok"
    except Exception as exc:  # the outcome, not the cause, is compared: both engines raising is a match
        return None, f"error: {type(exc).__name__}"


def _edge_rows(
    runner: _Runner, columns: Mapping[str, npt.NDArray[Any]]
) -> Iterator[tuple[str, str, str, int | None, Any]]:
    """Yield ``(kind, graph input, column key, feature index or None, value)`` for each edge row.

    Numbers get NaN and values ten times beyond the largest magnitude in the sample (at least 10):
    past every threshold and scaler range the model learned from similar rows. Text gets a category
    no encoder has seen.
    """
    for graph_input in runner.inputs:
        keys: list[tuple[str, int | None]]
        if runner.feature_names is None:
            keys = [(str(j), j) for j in range(graph_input.shape[1])]
        else:
            keys = [(graph_input.name, None)]
        for key, index in keys:
            if graph_input.type == "string":
                yield "unseen_category", graph_input.name, key, index, UNSEEN_CATEGORY
                continue
            column = columns[key]
            finite = column[np.isfinite(column)]
            reach = EDGE_FACTOR * max(float(np.max(np.abs(finite))) if finite.size else 1.0, 1.0)
            yield "nan", graph_input.name, key, index, math.nan
            yield "above_range", graph_input.name, key, index, reach
            yield "below_range", graph_input.name, key, index, -reach


def _check_edges(
    runner: _Runner, columns: Mapping[str, npt.NDArray[Any]], tolerance: float, estimator: str
) -> tuple[list[EdgeCase], dict[str, bool], dict[str, float]]:
    """Run each edge row (the sample's first row with one value changed) through both engines."""
    cases: list[EdgeCase] = []
    allow_nan = {i.name: True for i in runner.inputs}
    maxima: dict[str, float] = {}
    first_row = {k: v[:1].copy() for k, v in columns.items()}
    for kind, input_name, key, index, value in _edge_rows(runner, columns):
        row = dict(first_row)
        row[key] = np.array([value], dtype=first_row[key].dtype)
        name = f"{kind}:{input_name}" + (f"[{index}]" if index is not None else "")
        want, sk_state = _outcome(lambda row=row: runner.sklearn_outputs(row))  # type: ignore[misc]
        have, onnx_state = _outcome(lambda row=row: runner.onnx_outputs(row))  # type: ignore[misc]
        difference: float | None = None
        gap_max = 0.0
        if want is not None and have is not None:
            labels, diffs, _ = _compare(want, have)
            gap_max = max(diffs.values(), default=0.0)
            difference = gap_max
            disagree = bool(labels) or difference > tolerance
            if disagree and kind == "nan":
                onnx_state = "differs"
                want = None  # handled below as a NaN the runtime must refuse
        if want is not None and have is not None:
            for output, gap in diffs.items():
                maxima[output] = max(maxima.get(output, 0.0), gap)
            if labels or gap_max > tolerance:
                raise VerificationError(
                    f"{estimator} as ONNX disagrees with scikit-learn on edge row {name} (value {value!r}): "
                    f"{'different label; ' if labels else ''}largest difference {gap_max:.3g} > "
                    f"tolerance {tolerance:g}; serve it with the scikit-learn engine",
                    estimator=estimator,
                    rows=[name],
                    max_difference=math.inf if labels else gap_max,
                )
            outcome = "same"
        elif want is None and have is None:
            outcome = "same"
        elif kind == "nan":
            # scikit-learn refuses NaN here and the graph would answer, or scikit-learn answers (trees
            # send NaN down a learned branch) and the graph cannot follow: either way the runtime must
            # refuse NaN in this input, so the graph never gives an answer scikit-learn would not.
            allow_nan[input_name] = False
            outcome = "runtime_rejects"
        else:
            raise VerificationError(
                f"{estimator} as ONNX and scikit-learn differ on edge row {name} (value {value!r}): "
                f"scikit-learn {sk_state}, ONNX {onnx_state}; serve it with the scikit-learn engine",
                estimator=estimator,
                rows=[name],
                max_difference=math.inf,
            )
        cases.append(
            EdgeCase(
                name,
                kind,
                input_name,
                "NaN" if kind == "nan" else _plain(value),
                sk_state,
                onnx_state,
                outcome,
                difference,
            )
        )
    return cases, allow_nan, maxima


_OUTPUT_METHODS: Final[dict[str, str]] = {
    "label": "predict",
    "prediction": "predict",
    "probabilities": "predict_proba",
    "scores": "decision_function",
}
"""Which scikit-learn method each kind of graph output answers."""


def _public_class_name(estimator: Any) -> str:
    # sklearn.ensemble._forest.RandomForestClassifier -> sklearn.ensemble.RandomForestClassifier:
    # the import path users know, not the private module that happens to define the class.
    parts = type(estimator).__module__.split(".")
    public = [part for part in parts if not part.startswith("_")] or parts[:1]
    return ".".join([*public, type(estimator).__qualname__])


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
        The converter's versions (:data:`CONVERTER_DISTRIBUTIONS`).
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
            methods[_OUTPUT_METHODS[kind]] = name
    described = []
    for graph_input in inputs:
        item: dict[str, Any] = {"name": graph_input.name, "allow_nan": graph_input.allow_nan}
        if feature_names is not None:
            # A named model has one graph input per column: the request's column of the same name.
            item["column"] = graph_input.name
        described.append(item)
    record: dict[str, Any] = {
        "schema": contract.ONNX_METADATA_SCHEMA,
        "estimator_class": _public_class_name(model),
        "estimator": describe(model),
        "training_sklearn_version": sklearn_version,
        "converter": {**dict(sorted(versions.items())), "target_opset": dict(TARGET_OPSET)},
        "verification": dict(verification),
        "outputs": methods,
        "inputs": described,
    }
    if outputs.classes:
        record["classes"] = [_plain(c) for c in outputs.classes]
    if feature_names is not None:
        record["feature_names"] = list(feature_names)
    return record


def _session(graph_bytes: bytes) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # verification is small; do not take every core of a shared machine
    options.inter_op_num_threads = 1
    return ort.InferenceSession(graph_bytes, options, providers=["CPUExecutionProvider"])


def convert(
    model_path: str | os.PathLike[str],
    sample_input: str | os.PathLike[str],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    trusted_types: Sequence[str] | None = None,
) -> ConversionResult:
    """Convert a model file to ONNX and verify the graph against the model.

    Parameters
    ----------
    model_path
        A joblib, pickle or skops file (loaded here: it runs the file's code).
    sample_input
        Rows like those the endpoint will receive: CSV with a header, Parquet, ``.npy`` or JSON
        records (:func:`load_sample`).
    tolerance
        Largest absolute difference allowed between scikit-learn's and the graph's probabilities,
        decision scores or regression outputs, on every row. Labels must be identical.
    trusted_types
        For a skops file, see :func:`load_model`.

    Returns
    -------
    ConversionResult
        The graph's bytes and its verification report; :meth:`ConversionResult.write` saves both.

    Raises
    ------
    ConversionError
        If the model cannot be converted faithfully (no converter, native categorical features) or the
        sample does not fit the model.
    VerificationError
        If the graph answers differently on a sample row or an edge row.
    """
    if not (isinstance(tolerance, int | float) and math.isfinite(tolerance) and tolerance >= 0):
        raise ConversionError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    artifact = inspect_model(model_path)
    model = load_model(artifact.path, trusted_types=trusted_types)
    sample = load_sample(sample_input)
    estimator = describe(model)
    refuse_unsafe(model)
    inputs, feature_names = _graph_inputs(model, sample)
    graph = _to_onnx(model, inputs)
    runner = _Runner(model, _session(graph.SerializeToString()), inputs, feature_names)
    # One key per model column from here on: the feature name, or the position for a matrix model.
    ordered = list(sample.columns.values())
    columns = (
        {str(j): column for j, column in enumerate(ordered)}
        if feature_names is None
        else sample.columns
        if sample.named
        else {n: ordered[j] for j, n in enumerate(feature_names)}
    )
    try:
        expected = runner.sklearn_outputs(columns)
    except Exception as exc:
        raise ConversionError(
            f"{estimator} cannot predict the sample ({type(exc).__name__}: {str(exc)[:200]}); give rows it "
            "accepts"
        ) from exc
    got = runner.onnx_outputs(columns)
    labels, differences, worst = _compare(expected, got)
    largest = max(differences.values(), default=0.0)
    if labels or largest > tolerance:
        rows = labels or [r for r in worst if r is not None]
        shown = ", ".join(str(r) for r in rows[:_MAX_LISTED_ROWS])
        what = f"labels differ on {len(labels)} of {sample.n_rows} rows" if labels else "outputs differ"
        raise VerificationError(
            f"{estimator} as ONNX disagrees with scikit-learn: {what} (rows {shown}); largest difference "
            f"{largest:.3g}, tolerance {tolerance:g}; serve it with the scikit-learn engine",
            estimator=estimator,
            rows=[str(r) for r in rows[:_MAX_LISTED_ROWS]],
            max_difference=math.inf if labels else largest,
        )
    cases, allow_nan, edge_maxima = _check_edges(runner, columns, tolerance, estimator)
    for output, gap in edge_maxima.items():
        differences[output] = max(differences.get(output, 0.0), gap)
    final_inputs = tuple(GraphInput(i.name, i.type, i.shape, allow_nan=allow_nan[i.name]) for i in inputs)
    versions = _versions()
    record = runtime_record(
        model,
        inputs=final_inputs,
        outputs=runner.outputs,
        feature_names=feature_names,
        sklearn_version=artifact.sklearn_version,
        versions=versions,
        verification={
            "passed": True,
            "rows": sample.n_rows,
            "edge_rows": len(cases),
            "tolerance": float(tolerance),
            "max_abs_diff": {
                _OUTPUT_METHODS[k]: differences[k] for k in sorted(differences) if k in _OUTPUT_METHODS
            },
        },
    )
    # Written after verification (the record reports it); metadata changes no computation. The
    # runtime reads it to answer like scikit-learn: classes, method outputs, where NaN is refused.
    entry = graph.metadata_props.add()
    entry.key = contract.ONNX_METADATA_KEY
    entry.value = json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return ConversionResult(
        onnx_bytes=graph.SerializeToString(),
        estimator=estimator,
        inputs=final_inputs,
        outputs=runner.outputs,
        tolerance=float(tolerance),
        rows_checked=sample.n_rows,
        max_differences=differences,
        edge_cases=tuple(cases),
        versions=versions,
        model_sha256=artifact.sha256,
        model_name=artifact.path.name,
        sklearn_version=artifact.sklearn_version,
        feature_names=feature_names,
    )
