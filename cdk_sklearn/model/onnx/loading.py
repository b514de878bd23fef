"""Read what a conversion starts from: the model file and the sample rows to verify it on.

Loading the model runs its code (joblib, pickle or skops): acceptable here, on the machine that trained
or owns the model, and never in Lambda.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from cdk_sklearn.model.artifact import inspect_model
from cdk_sklearn.model.onnx.errors import ConversionError, one_line

_SAMPLE_SUFFIXES: Final = (".csv", ".parquet", ".pq", ".npy", ".json", ".jsonl")


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
        raise ConversionError(f"sample file {file} is not readable as {suffix[1:]}: {one_line(exc)}") from exc
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
