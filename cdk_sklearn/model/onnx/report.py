"""What a verified conversion produced: the graph's inputs and outputs, the edge rows, and the report file.

The report (``<graph>.onnx.report.json``) is written next to the graph; synth reads it back to check the
graph it deploys is the one that was verified.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from cdk_sklearn.model.artifact import onnx_report_path
from cdk_sklearn.model.onnx.estimators import plain
from cdk_sklearn.model.onnx.settings import REPORT_SCHEMA_VERSION, TARGET_OPSET

InputType = Literal["double", "string"]


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
            "classes": [plain(c) for c in self.classes],
        }


@dataclass(frozen=True)
class Tolerance:
    """How far the graph's numbers may be from scikit-learn's.

    Attributes
    ----------
    absolute
        Probabilities and decision scores: the largest absolute difference allowed.
    rtol
        Regression outputs: the allowed difference relative to the output's scale.
    scale
        The output's scale: the largest ``|prediction|`` scikit-learn gives on the sample (``None``
        for a classifier, or before the sample is seen).
    """

    absolute: float
    rtol: float
    scale: float | None = None

    @property
    def prediction(self) -> float:
        """The absolute floor for regression outputs: ``max(absolute, rtol * scale)``."""
        return max(self.absolute, self.rtol * (self.scale or 0.0))

    def bound(self, key: str, expected: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The allowed difference on each value of output ``key`` whose expected values are ``expected``."""
        if key != "prediction":
            return np.full(expected.shape, self.absolute)
        return np.maximum(self.prediction, self.rtol * np.abs(np.nan_to_num(expected)))

    def describe(self) -> str:
        """``"tolerance 1e-05"``, with the regression bound when there is one."""
        text = f"tolerance {self.absolute:g}"
        if self.scale is not None:
            text += f" (predictions {self.prediction:.3g}: rtol {self.rtol:g} x scale {self.scale:.4g})"
        return text

    def to_json(self) -> dict[str, Any]:
        """The report's and the metadata record's representation."""
        found: dict[str, Any] = {"probabilities": self.absolute, "scores": self.absolute}
        if self.scale is not None:
            found["prediction"] = {"rtol": self.rtol, "scale": self.scale, "atol": self.prediction}
        return found


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
        The tolerances the outputs were checked with (absolute for probabilities and scores, relative
        to the output's scale for regression).
    rows_checked
        Sample rows checked (edge rows not included).
    max_differences
        Largest absolute difference per numeric output over the sample and the edge rows.
    edge_cases
        The edge rows and their outcomes.
    versions
        Installed versions of :data:`~cdk_sklearn.model.onnx.settings.CONVERTER_DISTRIBUTIONS` (absent ones
        omitted).
    model_sha256
        SHA-256 of the source model file.
    model_name
        The source model file's name.
    sklearn_version
        The scikit-learn version the model was saved with, when the file says.
    feature_names
        The model's ``feature_names_in_`` (named inputs), or ``None``.
    labels
        For a classifier: whether its labels equal scikit-learn's on every row, ties included, and the
        rule they follow (:func:`~cdk_sklearn.model.onnx.converters.label_rule`); ``None`` otherwise.
    mlp_weights
        The weights of the model's multi-layer perceptron, or ``None`` (``engine="auto"``'s wide-MLP rule).
    runtime_cost
        What the graph costs onnxruntime, measured once here (``session_create_ms``,
        ``session_peak_rss_mb``), or ``None`` when not measured.
    """

    onnx_bytes: bytes
    estimator: str
    inputs: tuple[GraphInput, ...]
    outputs: GraphOutputs
    tolerance: Tolerance
    rows_checked: int
    max_differences: Mapping[str, float]
    edge_cases: tuple[EdgeCase, ...]
    versions: Mapping[str, str]
    model_sha256: str
    model_name: str
    sklearn_version: str | None
    feature_names: tuple[str, ...] | None = None
    runtime_cost: Mapping[str, float] | None = None
    labels: tuple[bool, str] | None = None
    mlp_weights: int | None = None
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
            "tolerance": self.tolerance.absolute,
            "tolerances": self.tolerance.to_json(),
            "rows_checked": self.rows_checked,
            "max_abs_difference": {k: self.max_differences[k] for k in sorted(self.max_differences)},
            "inputs": [i.to_json() for i in self.inputs],
            "feature_names": list(self.feature_names) if self.feature_names is not None else None,
            "outputs": self.outputs.to_json(),
            "edge_cases": [e.to_json() for e in self.edge_cases],
            "mlp_weights": self.mlp_weights,
            "labels": {"exact": self.labels[0], "rule": self.labels[1]} if self.labels is not None else None,
            # What the memory estimate reads: top-level, by these exact names (None: not measured).
            "session_create_ms": (self.runtime_cost or {}).get("session_create_ms"),
            "session_peak_rss_mb": (self.runtime_cost or {}).get("session_peak_rss_mb"),
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
            f"  {self.tolerance.describe()}; max abs difference: {diffs}",
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
