"""Decoding rows: one CSV or JSON Lines line into a row (or the reason it is malformed), rows into a table."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from typing import Any

from ..codec import Table, csv_cell
from ..errors import BadRequest
from .job import BatchJobError, Job


@dataclass
class Row:
    """One decoded line: where it starts, its bytes, its id (when it has one) and its cells."""

    offset: int
    line: bytes
    ident: Any
    cells: Any  # a list of values, or a dict for a JSON record


class Malformed(BadRequest):
    """A line that is not a row; carries its identifier when it could be read."""

    def __init__(self, message: str, ident: Any = None) -> None:
        super().__init__(message)
        self.ident = ident


def reason(message: str) -> str:
    """A request check's 400 message reworded for a row that stands alone."""
    # The request checks count rows from 0 within a request; here each refused row stands alone.
    return message.replace("row 0, column", "column").replace("row 0 ", "the row ")


class Decoder:
    """Turn one line into a row (or a reason it is malformed), per the job's format."""

    def __init__(self, job: Job, header: list[str] | None, named: bool) -> None:
        self.job = job
        self.named = named
        self.header = header
        self.id_index: int | None = None
        self.features: list[str] | None = None
        if header is not None:
            if job.id_column is not None:
                if job.id_column not in header:
                    raise BatchJobError(
                        f"id_column {job.id_column!r} is not a column of the CSV header {header[:50]}"
                    )
                self.id_index = header.index(job.id_column)
            self.features = [name for i, name in enumerate(header) if i != self.id_index]

    def decode(self, offset: int, line: bytes) -> Row:
        """Decode the line at ``offset``; raises BadRequest (or UnicodeDecodeError) when it is not a row."""
        text = line.decode("utf-8")  # UnicodeDecodeError: the caller records the row as malformed
        if self.job.format == "csv":
            return self._csv(offset, line, text)
        return self._jsonl(offset, line, text)

    def _csv(self, offset: int, line: bytes, text: str) -> Row:
        assert self.header is not None
        raw = next(csv.reader([text]))
        ident = raw[self.id_index] if self.id_index is not None and self.id_index < len(raw) else None
        if len(raw) != len(self.header):
            raise Malformed(f"the row has {len(raw)} fields but the header has {len(self.header)}", ident)
        cells = [csv_cell(cell) for i, cell in enumerate(raw) if i != self.id_index]
        return Row(offset, line, ident, cells)

    def _jsonl(self, offset: int, line: bytes, text: str) -> Row:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadRequest(f"the line is not valid JSON: {exc.msg} at column {exc.colno}") from None
        column = self.job.id_column
        if isinstance(value, dict):
            if column is not None and column not in value:
                raise BadRequest(f"the record has no id_column {column!r}")
            ident = value.pop(column) if column is not None else None
            cells: Any = value if self.named else list(value.values())
            return Row(offset, line, ident, cells)
        if isinstance(value, list) and column is None:
            return Row(offset, line, None, value)
        wanted = "an object of named values" + ("" if column is not None else " or an array of values")
        raise BadRequest(f"the line is a JSON {type(value).__name__}; each line must be {wanted}")


def table_of(rows: list[Row], features: list[str] | None, named: bool) -> Table:
    """The rows as the codec's table: records, named columns (CSV header) or positional rows."""
    if named and rows and isinstance(rows[0].cells, dict):
        return Table(records=[r.cells for r in rows])
    if named and features is not None:
        return Table(rows=[r.cells for r in rows], columns=features)
    return Table(rows=[r.cells for r in rows])
