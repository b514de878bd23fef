"""Check a decoded table against the model, build the model input, and call the estimator.

Everything a client can get wrong is caught here *before* the estimator runs, so the client gets a
400 naming the row and column at fault, rather than a scikit-learn traceback or a 500:
feature count (against ``n_features_in_``), non-numeric cells, missing or unknown columns, infinite
values, and NaN the estimator cannot take.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .codec import Table
from .errors import BadRequest, ServiceUnavailable
from .model_store import PREDICTION_METHODS, LoadedModel

_SCALARS = (str, int, float, bool)
_MAX_ERROR_TEXT = 300


@dataclass(frozen=True)
class ModelInput:
    """What the estimator is called with: a float64 array or a pandas DataFrame, and its row count."""

    data: Any
    n_rows: int
    has_missing: bool


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
        raise BadRequest(f"this model ({short}) has no {method}; it offers {', '.join(model.methods)}")
    return method


def prepare(table: Table, model: LoadedModel) -> ModelInput:
    """Turn ``table`` into the estimator's input, checking it against ``model``.

    Models fitted on a DataFrame (``feature_names_in_``) get a DataFrame with their columns in their
    order; others get a float64 array.
    """
    if model.feature_names_in is not None:
        rows = _named_rows(table, model.feature_names_in)
        return _dataframe(rows, model.feature_names_in)
    if table.columns is not None or table.records is not None:
        width = f"{model.n_features_in} numbers" if model.n_features_in is not None else "numbers"
        raise BadRequest(
            "this model was fitted without column names (it has no feature_names_in_), so rows cannot be "
            f'matched by name; send each row as an array of {width}, such as {{"instances": [[1.0, 2.0]]}}'
        )
    return _numeric(table.rows or [], model.n_features_in)


def predict(model: LoadedModel, method: str, model_input: ModelInput) -> Any:
    """Call ``method`` on the estimator and return its raw result.

    Raises
    ------
    BadRequest
        The estimator refused the input (``ValueError``/``TypeError``: unknown category, NaN it
        cannot take...). Input checks already ran, so these are about the values themselves.
    """
    try:
        return getattr(model.estimator, method)(model_input.data)
    except (ValueError, TypeError) as exc:
        short = model.estimator_class.rsplit(".", 1)[-1]
        text = " ".join(str(exc).split())
        if model_input.has_missing and "nan" in text.lower():
            raise BadRequest(
                f"the rows contain missing values (null or NaN) and this model ({short}) cannot take them; "
                "fill them in before sending, or deploy a model that imputes them (e.g. a Pipeline "
                "starting with SimpleImputer)"
            ) from None
        raise BadRequest(
            f"the model ({short}) rejected the input: {text[:_MAX_ERROR_TEXT]}; check the values against "
            "what the model was trained on"
        ) from None


def to_json_ready(result: Any) -> list[Any]:
    """Convert an estimator result (array, or list of arrays for multi-output) to plain lists."""
    if isinstance(result, list):
        return [np.asarray(part).tolist() for part in result]
    converted: list[Any] = np.asarray(result).tolist()
    return converted


def _numeric(rows: list[Any], n_features: int | None) -> ModelInput:
    try:
        array = np.asarray(rows, dtype=np.float64)
    except (ValueError, TypeError, OverflowError, RecursionError):
        array = None
    if array is None or array.ndim != 2:
        _explain_bad_rows(rows)
        raise BadRequest(
            "the rows could not be read as a table of numbers; send an array of rows, each an array of "
            "numbers of the same length"
        )
    _check_width(array.shape[1], n_features)
    finite = np.isfinite(array)
    has_missing = False
    if not finite.all():
        infinite = np.argwhere(np.isinf(array))
        if len(infinite):
            row, col = (int(i) for i in infinite[0])
            raise BadRequest(
                f"row {row}, column {col} is infinite or too large for a 64-bit float; send finite numbers"
            )
        has_missing = True
    return ModelInput(array, array.shape[0], has_missing)


def _check_width(width: int, n_features: int | None) -> None:
    if n_features is not None and width != n_features:
        raise BadRequest(
            f"this model takes {n_features} features per row (n_features_in_ = {n_features}), but the rows "
            f"have {width}; send each row as an array of {n_features} values"
        )


def _explain_bad_rows(rows: list[Any]) -> None:
    """Raise a BadRequest naming the first malformed row or cell, if one can be found."""
    width = len(rows[0]) if rows and isinstance(rows[0], list) else None
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise BadRequest(f"row {i} is not an array of values; send each row as an array of numbers")
        if len(row) != width:
            raise BadRequest(
                f"row {i} has {len(row)} values but row 0 has {width}; every row needs the same number"
            )
        for j, cell in enumerate(row):
            _check_number(cell, i, j)


def _check_number(cell: Any, i: int, j: int) -> None:
    if cell is None or isinstance(cell, (bool, float)):
        return
    if isinstance(cell, int):
        if abs(cell) > 2**1023:
            raise BadRequest(f"row {i}, column {j} is too large for a 64-bit float; send finite numbers")
        return
    if isinstance(cell, str):
        try:
            float(cell)
            return
        except ValueError:
            raise BadRequest(
                f"row {i}, column {j} is {cell[:60]!r}, not a number; this model takes numbers only "
                "(with CSV, send no header row)"
            ) from None
    kind = "an array" if isinstance(cell, list) else "an object"
    raise BadRequest(f"row {i}, column {j} is {kind}; each cell must be a single number")


def _named_rows(table: Table, names: tuple[str, ...]) -> list[list[Any]]:
    """Rows with cells in the model's column order, from positional rows, records or named columns."""
    if table.records is not None:
        wanted = set(names)
        rows = []
        for i, record in enumerate(table.records):
            if record.keys() != wanted:
                _column_mismatch(list(record), names, f"row {i}")
            rows.append([record[name] for name in names])
        return rows
    raw_rows = table.rows or []
    for i, row in enumerate(raw_rows):
        if not isinstance(row, list):
            raise BadRequest(f"row {i} is not an array of values")
    if table.columns is None:
        for i, row in enumerate(raw_rows):
            if len(row) != len(names):
                raise BadRequest(
                    f"row {i} has {len(row)} values but this model takes {len(names)} columns "
                    f"({', '.join(names)[:400]}); send them in that order, or send named columns"
                )
        return raw_rows
    columns = table.columns
    if len(set(columns)) != len(columns) or set(columns) != set(names):
        _column_mismatch(columns, names, "the columns")
    index = [columns.index(name) for name in names]
    ordered = []
    for i, row in enumerate(raw_rows):
        if len(row) != len(columns):
            raise BadRequest(f"row {i} has {len(row)} values but {len(columns)} columns are named")
        ordered.append([row[k] for k in index])
    return ordered


