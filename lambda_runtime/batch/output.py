"""Writing output: one output object per segment, rows written as they are predicted."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Sequence
from typing import IO, Any

from .. import contract as c
from ..codec import encode_json
from ..model import LoadedModel
from .job import Job

SPOOL_BYTES = 8 << 20
"""Output kept in memory up to this, then in /tmp."""


class Output:
    """One output object: rows written as they are predicted, spooled to /tmp past a few MB."""

    def __init__(self, job: Job, id_fields: list[str], prediction_fields: list[str]) -> None:
        self.job = job
        # Closed by close(), after the object is written.
        self.file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        self.text = io.TextIOWrapper(self.file, encoding="utf-8", newline="")
        self.id_fields = id_fields
        self.prediction_fields = prediction_fields
        self.writer = csv.writer(self.text, lineterminator="\n") if job.format == "csv" else None
        if self.writer is not None:
            self.writer.writerow([*id_fields, *prediction_fields])

    def add(self, ident: list[Any], value: Any) -> None:
        """Add one row: its id fields and its prediction (one cell per prediction field in CSV)."""
        if self.writer is None:
            record = dict(zip(self.id_fields, ident, strict=True))
            record[c.PREDICTION_FIELD] = value
            self.text.write(encode_json(record) + "\n")
            return
        if (
            len(self.prediction_fields) > 1
            and isinstance(value, list)
            and len(value) == len(self.prediction_fields)
        ):
            cells = value
        else:
            cells = [json.dumps(value, separators=(",", ":")) if isinstance(value, list) else value]
        self.writer.writerow([*ident, *cells])

    def add_many(self, idents: Sequence[Any], values: list[Any], *, flat: bool = False) -> None:
        """Add rows: ``idents`` holds each row's id fields, or (``flat``) its one id value."""
        if (
            self.writer is not None
            and len(self.prediction_fields) == 1
            and values
            and not isinstance(values[0], list)
        ):
            # Formatted in memory, then written at once: one write per row through the text and
            # spooled file layers costs more than formatting it.
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            if flat:
                writer.writerows(zip(idents, values, strict=True))
            else:
                writer.writerows([*ident, value] for ident, value in zip(idents, values, strict=True))
            self.text.write(buffer.getvalue())
            return
        for ident, value in zip(idents, values, strict=True):
            self.add([ident] if flat else list(ident), value)

    def body(self) -> IO[bytes]:
        """The object's bytes so far, rewound, to be written to the store."""
        self.text.flush()
        self.file.seek(0)
        return self.file

    def close(self) -> None:
        """Free the spooled file."""
        self.text.detach()
        self.file.close()


def prediction_fields(model: LoadedModel, method: str) -> list[str]:
    """The output's prediction columns: one per class for a single-output classifier's scores, else one."""
    classes = model.classes
    flat = classes is not None and all(not isinstance(k, list) for k in classes)
    if method == "predict_proba" and flat and classes is not None:
        return [f"{method}_{k}" for k in classes]
    if method == "decision_function" and flat and classes is not None and len(classes) > 2:
        return [f"{method}_{k}" for k in classes]
    return [c.PREDICTION_FIELD]
