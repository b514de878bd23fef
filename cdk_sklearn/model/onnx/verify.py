"""The verification: the sample rows and edge rows through scikit-learn and through onnxruntime.

Edge rows are built from the sample's first row (an unseen category, NaN, values ten times beyond the
sample's range). Labels must be identical; probabilities, decision scores and regression outputs must
agree within the tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from cdk_sklearn.model.onnx.errors import ConversionError, VerificationError, one_line, refusing
from cdk_sklearn.model.onnx.estimators import plain
from cdk_sklearn.model.onnx.report import EdgeCase, GraphInput, GraphOutputs, Tolerance
from cdk_sklearn.model.onnx.settings import EDGE_FACTOR, MAX_LISTED_ROWS, UNSEEN_CATEGORY


class Runner:
    """Runs rows through the original model and through the graph, in the same shapes.

    Parameters
    ----------
    model
        The loaded estimator.
    session
        The onnxruntime session of its graph.
    inputs
        The graph's inputs.
    feature_names
        The model's column names, or ``None`` for a matrix model (columns keyed ``"0"``, ``"1"``, ...).
    """

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
                classes=tuple(plain(c) for c in getattr(model, "classes_", ())),
            )
        else:
            self.outputs = GraphOutputs(None, None, None, prediction=names[0])

    def sklearn_input(self, columns: Mapping[str, npt.NDArray[Any]]) -> Any:
        """The rows as scikit-learn takes them: a DataFrame for a named model, else a float64 matrix."""
        if self.feature_names is not None:
            import pandas as pd

            return pd.DataFrame({name: columns[name] for name in self.feature_names})
        return np.column_stack([columns[k] for k in sorted(columns, key=int)]).astype(np.float64)

    def onnx_feed(self, columns: Mapping[str, npt.NDArray[Any]]) -> dict[str, npt.NDArray[Any]]:
        """The rows as the graph takes them: one array per graph input."""
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
        """scikit-learn's answers, keyed like :class:`GraphOutputs`' fields."""
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
        """The graph's answers, keyed like :meth:`sklearn_outputs`."""
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


def compare(
    expected: Mapping[str, npt.NDArray[Any]], got: Mapping[str, npt.NDArray[Any]], tolerance: Tolerance
) -> tuple[list[int], dict[str, float], list[int]]:
    """Rows whose labels differ, max abs difference per numeric output, and rows beyond the tolerance.

    Parameters
    ----------
    expected, got
        scikit-learn's and the graph's outputs (:meth:`Runner.sklearn_outputs`, :meth:`Runner.onnx_outputs`).
    tolerance
        What each output may differ by (:meth:`Tolerance.bound`).

    Returns
    -------
    tuple
        Rows whose labels differ; the largest absolute difference per output; the rows where an output
        differs beyond its tolerance, worst (largest share of its bound) first.
    """
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
        bound = tolerance.bound(key, want)
        share = gap / np.where(bound > 0, bound, np.finfo(np.float64).tiny)  # > 1: beyond the bound
        per_row = np.maximum(per_row, share.reshape(len(gap), -1).max(axis=1))
        differences[key] = float(gap.max()) if gap.size else 0.0
    beyond = np.flatnonzero(per_row > 1.0)
    return label_rows, differences, [int(i) for i in beyond[np.argsort(-per_row[beyond], kind="stable")]]


def _outcome(
    call: Callable[[], dict[str, npt.NDArray[Any]]],
) -> tuple[dict[str, npt.NDArray[Any]] | None, str]:
    try:
        return call(), "ok"
    except MemoryError:
        raise
    except Exception as exc:  # the outcome, not the cause, is compared: both engines raising is a match
        return None, f"error: {type(exc).__name__}"


def _edge_rows(
    runner: Runner, columns: Mapping[str, npt.NDArray[Any]]
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


def check_edges(
    runner: Runner, columns: Mapping[str, npt.NDArray[Any]], tolerance: Tolerance, estimator: str
) -> tuple[list[EdgeCase], dict[str, bool], dict[str, float]]:
    """Run each edge row (the sample's first row with one value changed) through both engines.

    Returns
    -------
    tuple
        The edge cases, whether each graph input may take NaN, and the largest difference per output.

    Raises
    ------
    VerificationError
        If the graph answers differently, or fails where scikit-learn answers.
    """
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
            labels, diffs, beyond = compare(want, have, tolerance)
            gap_max = max(diffs.values(), default=0.0)
            difference = gap_max
            disagree = bool(labels) or bool(beyond)
            if disagree and kind == "nan":
                onnx_state = "differs"
                want = None  # handled below as a NaN the runtime must refuse
        if want is not None and have is not None:
            for output, gap in diffs.items():
                maxima[output] = max(maxima.get(output, 0.0), gap)
            if labels or beyond:
                raise VerificationError(
                    f"{estimator} as ONNX disagrees with scikit-learn on edge row {name} (value {value!r}): "
                    f"{'different label; ' if labels else ''}largest difference {gap_max:.3g} beyond "
                    f"{tolerance.describe()}; serve it with the scikit-learn engine",
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
                "NaN" if kind == "nan" else plain(value),
                sk_state,
                onnx_state,
                outcome,
                difference,
            )
        )
    return cases, allow_nan, maxima


def verify_sample(
    runner: Runner, columns: Mapping[str, npt.NDArray[Any]], n_rows: int, tolerance: Tolerance, estimator: str
) -> tuple[dict[str, float], Tolerance]:
    """Run the sample through both engines; the largest difference per numeric output, and the tolerance.

    The tolerance's regression scale is set here, from scikit-learn's predictions on the sample, and
    returned for the edge rows.

    Raises
    ------
    ConversionError
        If scikit-learn cannot predict the sample, or onnxruntime fails on it (one line).
    VerificationError
        If a label differs or an output differs beyond ``tolerance``.
    """
    try:
        expected = runner.sklearn_outputs(columns)
    except MemoryError:
        raise
    except Exception as exc:
        raise ConversionError(
            f"{estimator} cannot predict the sample ({one_line(exc)}); give rows it accepts"
        ) from exc
    if "prediction" in expected:
        finite = np.abs(expected["prediction"][np.isfinite(expected["prediction"])])
        tolerance = replace(tolerance, scale=float(finite.max()) if finite.size else 0.0)
    with refusing(estimator, "as ONNX fails in onnxruntime on the sample rows"):
        got = runner.onnx_outputs(columns)
    labels, differences, worst = compare(expected, got, tolerance)
    largest = max(differences.values(), default=0.0)
    if labels or worst:
        rows = labels or worst
        shown = ", ".join(str(r) for r in rows[:MAX_LISTED_ROWS])
        what = f"labels differ on {len(labels)} of {n_rows} rows" if labels else "outputs differ"
        raise VerificationError(
            f"{estimator} as ONNX disagrees with scikit-learn: {what} (rows {shown}); largest difference "
            f"{largest:.3g}, {tolerance.describe()}; serve it with the scikit-learn engine",
            estimator=estimator,
            rows=[str(r) for r in rows[:MAX_LISTED_ROWS]],
            max_difference=math.inf if labels else largest,
        )
    return differences, tolerance
