"""The vectorized CSV paths: a clean mini-batch decoded in C (numpy or pandas) and predicted at once."""

from __future__ import annotations

import functools
import io
from itertools import repeat
from typing import Any

from ..codec import csv_cell
from ..model import LoadedModel, ModelInput
from ..predict import run
from .job import INFRASTRUCTURE_ERRORS
from .rows import Decoder


def fast_csv(
    lines: list[bytes], decoder: Decoder, model: LoadedModel, method: str
) -> tuple[list[Any], list[Any]] | None:
    """Decode and predict a mini-batch of CSV lines in C (numpy or pandas), or None.

    Returns the rows' ids (the id column's text; an empty list without an id column) and their
    predictions. Taken only when the result is certainly what the row-by-row path gives: every line has the
    header's field count and decodes, every cell means the same to the vectorized parser as to the
    request codec, and the model accepts the whole batch. Otherwise (a malformed or refused row, a
    quoted field, an unusual spelling of a number) the row-by-row path decides, row by row.
    """
    header = decoder.header
    # The vectorized inputs are the scikit-learn engine's (an array or a DataFrame); other engines
    # take the row-by-row path, which builds their own input.
    if header is None or model.engine.name != "sklearn":
        return None
    try:
        text = b"\n".join(lines).decode("utf-8")
    except UnicodeDecodeError:
        return None
    if '"' in text or "\r" in text:
        # The vectorized parsers honour quotes across lines and a bare CR as a line end; the
        # codec reads one line as one row: such a block is left to the row-by-row path.
        return None
    if set(map(bytes.count, lines, repeat(b","))) != {len(header) - 1}:
        return None
    try:
        if model.feature_names_in is not None:
            return _fast_frame(text, len(lines), decoder, model, method)
        return _fast_array(text, lines, decoder, model, method)
    except INFRASTRUCTURE_ERRORS:
        raise
    except Exception:  # the data or the model refuses: the row-by-row path finds which row
        return None


def _fast_array(
    text: str, lines: list[bytes], decoder: Decoder, model: LoadedModel, method: str
) -> tuple[list[Any], list[Any]] | None:
    import numpy as np

    index = decoder.id_index
    columns = [i for i in range(len(decoder.header or ())) if i != index]
    # comments=None: "#" is not a comment to the codec ("2.3#x" is not a number).
    array = np.loadtxt(
        io.StringIO(text), delimiter=",", dtype=np.float64, usecols=columns, ndmin=2, comments=None
    )
    width = model.n_features_in
    if (
        array.shape[0] != len(lines)
        or np.isinf(array).any()
        or (width is not None and array.shape[1] != width)
    ):
        return None
    ids: list[Any] = []
    if index is not None:
        if index == 0:  # the usual place: cut at the first comma
            ids = [line.partition(b",")[0].decode() for line in lines]
        else:
            ids = [line.split(b",", index + 1)[index].decode() for line in lines]
    model_input = ModelInput(array, len(lines), has_missing=bool(np.isnan(array).any()))
    return ids, run(model, method, model_input).rows()


@functools.cache
def _pandas_floats() -> dict[str, str]:
    # Numbers must read as Python's float() reads them (the codec's rule): pandas before 3 needs
    # round_trip for that; pandas 3 reads them so by default and deprecates the argument.
    import pandas as pd

    return {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}


def _fast_frame(
    text: str, n_rows: int, decoder: Decoder, model: LoadedModel, method: str
) -> tuple[list[Any], list[Any]] | None:
    import numpy as np
    import pandas as pd

    names = list(model.feature_names_in or ())
    if sorted(decoder.features or ()) != sorted(names):
        return None
    id_column = decoder.job.id_column
    frame = pd.read_csv(
        io.StringIO(text),
        header=None,
        names=decoder.header,
        comment=None,
        skip_blank_lines=False,
        keep_default_na=False,
        na_values=[""],
        dtype={id_column: str} if id_column is not None else None,
        **_pandas_floats(),
    )
    if len(frame) != n_rows:
        return None
    ids: list[Any] = []
    if id_column is not None:
        id_cells = frame.pop(id_column)
        if id_cells.isna().any():  # an empty id: the codec keeps "", pandas reads a missing value
            return None
        ids = id_cells.tolist()
    frame = frame[names]
    for name in names:
        column = frame[name]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            # The codec strips cells and reads numbers in them (int, float, "nan", "1_000"...);
            # pandas keeps such text as it is. Each distinct cell is put to the codec's own rule.
            if column.isna().any():
                return None
            if any(csv_cell(cell) != cell for cell in column.unique().tolist()):
                return None
        elif column.dtype.kind == "f":
            if np.isinf(column.to_numpy()).any():
                return None
        elif column.dtype.kind != "i":  # pandas reads True/False as booleans; the codec as text
            return None
    has_missing = bool(frame.isna().to_numpy().any())
    return ids, run(model, method, ModelInput(frame, n_rows, has_missing)).rows()
