"""The 400 for values a scikit-learn model refused after the up-front checks passed them.

The checks of :mod:`.sklearn_columns` cover the columns whose kind the fitted model shows; a model can
still raise ``ValueError``/``TypeError`` about a value (a third-party transformer, an unknown category
deep in a pipeline, a column whose kind was not learned). Its message names neither the row nor the
column, so, only after such a failure (never on the success path), the rows are run one at a time (at
most :data:`~.diagnosis.DIAGNOSED_ROWS` of them) to find the first that fails alone, and its column is
found by giving it a passing row's value (or a zero, when no row passes) one column at a time, as the ONNX
engine does. Failing that, a value the message quotes (``could not convert string to float: 'three'``)
names the column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import BadRequest
from ..model import ModelInput
from .checks import column_label
from .diagnosis import locate_rows

Call = Callable[[Any], Any]
_QUOTED = re.compile(r"'([^']{1,80})'|`([^`]{1,80})`|\"([^\"]{1,80})\"")
# XGBoost's native errors start with "[15:25:26] /workspace/src/...h:29: " and end in a stack trace of
# the machine's library paths: neither helps the caller, and the paths are the function's internals.
_NATIVE_PREFIX = re.compile(r"^\[\d\d:\d\d:\d\d\] \S+:\d+: ")
_NATIVE_TRACE = "Stack trace:"
_MAX_ERROR_TEXT = 300


def value_refusal(
    exc: Exception, call: Call, model_input: ModelInput, names: Sequence[str], short: str
) -> BadRequest:
    """The 400 for ``exc``, naming the row and column at fault when they can be found.

    Parameters
    ----------
    exc
        What the model raised on ``model_input`` (a ``ValueError`` or ``TypeError``).
    call
        Runs the model's method on a slice of ``model_input.data``.
    model_input
        The request's input: a pandas DataFrame or a 2-D array.
    names
        The columns' names (empty for a positional model: columns are then named by index).
    short
        The estimator's class name, for the message.
    """
    text = _NATIVE_PREFIX.sub("", " ".join(str(exc).split(_NATIVE_TRACE, 1)[0].split()))[:_MAX_ERROR_TEXT]
    data = model_input.data
    bad, good = _locate(call, data, model_input.n_rows)
    where = ""
    if bad is not None:
        where = f"row {bad}{_column(call, data, bad, good, names, text)}: "
    else:
        where = _quoted_cell(data, names, text)
    return BadRequest(
        f"{where}the model ({short}) rejected the input: {text}; check the values against what the model "
        "was trained on"
    )


def missing_cell(call: Call, model_input: ModelInput, names: Sequence[str]) -> tuple[int, str | int] | None:
    """The (row, column) of the missing cell the model refused, as far as rerunning rows shows it.

    A missing cell in a column the model imputes is not at fault: the first row that fails alone is
    found as :func:`value_refusal` finds it, then the missing cell of that row whose filling (with a
    passing row's value, else a zero) lets it pass. Falls back on the first missing cell.
    """
    data = model_input.data
    bad, good = _locate(call, data, model_input.n_rows)
    if bad is None:
        return first_missing(data, names)
    failing = _rows(data, bad, bad + 1)
    mask = failing.isna().to_numpy()[0] if hasattr(failing, "isna") else np.isnan(failing[0])
    missing = [int(j) for j in np.flatnonzero(mask)]
    passing = _cells(_rows(data, good, good + 1)) if good is not None else [0.0] * len(mask)
    for j in missing:
        fill = passing[j] if passing[j] is not None and passing[j] == passing[j] else 0.0
        if _passes(call, _with(failing, j, fill)):
            return bad, names[j] if names else j
    if missing:
        return bad, names[missing[0]] if names else missing[0]
    return first_missing(data, names)


def first_missing(data: Any, names: Sequence[str] | None) -> tuple[int, str | int] | None:
    """The (row, column) of the first missing cell of a DataFrame or float array, row by row."""
    mask = data.isna().to_numpy() if hasattr(data, "isna") else np.isnan(data)
    found = np.argwhere(mask)
    if not len(found):
        return None
    row, j = (int(k) for k in found[0])
    return row, names[j] if names else j


def _rows(data: Any, start: int, stop: int) -> Any:
    # A slice keeps its column's dtype: an object column of numbers (another row held a string) would
    # fail alone in a library that refuses object columns (XGBoost), for no fault of this row.
    if not hasattr(data, "iloc"):
        return data[start:stop]
    return _categories_of(data.iloc[start:stop].infer_objects(), data)


def _categories_of(trial: Any, like: Any) -> Any:
    """``trial`` with ``like``'s category columns as categories of their own values only.

    A slice keeps every category of the request, and XGBoost refuses a category it did not see in
    training even when no row of the slice holds it; a cell put in by :func:`_with` makes the column
    an object column, which XGBoost and LightGBM refuse whatever it holds.
    """
    for column in like.columns:
        if str(like[column].dtype) == "category":
            trial[column] = trial[column].astype(object).astype("category")
    return trial


def _passes(call: Call, data: Any) -> bool:
    try:
        call(data)
    except Exception:
        return False
    return True


def _locate(call: Call, data: Any, n_rows: int) -> tuple[int | None, int | None]:
    """The first row that fails alone and the first that passes, among the first rows."""
    if n_rows == 1:
        return 0, None  # the request failed, so its one row does
    return locate_rows(lambda i: _passes(call, _rows(data, i, i + 1)), n_rows)


def _column(call: Call, data: Any, bad: int, good: int | None, names: Sequence[str], text: str) -> str:
    """``, column 'c' = value`` for the column whose value makes row ``bad`` fail, if found."""
    failing = _rows(data, bad, bad + 1)
    cells = _cells(failing)
    # Without a passing row, a zero stands in: it passes wherever a number is taken.
    passing = _cells(_rows(data, good, good + 1)) if good is not None else [0.0] * len(cells)
    for j in range(len(cells)):
        if _passes(call, _with(failing, j, passing[j])):
            return _named(names, j, cells[j])
    quoted = _quoted(text)
    for j, cell in enumerate(cells):
        if cell is not None and str(cell)[:80] in quoted:
            return _named(names, j, cell)
    return ""


def _quoted(text: str) -> set[str]:
    """The values ``text`` quotes: in single quotes, backticks (XGBoost) or double quotes (pandas)."""
    return {"".join(groups) for groups in _QUOTED.findall(text)}


def _quoted_cell(data: Any, names: Sequence[str], text: str) -> str:
    """``row i, column 'c' = value: `` for the first cell (row by row) holding a value ``text`` quotes.

    For a failure no row rerun alone showed (it lies beyond the rows rerun): one pass over the columns.
    """
    quoted = _quoted(text)
    if not quoted or not hasattr(data, "columns"):
        return ""
    found: tuple[int, int] | None = None
    for j, column in enumerate(data.columns):
        # Messages quote values as text: a number the caller sent (0) appears as "0".
        hits = np.flatnonzero(data[column].astype(str).isin(quoted).to_numpy())
        if len(hits) and (found is None or hits[0] < found[0]):
            found = (int(hits[0]), j)
    if found is None:
        return ""
    row, j = found
    return f"row {row}{_named(names, j, data.iloc[row, j])}: "


def _cells(one_row: Any) -> list[Any]:
    values = one_row.to_numpy()[0] if hasattr(one_row, "to_numpy") else one_row[0]
    return [v.item() if hasattr(v, "item") else v for v in values]


def _with(one_row: Any, j: int, value: Any) -> Any:
    """A copy of ``one_row`` with ``value`` in column ``j``."""
    trial = one_row.copy()
    if hasattr(trial, "iloc"):
        column = trial.columns[j]
        trial[column] = trial[column].astype(object)
        trial.iloc[0, j] = value
        return _categories_of(trial.infer_objects(), one_row)
    trial[0, j] = value
    return trial


def _named(names: Sequence[str], j: int, value: Any) -> str:
    return f", column {column_label(names[j] if j < len(names) else j)} = {value!r}"[:200]
