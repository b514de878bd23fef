"""The checks every engine makes on a decoded table before its model runs.

Everything a client can get wrong is caught *before* the model runs, so the client gets a 400 naming
the row and column at fault, rather than a traceback or a 500: feature count (against
``n_features_in_``), non-numeric cells, missing or unknown columns, infinite values, and NaN the model
cannot take. The engines (:mod:`.sklearn`, :mod:`.onnx`) build their own input from what these checks return.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from ..codec import Table, check_columns
from ..contract import MAX_COLUMNS
from ..errors import BadRequest
from ..model import LoadedModel, ModelInput

PANDAS_MISSING = (
    "the model was fitted on named columns and needs pandas, which is not in the function's layer; "
    'add pandas to the layer (extra_requirements=["pandas"]) and redeploy, or refit the model on a '
    "numpy array"
)


HEADER_ROW = (
    "row 0 holds the model's column names: CSV bodies carry no header row; drop the first line (or send "
    'JSON records such as [{"column": value}])'
)
TAKES_NUMBERS = "numbers"
TAKES_STRINGS = "strings"


def column_label(column: str | int) -> str:
    """A column as messages name it: quoted when named (``'plan'``), bare when positional (``3``)."""
    return repr(column) if isinstance(column, str) else str(column)


def refused_cell(row: int, column: str | int, value: Any, takes: str, why: str = "") -> BadRequest:
    """The 400 for a cell its column cannot take, in the words every engine uses.

    ``row 3, column 'tenure_months' is 'three', not a number; this column takes numbers``.

    Parameters
    ----------
    row, column
        Where the cell is: row index, and the column's name (or index, for positional models).
    value
        The cell as received.
    takes
        What the column takes: :data:`TAKES_NUMBERS`, :data:`TAKES_STRINGS` or a phrase of that kind.
    why
        Said after the value instead of the default (``, a category the model did not see in training``).
    """
    label = column_label(column)
    if isinstance(value, list):
        shown = "an array"
    elif isinstance(value, dict):
        shown = "an object"
    elif isinstance(value, str):
        shown = repr(value[:60]) + (why or (", not a number" if takes == TAKES_NUMBERS else ""))
    else:
        shown = repr(value)[:40] + why
    return BadRequest(f"row {row}, column {label} is {shown}; this column takes {takes}")


def numeric_rows(rows: list[Any], n_features: int | None) -> ModelInput:
    """Check positional rows of numbers and return them as a float64 array (NaN kept, inf refused)."""
    try:
        array = np.asarray(rows, dtype=np.float64)
    except (ValueError, TypeError, OverflowError, RecursionError):
        array = None
    if array is None or array.ndim != 2:
        explain_bad_rows(rows)
        raise BadRequest(
            "the rows could not be read as a table of numbers; send an array of rows, each an array of "
            "numbers of the same length"
        )
    check_width(array.shape[1], n_features)
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


def check_width(width: int, n_features: int | None) -> None:
    """Refuse (400) rows whose width is not the model's feature count."""
    if n_features is not None and width != n_features:
        raise BadRequest(
            f"this model takes {n_features} features per row (n_features_in_ = {n_features}), but the rows "
            f"have {width}; send each row as an array of {n_features} values"
        )


def explain_bad_rows(rows: list[Any]) -> None:
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
            check_number(cell, i, j)


def check_number(cell: Any, i: int, j: int) -> None:
    """Refuse (400) a cell that cannot be read as a number; ``None`` (missing) passes."""
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


def named_rows(table: Table, names: tuple[str, ...]) -> list[list[Any]]:
    """Rows with cells in the model's column order, from positional rows, records or named columns."""
    if table.records is not None:
        wanted = set(names)
        rows = []
        for i, record in enumerate(table.records):
            if len(record) > MAX_COLUMNS:
                check_columns(len(record), f"row {i}")
            if record.keys() != wanted:
                column_mismatch(list(record), names, f"row {i}")
            rows.append([record[name] for name in names])
        return rows
    raw_rows = table.rows or []
    for i, row in enumerate(raw_rows):
        if not isinstance(row, list):
            raise BadRequest(f"row {i} is not an array of values")
    if table.columns is None:
        # A header's cells were decoded like values: a column named "1" arrives as the number 1.
        if raw_rows and [str(cell) for cell in raw_rows[0]] == list(names):
            raise BadRequest(HEADER_ROW)
        for i, row in enumerate(raw_rows):
            if len(row) != len(names):
                raise BadRequest(
                    f"row {i} has {len(row)} values but this model takes {len(names)} columns "
                    f"({', '.join(names)[:400]}); send them in that order, or send named columns"
                )
        return raw_rows
    columns = table.columns
    check_columns(len(columns), "the columns")
    if len(set(columns)) != len(columns) or set(columns) != set(names):
        column_mismatch(columns, names, "the columns")
    position = {column: k for k, column in enumerate(columns)}
    index = [position[name] for name in names]
    ordered = []
    for i, row in enumerate(raw_rows):
        if len(row) != len(columns):
            raise BadRequest(f"row {i} has {len(row)} values but {len(columns)} columns are named")
        ordered.append([row[k] for k in index])
    return ordered


def column_mismatch(got: list[str], names: tuple[str, ...], where: str) -> None:
    """Raise a 400 naming the missing, unknown and repeated columns (time linear in ``got``)."""
    check_columns(len(got), where)
    counts = Counter(got)
    wanted = set(names)
    missing = [n for n in names if n not in counts]
    unknown = [str(c) for c in got if c not in wanted]
    duplicated = sorted(str(c) for c, n in counts.items() if n > 1)
    parts = []
    if missing:
        parts.append(_listed("missing", missing))
    if unknown:
        parts.append(_listed("unknown", unknown))
    if duplicated:
        parts.append(_listed("repeated", duplicated))
    raise BadRequest(
        f"{where}: columns do not match the model's ({'; '.join(parts)}); this model takes exactly "
        f"{list(names)}"[:900]
    )


def _listed(label: str, values: list[str]) -> str:
    # Only the head is shown: formatting every name of a huge list would cost what the cap saves.
    shown = values[:20]
    more = f" and {len(values) - len(shown)} more" if len(values) > len(shown) else ""
    return f"{label} {shown}"[:300] + more


def refuse_names(table: Table, n_features: int | None) -> None:
    """Refuse (400) named rows for a model that takes positional rows only."""
    if table.columns is not None or table.records is not None:
        width = f"{n_features} numbers" if n_features is not None else "numbers"
        raise BadRequest(
            "this model was fitted without column names (it has no feature_names_in_), so rows cannot be "
            f'matched by name; send each row as an array of {width}, such as {{"instances": [[1.0, 2.0]]}}'
        )


def missing_refused(model: LoadedModel, cell: tuple[int, str | int] | None = None) -> BadRequest:
    """The 400 for rows with missing values (null or NaN) that ``model`` cannot take.

    ``cell`` is the first missing one (row, column), named when known.
    """
    short = model.estimator_class.rsplit(".", 1)[-1]
    where = ""
    if cell is not None:
        row, column = cell
        where = f"row {row}, column {column_label(column)} is missing: "
    return BadRequest(
        f"{where}the rows contain missing values (null or NaN) and this model ({short}) cannot take them; "
        "fill them in before sending, or deploy a model that imputes them (e.g. a Pipeline "
        "starting with SimpleImputer)"
    )
