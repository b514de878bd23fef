"""Decode request bodies into tables of rows, and encode predictions as JSON or CSV.

Decoding here is about *shape* only (which rows, which columns); checking the rows against the model
(feature count, numbers, NaN) is :mod:`.inference`'s job, because it needs the model.

Accepted ``POST /predict`` bodies (``application/json`` unless said otherwise):

* ``{"instances": [[...], ...]}`` rows as arrays, or ``{"instances": [{"col": v}, ...]}`` records;
* ``{"dataframe_records": [{"col": v}, ...]}``;
* ``{"dataframe_split": {"columns": [...], "data": [[...]]}}``;
* ``{"inputs": [[...], ...]}`` or ``{"inputs": {"col": [v, ...], ...}}``;
* a bare JSON array of rows (one flat array is one row);
* ``text/csv`` without a header row, one row per line.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
from dataclasses import dataclass
from typing import Any

from .contract import MAX_COLUMNS, MAX_JSON_CONTAINERS, MAX_ROWS
from .errors import BadRequest, NotAcceptable, UnsupportedMediaType

JSON = "application/json"
CSV = "text/csv"
_CSV_ALIASES = frozenset({CSV, "application/csv"})
DATA_KEYS = ("instances", "inputs", "dataframe_records", "dataframe_split")


@dataclass(frozen=True)
class Table:
    """Rows from a request, before they are checked against the model.

    Exactly one of two shapes:

    * positional: ``rows`` is a list of rows (each a list of cells), ``columns`` is ``None``;
    * named: ``columns`` names the cells of every row in ``rows``; records (``{"col": v}``) keep their
      own keys in ``records`` until the model's column order is known.
    """

    rows: list[Any] | None = None
    columns: list[str] | None = None
    records: list[Any] | None = None

    @property
    def n_rows(self) -> int:
        """Number of rows in the table."""
        return len(self.records if self.records is not None else self.rows or [])


@dataclass(frozen=True)
class PredictBody:
    """A decoded ``POST /predict`` body: the table and the method named in the body, if any."""

    table: Table
    method: Any = None


def media_type(header: str | None) -> str | None:
    """Return the lower-case media type of a Content-Type header, without parameters (charset...)."""
    if not header:
        return None
    return header.split(";", 1)[0].strip().lower() or None


# Clients send the same few header values over and over: parse each once (bounded, so odd values
# cannot grow it; an unsupported one raises every time, exceptions are not cached).
@functools.lru_cache(maxsize=64)
def request_format(content_type: str | None, *, allow_csv: bool) -> str:
    """Return ``"json"`` or ``"csv"`` for a request Content-Type; a missing header means JSON.

    Raises
    ------
    UnsupportedMediaType
        Any other media type.
    """
    kind = media_type(content_type)
    if kind is None or kind == JSON:
        return "json"
    if allow_csv and kind in _CSV_ALIASES:
        return "csv"
    supported = f"{JSON} or {CSV}" if allow_csv else JSON
    raise UnsupportedMediaType(
        f"Content-Type {kind[:100]!r} is not supported here; send {supported} "
        f"(with curl: -H 'Content-Type: {JSON}')"
    )


@functools.lru_cache(maxsize=64)
def response_format(accept: str | None, *, allow_csv: bool = True) -> str:
    """Pick ``"json"`` or ``"csv"`` from an Accept header (q-values honoured; JSON wins ties).

    Raises
    ------
    NotAcceptable
        The header accepts neither JSON nor (where offered) CSV.
    """
    if not accept or not accept.strip():
        return "json"
    offered = (("json", JSON), ("csv", CSV)) if allow_csv else (("json", JSON),)
    ranges = [_parse_range(part) for part in accept.split(",")]
    best, best_q = "", 0.0
    for name, mime in offered:
        q = _quality(mime, ranges)
        if q > best_q:
            best, best_q = name, q
    if not best:
        supported = f"{JSON} or {CSV}" if allow_csv else JSON
        raise NotAcceptable(
            f"Accept {accept[:100]!r} allows no format this endpoint returns; accept {supported}"
        )
    return best


def _parse_range(part: str) -> tuple[str, float]:
    pieces = part.split(";")
    q = 1.0
    for param in pieces[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                q = 0.0
            q = q if 0.0 <= q <= 1.0 else 0.0  # rejects nan and out-of-range values too
    return pieces[0].strip().lower(), q


def _quality(mime: str, ranges: list[tuple[str, float]]) -> float:
    # The most specific matching range decides (RFC 9110 section 12.5.1).
    main = mime.split("/", 1)[0]
    for pattern in (mime, f"{main}/*", "*/*"):
        for value, q in ranges:
            if value == pattern:
                return q
    return 0.0


def load_json(body: bytes) -> Any:
    """Parse a JSON body, turning every failure into a 400 that says where the problem is."""
    if not body.strip():
        raise BadRequest('the request body is empty; send JSON such as {"instances": [[1.0, 2.0]]}')
    # Each array or object costs the parser an allocation, the most expensive bytes a body can hold
    # ("[]" is two bytes): counting them first (at memchr speed) bounds the parse by the row cap.
    containers = body.count(b"[") + body.count(b"{")
    if containers > MAX_JSON_CONTAINERS:
        raise BadRequest(
            f"the JSON body holds {containers} arrays and objects ('[' and '{{' counted, strings "
            f"included); a request may hold at most {MAX_JSON_CONTAINERS} (contract.MAX_ROWS, one per "
            "row, and a few more): split it into several requests"
        )
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}; "
            'send JSON such as {"instances": [[1.0, 2.0]]}'
        ) from None
    except UnicodeDecodeError:
        raise BadRequest("the body is not valid UTF-8 text; send UTF-8 encoded JSON") from None
    except ValueError:
        # An integer literal of more digits than int() converts (sys.get_int_max_str_digits()).
        raise BadRequest(
            "the JSON body holds a number too long to read (over 4,300 digits); send numbers within 64 bits"
        ) from None
    except RecursionError:
        raise BadRequest(
            "the JSON body is nested too deeply; rows are arrays of values, two levels deep"
        ) from None


def decode_predict(body: bytes, fmt: str) -> PredictBody:
    """Decode a ``POST /predict`` body in format ``fmt`` (``"json"`` or ``"csv"``).

    Raises
    ------
    BadRequest
        The body is not valid JSON/CSV or not one of the accepted shapes.
    """
    if fmt == "csv":
        return PredictBody(decode_csv(body))
    document = load_json(body)
    if isinstance(document, list):
        return PredictBody(_rows_or_records(document, "the body"))
    if not isinstance(document, dict):
        raise BadRequest(
            f"the JSON body is a {_json_type(document)}; send an object such as "
            '{"instances": [[1.0, 2.0]]} or an array of rows'
        )
    present = [key for key in DATA_KEYS if key in document]
    if len(present) != 1:
        found = ", ".join(present) if present else "none of them"
        raise BadRequest(
            f"the JSON object must have exactly one of the keys {', '.join(DATA_KEYS)} (found {found}); "
            'for example {"instances": [[1.0, 2.0]]}'
        )
    key = present[0]
    value = document[key]
    if key == "instances":
        table = _rows_or_records(value, '"instances"')
    elif key == "inputs":
        table = (
            _column_dict(value, '"inputs"')
            if isinstance(value, dict)
            else _rows_or_records(value, '"inputs"')
        )
    elif key == "dataframe_records":
        table = _records(value)
    else:
        table = _split(value)
    return PredictBody(table, document.get("method"))


def check_rows(count: int, where: str) -> None:
    """Refuse (400) more rows than :data:`contract.MAX_ROWS` in one request."""
    if count > MAX_ROWS:
        raise BadRequest(
            f"{where} has {count} rows; a request may hold at most {MAX_ROWS} (contract.MAX_ROWS); "
            "split it into several requests, or use batch scoring"
        )


def check_columns(count: int, where: str) -> None:
    """Refuse (400) more named columns than :data:`contract.MAX_COLUMNS` in one request."""
    if count > MAX_COLUMNS:
        raise BadRequest(
            f"{where} names {count} columns; a request may name at most {MAX_COLUMNS} "
            "(contract.MAX_COLUMNS); send only the model's columns"
        )


def _rows_or_records(value: Any, where: str) -> Table:
    if not isinstance(value, list):
        raise BadRequest(f"{where} must be an array of rows, got a {_json_type(value)}")
    check_rows(len(value), where)
    if not value:
        raise BadRequest(f"{where} is an empty array; send at least one row")
    if all(isinstance(row, dict) for row in value):
        return Table(records=value)
    if all(isinstance(row, list) for row in value):
        return Table(rows=value)
    if not any(isinstance(cell, (list, dict)) for cell in value):
        return Table(rows=[value])  # one flat row is one row (SageMaker style)
    raise BadRequest(
        f"{where} mixes arrays, objects and single values; send an array of rows, each an array of "
        'values ([[1.0, 2.0], [3.0, 4.0]]) or each an object of named values ([{"a": 1.0, "b": 2.0}])'
    )


def _records(value: Any) -> Table:
    if not isinstance(value, list) or not value or not all(isinstance(r, dict) for r in value):
        raise BadRequest(
            '"dataframe_records" must be a non-empty array of objects, one per row, such as '
            '[{"a": 1.0, "b": 2.0}]'
        )
    check_rows(len(value), '"dataframe_records"')
    return Table(records=value)


def _split(value: Any) -> Table:
    if not isinstance(value, dict) or "data" not in value:
        raise BadRequest(
            '"dataframe_split" must be an object with "columns" and "data", such as '
            '{"columns": ["a", "b"], "data": [[1.0, 2.0]]}'
        )
    data = value["data"]
    if not isinstance(data, list) or not data:
        raise BadRequest('"dataframe_split.data" must be a non-empty array of rows')
    check_rows(len(data), '"dataframe_split.data"')
    if not all(isinstance(row, list) for row in data):
        data = [data] if not any(isinstance(c, (list, dict)) for c in data) else data
        if not all(isinstance(row, list) for row in data):
            raise BadRequest('"dataframe_split.data" must be an array of rows, each an array of values')
    columns = value.get("columns")
    if columns is None:
        return Table(rows=data)
    return Table(rows=data, columns=_column_names(columns, '"dataframe_split.columns"'))


def _column_dict(value: dict[str, Any], where: str) -> Table:
    if not value:
        raise BadRequest(f"{where} is an empty object; send column names mapped to arrays of values")
    check_columns(len(value), where)
    columns = list(value)
    values = list(value.values())
    if all(isinstance(v, list) for v in values):
        lengths = {len(v) for v in values}
        check_rows(max(lengths), where)
        if len(lengths) != 1 or 0 in lengths:
            raise BadRequest(
                f"the columns in {where} must be non-empty arrays of one length; "
                f"got lengths {sorted(lengths)[:10]}"
            )
        return Table(rows=[list(row) for row in zip(*values, strict=True)], columns=columns)
    if not any(isinstance(v, (list, dict)) for v in values):
        return Table(rows=[values], columns=columns)
    raise BadRequest(f"{where} must map each column name to an array of values (or each to one value)")


def _column_names(columns: Any, where: str) -> list[str]:
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise BadRequest(f"{where} must be an array of column names (strings)")
    check_columns(len(columns), where)
    return columns


def decode_csv(body: bytes) -> Table:
    """Decode CSV without a header: one row per line, numbers as numbers, empty cells as missing."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("the CSV body is not valid UTF-8 text") from None
    rows: list[list[Any]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            if row:
                rows.append([_csv_cell(cell) for cell in row])
                if len(rows) > MAX_ROWS:  # stop reading at the cap, not after the whole body
                    check_rows(len(rows), "the CSV body")
    except csv.Error as exc:
        raise BadRequest(
            f"the CSV body could not be parsed: {exc}; send one row per line, no header"
        ) from None
    if not rows:
        raise BadRequest(
            "the CSV body has no rows; send one row per line, values separated by commas, no header"
        )
    return Table(rows=rows)


def csv_cell(cell: str) -> Any:
    """Decode one CSV cell as the ``text/csv`` body does: integer, float, ``None`` when empty, else text."""
    return _csv_cell(cell)


def _csv_cell(cell: str) -> Any:
    cell = cell.strip()
    if not cell:
        return None
    # An integer of at most 18 ASCII digits, optionally signed; cheaper than a regular expression,
    # which cost about half of a CSV body's decoding.
    digits = cell[1:] if cell[0] in "+-" else cell
    if len(digits) <= 18 and digits.isdigit() and digits.isascii():
        return int(cell)
    try:
        return float(cell)
    except ValueError:
        return cell


_JSON_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


def encode_json(payload: dict[str, Any]) -> str:
    """Serialize a response; non-finite floats (not valid JSON) become ``null``."""
    try:
        return _JSON_ENCODER.encode(payload)
    except ValueError:
        return _JSON_ENCODER.encode(_finite(payload))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def encode_csv(predictions: list[Any]) -> str:
    """One line per row: a single value, or the row's values separated by commas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in predictions:
        writer.writerow(row if isinstance(row, list) else [row])
    return out.getvalue()


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