def _column_mismatch(got: list[str], names: tuple[str, ...], where: str) -> None:
    missing = [n for n in names if n not in got]
    unknown = [str(c) for c in got if c not in names]
    duplicated = sorted({str(c) for c in got if got.count(c) > 1})
    parts = []
    if missing:
        parts.append(f"missing {missing}"[:300])
    if unknown:
        parts.append(f"unknown {unknown}"[:300])
    if duplicated:
        parts.append(f"repeated {duplicated}"[:300])
    raise BadRequest(
        f"{where}: columns do not match the model's ({'; '.join(parts)}); this model takes exactly "
        f"{list(names)}"[:900]
    )


def _dataframe(rows: list[list[Any]], names: tuple[str, ...]) -> ModelInput:
    has_missing = False
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            if cell is None:
                has_missing = True
            elif not isinstance(cell, _SCALARS):
                kind = "an array" if isinstance(cell, list) else "an object"
                raise BadRequest(f"row {i}, column {names[j]!r} is {kind}; each cell must be a single value")
            elif isinstance(cell, float) and not math.isfinite(cell):
                if math.isinf(cell):
                    raise BadRequest(f"row {i}, column {names[j]!r} is infinite; send finite numbers")
                has_missing = True
            elif isinstance(cell, int) and not isinstance(cell, bool) and abs(cell) > 2**63:
                raise BadRequest(f"row {i}, column {names[j]!r} is too large; send numbers within 64 bits")
    try:
        import pandas as pd
    except ImportError:
        raise ServiceUnavailable(
            "this model was fitted on named columns and needs pandas, which is not installed in the "
            "function; add pandas to the layer"
        ) from None
    return ModelInput(pd.DataFrame(rows, columns=list(names)), len(rows), has_missing)
