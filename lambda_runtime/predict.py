"""The one predict step the HTTP routes, the Open Inference Protocol routes and batch share.

:func:`choose_method` checks the method a caller asks for; :func:`prepare` has the model's engine check
the rows and build its input; :func:`run` calls the engine and returns a :class:`Prediction`, whose
shape is decided here, once, from what the model declares: a multi-output classifier
(:attr:`LoadedModel.classes_per_output`) answers its scores as one array per output, every other model
as one array with a row per input row. Each protocol then reads the prediction in its own layout
(:meth:`Prediction.to_json`, :meth:`Prediction.rows`, :meth:`Prediction.tensor`) without guessing the
shape again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .codec import Table
from .contract import PREDICTION_METHODS
from .errors import BadRequest
from .model import LoadedModel, ModelInput


@dataclass(frozen=True)
class Prediction:
    """One method's answer for a batch of rows.

    Attributes
    ----------
    method
        The method that answered (one of :data:`contract.PREDICTION_METHODS`).
    n_rows
        Rows predicted.
    result
        The engine's result: one array with a row per input row, or (``per_output``) a tuple of them,
        one per output of a multi-output classifier.
    per_output
        Whether ``result`` holds one array per output (decided from the model's declared outputs).
    seconds
        Time spent in the engine.
    """

    method: str
    n_rows: int
    result: Any
    per_output: bool
    seconds: float

    def to_json(self) -> list[Any]:
        """The ``/predict`` answer: a value per row, or for a multi-output model a list per output."""
        if self.per_output or isinstance(self.result, list):
            return [np.asarray(part).tolist() for part in self.result]
        converted: list[Any] = np.asarray(self.result).tolist()
        return converted

    def rows(self) -> list[Any]:
        """A value per row (batch): a multi-output model's row holds one value per output."""
        if self.per_output:
            parts = [np.asarray(part).tolist() for part in self.result]
            return [list(row) for row in zip(*parts, strict=True)]
        return self.to_json()

    def tensor(self) -> np.ndarray[Any, Any]:
        """One array with a row per input row (Open Inference Protocol): outputs stacked on axis 1."""
        if self.per_output or isinstance(self.result, list):
            return np.stack([np.asarray(part) for part in self.result], axis=1)
        return np.asarray(self.result)


def choose_method(model: LoadedModel, from_body: Any, from_query: str | None) -> str:
    """Return the prediction method named by the body or ``?method=`` (default ``predict``).

    Raises
    ------
    BadRequest
        Unknown method, a method this estimator lacks, or the body and query disagree.
    """
    if from_body is not None and from_query is not None and from_body != from_query:
        raise BadRequest(
            f"the body asks for method {str(from_body)[:60]!r} but the query asks for {from_query[:60]!r}; "
            "name the method once"
        )
    method = from_body if from_body is not None else from_query
    if method is None:
        return "predict"
    if not isinstance(method, str) or method not in PREDICTION_METHODS:
        raise BadRequest(
            f"unknown method {str(method)[:60]!r}; use one of {', '.join(PREDICTION_METHODS)} "
            '(body "method" or ?method=)'
        )
    if method not in model.methods:
        short = model.estimator_class.rsplit(".", 1)[-1]
        why = " (its ONNX graph has no output for it)" if model.engine.name == "onnx" else ""
        raise BadRequest(f"this model ({short}) has no {method}{why}; it offers {', '.join(model.methods)}")
    return method


def check_tensor_answer(model: LoadedModel, method: str) -> None:
    """Refuse (400) a method whose answer is not one dense tensor, before the model runs.

    A multi-output classifier scores each output over its own classes. When the outputs have as many
    classes each, the Open Inference Protocol carries the scores as one ``[rows, outputs, classes]``
    tensor; when they differ, no one tensor can hold them, and the protocol answers each requested
    output name with one tensor. Renaming outputs (``predict_proba_0``...) would leave a client that
    asked for ``predict_proba`` without it and without an error; padding would invent scores. So the
    caller is told to use ``POST /predict``, which answers one list per output.

    Raises
    ------
    BadRequest
        ``method`` answers per output and the outputs' class counts differ.
    """
    per_output = model.classes_per_output if _answers_per_output(model, method) else None
    counts = [len(classes) for classes in per_output or []]
    if len(set(counts)) > 1:
        raise BadRequest(
            f"this model has {len(counts)} outputs with {', '.join(map(str, counts))} classes, so its "
            f"{method} is one array per output of a different width, which no single Open Inference "
            f"Protocol tensor can carry; ask POST /predict (one list per output) for {method}, or "
            "output predict here"
        )


def prepare(model: LoadedModel, table: Table) -> ModelInput:
    """Check ``table`` against ``model`` (400 on any mistake) and build its engine's input."""
    return model.engine.prepare(table, model)


def run(model: LoadedModel, method: str, model_input: ModelInput) -> Prediction:
    """Run ``method`` on ``model_input`` with the model's engine (a refusal of the values is a 400).

    Raises
    ------
    BadRequest
        The model refused the values.
    RuntimeError
        A multi-output classifier answered with another number of outputs than it declares.
    """
    started = time.perf_counter()
    result = model.engine.predict(model, method, model_input)
    seconds = time.perf_counter() - started
    per_output = _answers_per_output(model, method)
    if per_output:
        outputs = model.classes_per_output or []
        if not isinstance(result, (list, tuple)) or len(result) != len(outputs):
            raise RuntimeError(
                f"{model.estimator_class} declares {len(outputs)} outputs, but its {method} returned "
                f"{type(result).__name__}"
            )
        result = tuple(result)
    return Prediction(method, model_input.n_rows, result, per_output, seconds)


def predict_table(model: LoadedModel, method: str, table: Table) -> Prediction:
    """:func:`prepare` then :func:`run`."""
    return run(model, method, prepare(model, table))


def _answers_per_output(model: LoadedModel, method: str) -> bool:
    # A multi-output classifier predicts one label per output in one [rows, outputs] array, but
    # scores (predict_proba) as one [rows, classes] array per output, as scikit-learn defines them.
    return method != "predict" and model.classes_per_output is not None
