"""Batch entry point: score the rows of S3 objects (or local files) with the deployed model.

Handler string :data:`lambda_runtime.contract.BATCH_HANDLER`; the HTTP handler also hands it every
event of the shape ``{"cdk_sklearn_batch": {...}}``, so an endpoint's ``live`` alias can do batch
work with the model it has already loaded. Three actions, each one Lambda invocation:

``plan``
    List the objects under the input prefix (or the one object an upload event names), cut them
    into *work items* and write them as a JSON Lines manifest, which the Distributed Map reads.
    A work item is a list of *segments* ``{"key", "start", "end"}`` (byte ranges, end exclusive)
    covering at most ``split_bytes`` of input: a large object is split into ranges of that size,
    small objects are packed together. The packing is by data bytes, which Step Functions'
    ``ItemBatcher`` cannot see (it counts items and their JSON bytes only).
``score``
    For each segment: read the byte range with a ranged GET and align it to lines (a range owns
    the lines that *start* inside it: it skips the partial line it starts in, unless it starts at
    0, and reads past its end to finish its last line), decode rows with the request codec's
    rules, predict in mini-batches, and write one output object and, when rows were malformed,
    one errors object, at keys derived from the object and the range start only
    (:func:`~lambda_runtime.contract.batch_output_key`): a rerun overwrites, never duplicates.
    Memory is bounded by the mini-batch and the range's output, never by the object's size.
``summarize``
    Add up the summaries Step Functions' result writer stored for the run's children, list the
    work items that failed, and write the run summary.

Row identity: ``id_column`` when given (its raw text for CSV), else the object key and the byte
offset of the row's line, which stay the same whatever the split. A row that cannot be decoded or
that the model refuses goes to the errors object with its reason; nothing is dropped silently
(blank lines are not rows). CSV records must not contain line breaks inside quoted fields.

The model is reached through :func:`load_batch_model` and :func:`_predict_rows` only: the one seam to
the engine code (``model_store`` and the model's engine).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import tempfile
from bisect import bisect_left
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, repeat
from operator import add
from pathlib import Path
from typing import IO, Any, Protocol

from . import contract as c
from .codec import Table, csv_cell, encode_json
from .config import Settings
from .engines import engine_named
from .errors import BadRequest
from .inference import ModelInput, choose_method, to_json_ready
from .model_store import LoadedModel, ModelLoadError, load_model

MINI_BATCH_ROWS = 20_000
"""Rows per estimator call: large enough to amortize its overhead, small enough to bound memory."""
MAX_WORK_ITEM_JSON_BYTES = 64 * 1024
"""A work item's JSON stays under this, so a batch of one item is far below Step Functions' 256 KiB."""
_READ_CHUNK = 1 << 20
_SPOOL_BYTES = 8 << 20  # output kept in memory up to this, then in /tmp
_MAX_LINE_IN_ERROR = 500
_RETRYABLE_S3_CODES = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError", "ServiceUnavailable"}
)


class BatchRetryableError(Exception):
    """A failure a later attempt may not hit (S3 throttling, network); the state machine retries it."""


class BatchJobError(Exception):
    """The job cannot be done as described (bad event, unknown column, method the model lacks)."""


assert BatchRetryableError.__name__ == c.RETRYABLE_BATCH_ERROR  # the state machine retries it by name


# -- the seam to the engine -------------------------------------------------------------------------


def load_batch_model(settings: Settings) -> LoadedModel:
    """Load the model for batch work (the engine seam: ``model_store.load_model`` today)."""
    return load_model(settings)


def preload(model: LoadedModel) -> None:
    """Import now what scoring with ``model`` imports on its first mini-batch (pandas, for the
    vectorized DataFrame path): a process about to fork workers pays for it once, not per worker."""
    if model.engine == "sklearn" and model.feature_names_in is not None:
        import pandas  # noqa: F401


def _predict_rows(model: LoadedModel, method: str, table: Table) -> list[Any]:
    """One value (or list of values) per row; raises BadRequest when the rows do not fit the model."""
    return _predict_input(model, method, engine_named(model.engine).prepare(table, model))


def _predict_input(model: LoadedModel, method: str, model_input: ModelInput) -> list[Any]:
    """:func:`_predict_rows` for an input already built (the vectorized CSV paths build their own)."""
    result = to_json_ready(engine_named(model.engine).predict(model, method, model_input))
    if result and isinstance(result[0], list) and len(result) != model_input.n_rows:
        # A multi-output estimator returns one array per output: regroup them by row.
        result = [list(row) for row in zip(*result, strict=True)]
    return result


# -- the job ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """What to score and where to write it (the ``job`` object of every batch event)."""

    bucket: str
    input_prefix: str
    output_bucket: str
    output_prefix: str
    format: str = "csv"
    id_column: str | None = None
    method: str = "predict"
    split_bytes: int = c.DEFAULT_SPLIT_BYTES

    @classmethod
    def from_event(cls, data: Any) -> Job:
        """Read and check the ``job`` object; raises :class:`BatchJobError`."""
        if not isinstance(data, Mapping):
            raise BatchJobError(f"the batch event's job must be an object, got {type(data).__name__}")
        unknown = sorted(set(data) - set(c.JOB_FIELDS))
        if unknown:
            raise BatchJobError(f"unknown job fields {unknown}; known: {', '.join(c.JOB_FIELDS)}")
        job = cls(**dict(data))
        if job.format not in c.BATCH_FORMATS:
            raise BatchJobError(f"format {job.format!r} is not one of {', '.join(c.BATCH_FORMATS)}")
        if job.method not in c.PREDICTION_METHODS:
            raise BatchJobError(f"method {job.method!r} is not one of {', '.join(c.PREDICTION_METHODS)}")
        if not isinstance(job.split_bytes, int) or job.split_bytes < 1:
            raise BatchJobError(f"split_bytes must be a positive integer, got {job.split_bytes!r}")
        return job

    def to_event(self) -> dict[str, Any]:
        """The ``job`` object as the state machine passes it."""
        return {name: getattr(self, name) for name in c.JOB_FIELDS}


# -- storage: S3 in Lambda, folders locally -----------------------------------------------------------


class ObjectStore(Protocol):
    """The four storage operations the batch entry needs."""

    def list(self, bucket: str, prefix: str) -> Iterator[tuple[str, int]]:
        """Yield ``(key, size)`` of the objects under ``prefix``, in key order."""
        ...

    def read(self, bucket: str, key: str, first: int) -> Iterator[bytes]:
        """Yield the object's bytes from offset ``first`` to its end, in chunks (stop any time)."""
        ...

    def read_all(self, bucket: str, key: str) -> bytes:
        """Return a (small) object's bytes."""
        ...

    def write(self, bucket: str, key: str, body: IO[bytes]) -> None:
        """Create or replace the object with ``body`` (read from its current position)."""
        ...


class S3Store:
    """:class:`ObjectStore` over S3 with boto3 (adaptive retries; failures worth retrying become
    :class:`BatchRetryableError`)."""

    def __init__(self, client: Any = None) -> None:
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client("s3", config=Config(retries={"mode": "adaptive", "max_attempts": 8}))
        self._s3 = client

    def list(self, bucket: str, prefix: str) -> Iterator[tuple[str, int]]:
        """See :meth:`ObjectStore.list`."""
        paginator = self._s3.get_paginator("list_objects_v2")
        with _s3_errors(f"listing s3://{bucket}/{prefix}"):
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                for entry in page.get("Contents", ()):
                    yield entry["Key"], int(entry["Size"])

    def read(self, bucket: str, key: str, first: int) -> Iterator[bytes]:
        """See :meth:`ObjectStore.read`."""
        with _s3_errors(f"reading s3://{bucket}/{key}"):
            body = self._s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={first}-")["Body"]
            try:
                yield from body.iter_chunks(_READ_CHUNK)
            finally:
                body.close()

    def read_all(self, bucket: str, key: str) -> bytes:
        """See :meth:`ObjectStore.read_all`."""
        with _s3_errors(f"reading s3://{bucket}/{key}"):
            data: bytes = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            return data

    def write(self, bucket: str, key: str, body: IO[bytes]) -> None:
        """See :meth:`ObjectStore.write`."""
        with _s3_errors(f"writing s3://{bucket}/{key}"):
            self._s3.put_object(Bucket=bucket, Key=key, Body=body)


class _S3Errors:
    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            return
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _RETRYABLE_S3_CODES:
                raise BatchRetryableError(f"{self.what}: {code}") from exc
        elif isinstance(exc, BotoCoreError):  # connection errors, timeouts, truncated reads
            raise BatchRetryableError(f"{self.what}: {exc}") from exc


def _s3_errors(what: str) -> _S3Errors:
    return _S3Errors(what)


class LocalStore:
    """:class:`ObjectStore` over local folders: bucket name -> folder, key -> relative path."""

    def __init__(self, roots: Mapping[str, Path]) -> None:
        self._roots = {name: Path(root) for name, root in roots.items()}

    def _path(self, bucket: str, key: str) -> Path:
        return self._roots[bucket] / key

    def list(self, bucket: str, prefix: str) -> Iterator[tuple[str, int]]:
        """See :meth:`ObjectStore.list`."""
        root = self._roots[bucket]
        keys = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        for key in keys:
            if key.startswith(prefix):
                yield key, self._path(bucket, key).stat().st_size

    def read(self, bucket: str, key: str, first: int) -> Iterator[bytes]:
        """See :meth:`ObjectStore.read`."""
        with self._path(bucket, key).open("rb") as handle:
            handle.seek(first)
            while chunk := handle.read(_READ_CHUNK):
                yield chunk

    def read_all(self, bucket: str, key: str) -> bytes:
        """See :meth:`ObjectStore.read_all`."""
        return self._path(bucket, key).read_bytes()

    def write(self, bucket: str, key: str, body: IO[bytes]) -> None:
        """See :meth:`ObjectStore.write` (written to a temporary file, then renamed)."""
        path = self._path(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        with partial.open("wb") as out:
            while chunk := body.read(_READ_CHUNK):
                out.write(chunk)
        partial.replace(path)


# -- plan -------------------------------------------------------------------------------------------


def plan_work_items(objects: Iterable[tuple[str, int]], split_bytes: int) -> Iterator[dict[str, Any]]:
    """Cut ``(key, size)`` objects into work items of at most ``split_bytes`` input bytes each.

    Empty objects and folder markers (keys ending in ``/``) hold no rows and are left out.
    """
    segments: list[dict[str, Any]] = []
    total = 0
    json_bytes = 0
    for key, size in objects:
        if size <= 0 or key.endswith("/"):
            continue
        for start in range(0, size, split_bytes):
            end = min(start + split_bytes, size)
            segment = {"key": key, "start": start, "end": end}
            cost = len(json.dumps(segment)) + 2
            full = total + end - start > split_bytes or json_bytes + cost > MAX_WORK_ITEM_JSON_BYTES
            if segments and full:
                yield {"segments": segments, "bytes": total}
                segments, total, json_bytes = [], 0, 0
            segments.append(segment)
            total += end - start
            json_bytes += cost
    if segments:
        yield {"segments": segments, "bytes": total}


def plan(store: ObjectStore, job: Job, run: str, object_key: str | None = None) -> dict[str, Any]:
    """List the input (or the one uploaded object), write the manifest, return where it is."""
    if object_key is not None and not object_key.startswith(job.input_prefix):
        raise BatchJobError(f"object {object_key!r} is not under the input prefix {job.input_prefix!r}")
    listed = store.list(job.bucket, object_key or job.input_prefix)
    objects = [(k, s) for k, s in listed if object_key is None or k == object_key]
    items = list(plan_work_items(objects, job.split_bytes))
    manifest = "".join(json.dumps(item, separators=(",", ":")) + "\n" for item in items).encode()
    key = c.batch_manifest_key(job.output_prefix, run)
    store.write(job.output_bucket, key, io.BytesIO(manifest))
    return {
        "manifest_bucket": job.output_bucket,
        "manifest_key": key,
        "work_items": len(items),
        "objects": len(objects),
        "bytes": sum(size for _, size in objects),
    }


# -- reading lines ----------------------------------------------------------------------------------


def _line_blocks(chunks: Iterable[bytes], base: int) -> Generator[tuple[list[int], list[bytes]]]:
    """Yield ``(offsets, lines)`` per chunk of the byte stream that starts at offset ``base``.

    The lines of a chunk are cut and their offsets computed in C (``split``, ``accumulate``): a
    Python step per line costs more than decoding it does on the vectorized paths. CR of CRLF is
    removed (after the offsets are taken).
    """
    pending = b""
    offset = base
    for chunk in chunks:
        data = pending + chunk
        parts = data.split(b"\n")
        pending = parts.pop()
        if parts:
            # offset of line i: base + the lengths of the lines before it + one newline each
            starts = accumulate(map(len, parts), initial=offset)
            offsets = list(map(add, starts, range(len(parts) + 1)))
            offset = offsets.pop()
            if b"\r" in data:
                parts = [part.removesuffix(b"\r") for part in parts]
            yield offsets, parts
    if pending:
        yield [offset], [pending.removesuffix(b"\r")]


def owned_line_blocks(
    store: ObjectStore, bucket: str, key: str, start: int, end: int
) -> Iterator[tuple[list[int], list[bytes]]]:
    """:func:`owned_lines` a chunk at a time: ``(offsets, lines)`` lists, in order."""
    first = max(start - 1, 0)
    stream = store.read(bucket, key, first)
    blocks = _line_blocks(stream, first)
    skip = start > 0
    try:
        for offsets, lines in blocks:
            if skip:
                # The line holding byte start-1 began in the previous range (or is empty when that
                # byte is the newline ending it): either way it is not ours.
                offsets, lines, skip = offsets[1:], lines[1:], False
            cut = bisect_left(offsets, end)
            if cut < len(offsets):  # this block reaches the next range: the rest is not ours
                if cut:
                    yield offsets[:cut], lines[:cut]
                break
            if offsets:
                yield offsets, lines
    finally:
        blocks.close()
        close = getattr(stream, "close", None)
        if close is not None:
            close()


def owned_lines(
    store: ObjectStore, bucket: str, key: str, start: int, end: int
) -> Iterator[tuple[int, bytes]]:
    """The lines whose first byte is in ``[start, end)``, with their offsets, CR of CRLF removed."""
    for offsets, lines in owned_line_blocks(store, bucket, key, start, end):
        yield from zip(offsets, lines, strict=True)


def _first_line(store: ObjectStore, bucket: str, key: str) -> bytes:
    """The object's first line (CR of CRLF removed), read up to its newline only."""
    head = b""
    stream = store.read(bucket, key, 0)
    try:
        for chunk in stream:
            head += chunk
            if b"\n" in chunk:
                break
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    return head.partition(b"\n")[0].removesuffix(b"\r")


# -- decoding rows ----------------------------------------------------------------------------------


@dataclass
class _Row:
    offset: int
    line: bytes
    ident: Any
    cells: Any  # a list of values, or a dict for a JSON record


class _Malformed(BadRequest):
    """A line that is not a row; carries its identifier when it could be read."""

    def __init__(self, message: str, ident: Any = None) -> None:
        super().__init__(message)
        self.ident = ident


def _reason(message: str) -> str:
    # The request checks count rows from 0 within a request; here each refused row stands alone.
    return message.replace("row 0, column", "column").replace("row 0 ", "the row ")


class _Decoder:
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

    def decode(self, offset: int, line: bytes) -> _Row:
        text = line.decode("utf-8")  # UnicodeDecodeError: the caller records the row as malformed
        if self.job.format == "csv":
            return self._csv(offset, line, text)
        return self._jsonl(offset, line, text)

    def _csv(self, offset: int, line: bytes, text: str) -> _Row:
        assert self.header is not None
        raw = next(csv.reader([text]))
        ident = raw[self.id_index] if self.id_index is not None and self.id_index < len(raw) else None
        if len(raw) != len(self.header):
            raise _Malformed(f"the row has {len(raw)} fields but the header has {len(self.header)}", ident)
        cells = [csv_cell(cell) for i, cell in enumerate(raw) if i != self.id_index]
        return _Row(offset, line, ident, cells)

    def _jsonl(self, offset: int, line: bytes, text: str) -> _Row:
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
            return _Row(offset, line, ident, cells)
        if isinstance(value, list) and column is None:
            return _Row(offset, line, None, value)
        wanted = "an object of named values" + ("" if column is not None else " or an array of values")
        raise BadRequest(f"the line is a JSON {type(value).__name__}; each line must be {wanted}")


# -- scoring ----------------------------------------------------------------------------------------


def _table(rows: list[_Row], features: list[str] | None, named: bool) -> Table:
    if named and rows and isinstance(rows[0].cells, dict):
        return Table(records=[r.cells for r in rows])
    if named and features is not None:
        return Table(rows=[r.cells for r in rows], columns=features)
    return Table(rows=[r.cells for r in rows])


def _score_isolating(
    model: LoadedModel, method: str, rows: list[_Row], features: list[str] | None
) -> tuple[list[Any], dict[int, str]]:
    """Predict ``rows``; a batch the model refuses is halved until each refused row stands alone."""
    named = model.feature_names_in is not None
    results: list[Any] = [None] * len(rows)
    refused: dict[int, str] = {}
    pending = [(0, len(rows))]
    while pending:
        lo, hi = pending.pop()
        # JSON records with and without the id column mix objects and arrays only if malformed;
        # a batch holding both kinds is split like any other refused batch.
        try:
            results[lo:hi] = _predict_rows(model, method, _table(rows[lo:hi], features, named))
        except BadRequest as exc:
            if hi - lo == 1:
                refused[lo] = _reason(exc.message)
            else:
                mid = (lo + hi) // 2
                pending += [(mid, hi), (lo, mid)]
    return results, refused


class _Output:
    """One output object: rows written as they are predicted, spooled to /tmp past a few MB."""

    def __init__(self, job: Job, id_fields: list[str], prediction_fields: list[str]) -> None:
        self.job = job
        # Closed by close(), after the object is written.
        self.file = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
        self.text = io.TextIOWrapper(self.file, encoding="utf-8", newline="")
        self.id_fields = id_fields
        self.prediction_fields = prediction_fields
        self.writer = csv.writer(self.text, lineterminator="\n") if job.format == "csv" else None
        if self.writer is not None:
            self.writer.writerow([*id_fields, *prediction_fields])

    def add(self, ident: list[Any], value: Any) -> None:
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
        self.text.flush()
        self.file.seek(0)
        return self.file

    def close(self) -> None:
        self.text.detach()
        self.file.close()


def _prediction_fields(model: LoadedModel, method: str) -> list[str]:
    classes = model.classes
    flat = classes is not None and all(not isinstance(k, list) for k in classes)
    if method == "predict_proba" and flat and classes is not None:
        return [f"{method}_{k}" for k in classes]
    if method == "decision_function" and flat and classes is not None and len(classes) > 2:
        return [f"{method}_{k}" for k in classes]
    return [c.PREDICTION_FIELD]


def _fast_csv(
    lines: list[bytes], decoder: _Decoder, model: LoadedModel, method: str
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
    if header is None or model.engine != "sklearn":
        return None
    try:
        text = b"\n".join(lines).decode("utf-8")
    except UnicodeDecodeError:
        return None
    if set(map(bytes.count, lines, repeat(b","))) != {len(header) - 1}:
        return None
    try:
        if model.feature_names_in is not None:
            return _fast_frame(text, len(lines), decoder, model, method)
        return _fast_array(text, lines, decoder, model, method)
    except (BadRequest, ValueError, TypeError, OverflowError):
        return None


def _fast_array(
    text: str, lines: list[bytes], decoder: _Decoder, model: LoadedModel, method: str
) -> tuple[list[Any], list[Any]] | None:
    import numpy as np

    if '"' in text:
        return None  # quoting: left to the csv module
    index = decoder.id_index
    columns = [i for i in range(len(decoder.header or ())) if i != index]
    array = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, usecols=columns, ndmin=2)
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
    return ids, _predict_input(model, method, model_input)


@functools.cache
def _pandas_floats() -> dict[str, str]:
    # Numbers must read as Python's float() reads them (the codec's rule): pandas before 3 needs
    # round_trip for that; pandas 3 reads them so by default and deprecates the argument.
    import pandas as pd

    return {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}


def _fast_frame(
    text: str, n_rows: int, decoder: _Decoder, model: LoadedModel, method: str
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
    return ids, _predict_input(model, method, ModelInput(frame, n_rows, has_missing))


def score_segment(
    store: ObjectStore, job: Job, model: LoadedModel, key: str, start: int, end: int
) -> dict[str, Any]:
    """Score the rows of ``key`` that start in ``[start, end)``; write output (and errors); summarize."""
    method = _method(model, job)
    named = model.feature_names_in is not None
    header: list[str] | None = None
    blocks = owned_line_blocks(store, job.bucket, key, start, end)
    if job.format == "csv":
        head = _first_line(store, job.bucket, key) if start > 0 else None
        if start == 0:
            first = next(blocks, None)
            head = first[1][0] if first is not None else b""
            if first is not None and len(first[1]) > 1:
                blocks = chain([(first[0][1:], first[1][1:])], blocks)
        header = next(csv.reader([(head or b"").decode("utf-8-sig").strip("\r")]), [])
    decoder = _Decoder(job, header, named)
    id_fields = [job.id_column] if job.id_column is not None else [c.ROW_OBJECT_FIELD, c.ROW_OFFSET_FIELD]
    output = _Output(job, id_fields, _prediction_fields(model, method))
    errors = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115  (closed below)
    counts = {c.SUMMARY_ROWS: 0, c.SUMMARY_PREDICTED: 0, c.SUMMARY_ERRORS: 0}

    def ident_of(offset: int, ident: Any) -> list[Any]:
        return [ident] if job.id_column is not None else [key, offset]

    def refuse(offset: int, line: bytes, ident: Any, reason: str) -> None:
        record: dict[str, Any] = dict(zip(id_fields, ident_of(offset, ident), strict=True))
        if job.id_column is not None:
            record[c.ROW_OBJECT_FIELD], record[c.ROW_OFFSET_FIELD] = key, offset
        record[c.ERROR_LINE_FIELD] = line[:_MAX_LINE_IN_ERROR].decode("utf-8", "replace")
        record[c.ERROR_REASON_FIELD] = reason
        errors.write(encode_json(record).encode() + b"\n")
        counts[c.SUMMARY_ERRORS] += 1

    def score_rows(batch: list[_Row]) -> None:
        results, refused = _score_isolating(model, method, batch, decoder.features)
        for i, row in enumerate(batch):
            if i in refused:
                refuse(row.offset, row.line, row.ident, refused[i])
            else:
                output.add(ident_of(row.offset, row.ident), results[i])
                counts[c.SUMMARY_PREDICTED] += 1

    def flush(offsets: list[int], lines: list[bytes]) -> None:
        counts[c.SUMMARY_ROWS] += len(lines)
        fast = _fast_csv(lines, decoder, model, method) if job.format == "csv" else None
        if fast is not None:
            ids, values = fast
            if job.id_column is None:
                ids = [(key, offset) for offset in offsets]
            output.add_many(ids, values, flat=job.id_column is not None)
            counts[c.SUMMARY_PREDICTED] += len(lines)
            return
        batch: list[_Row] = []
        for offset, line in zip(offsets, lines, strict=True):
            try:
                batch.append(decoder.decode(offset, line))
            except (BadRequest, UnicodeDecodeError, csv.Error) as exc:
                reason = exc.message if isinstance(exc, BadRequest) else f"the line cannot be decoded: {exc}"
                refuse(offset, line, getattr(exc, "ident", None), reason)
        if batch:
            score_rows(batch)

    try:
        # Mini-batches of exactly MINI_BATCH_ROWS non-blank lines, as a line at a time would cut them.
        pending_offsets: list[int] = []
        pending_lines: list[bytes] = []
        for offsets, lines in blocks:
            if not all(map(bytes.strip, lines)):  # blank lines are not rows
                kept = [i for i, line in enumerate(lines) if line.strip()]
                offsets, lines = [offsets[i] for i in kept], [lines[i] for i in kept]
            pending_offsets += offsets
            pending_lines += lines
            while len(pending_lines) >= MINI_BATCH_ROWS:
                flush(pending_offsets[:MINI_BATCH_ROWS], pending_lines[:MINI_BATCH_ROWS])
                del pending_offsets[:MINI_BATCH_ROWS], pending_lines[:MINI_BATCH_ROWS]
        if pending_lines:
            flush(pending_offsets, pending_lines)
        out_key = c.batch_output_key(job.output_prefix, job.input_prefix, key, start, job.format)
        store.write(job.output_bucket, out_key, output.body())
    finally:
        output.close()
    summary: dict[str, Any] = {**counts, c.SUMMARY_OUTPUTS: [out_key], c.SUMMARY_ERROR_OBJECTS: []}
    with errors:
        if counts[c.SUMMARY_ERRORS]:
            err_key = c.batch_error_key(job.output_prefix, job.input_prefix, key, start)
            errors.seek(0)
            store.write(job.output_bucket, err_key, errors)
            summary[c.SUMMARY_ERROR_OBJECTS] = [err_key]
    return summary


def _method(model: LoadedModel, job: Job) -> str:
    try:
        return choose_method(model, job.method, None)
    except BadRequest as exc:
        raise BatchJobError(exc.message) from None


def empty_summary() -> dict[str, Any]:
    """A summary of nothing, to add summaries to."""
    return {
        c.SUMMARY_ROWS: 0,
        c.SUMMARY_PREDICTED: 0,
        c.SUMMARY_ERRORS: 0,
        c.SUMMARY_OUTPUTS: [],
        c.SUMMARY_ERROR_OBJECTS: [],
    }


def add_summary(total: dict[str, Any], part: Mapping[str, Any]) -> dict[str, Any]:
    """Add ``part`` into ``total`` (in place) and return it."""
    for name in (c.SUMMARY_ROWS, c.SUMMARY_PREDICTED, c.SUMMARY_ERRORS):
        total[name] += int(part.get(name, 0))
    for name in (c.SUMMARY_OUTPUTS, c.SUMMARY_ERROR_OBJECTS):
        total[name].extend(part.get(name, ()))
    return total


def score_work_item(
    store: ObjectStore, job: Job, model: LoadedModel, item: Mapping[str, Any]
) -> dict[str, Any]:
    """Score every segment of one work item; return their combined summary."""
    segments = item.get("segments")
    if not isinstance(segments, list):
        raise BatchJobError("a work item must be an object with a list of segments")
    total = empty_summary()
    for seg in segments:
        add_summary(total, score_segment(store, job, model, seg["key"], int(seg["start"]), int(seg["end"])))
    return total


# -- summarize --------------------------------------------------------------------------------------


def _records(data: bytes) -> list[Any]:
    text = data.decode("utf-8").strip()
    if not text:
        return []
    if text.startswith("["):
        value = json.loads(text)
        return value if isinstance(value, list) else [value]
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _json_field(record: Mapping[str, Any], name: str) -> Any:
    value = record.get(name)
    return json.loads(value) if isinstance(value, str) else value


def summarize(store: ObjectStore, job: Job, run: str, results: Mapping[str, Any] | None) -> dict[str, Any]:
    """Add up the children's summaries from the result writer's manifest; write the run summary.

    ``results`` is the Distributed Map's ``ResultWriterDetails`` (``Bucket``, ``Key`` of its
    ``manifest.json``). Returns the counts (not the key lists, which can be long: they are in the
    summary object).
    """
    total = empty_summary()
    failed: list[Any] = []
    if results:
        manifest = json.loads(store.read_all(str(results["Bucket"]), str(results["Key"])))
        files = manifest.get("ResultFiles", {})
        for entry in files.get("SUCCEEDED", []):
            for record in _records(store.read_all(str(results["Bucket"]), entry["Key"])):
                output = _json_field(record, "Output") if "Output" in record else record
                add_summary(total, output or {})
        for status in ("FAILED", "PENDING"):
            for entry in files.get(status, []):
                for record in _records(store.read_all(str(results["Bucket"]), entry["Key"])):
                    failed.append({"status": status, "input": _json_field(record, "Input")})
    return write_summary(store, job, run, total, failed)


def write_summary(
    store: ObjectStore, job: Job, run: str, total: dict[str, Any], failed: list[Any]
) -> dict[str, Any]:
    """Write the run summary object; return its counts and key."""
    document = {**total, "failed_work_items": failed}
    key = c.batch_summary_key(job.output_prefix, run)
    body = json.dumps(document, indent=1, sort_keys=True).encode()
    store.write(job.output_bucket, key, io.BytesIO(body))
    return {
        c.SUMMARY_ROWS: total[c.SUMMARY_ROWS],
        c.SUMMARY_PREDICTED: total[c.SUMMARY_PREDICTED],
        c.SUMMARY_ERRORS: total[c.SUMMARY_ERRORS],
        "output_objects": len(total[c.SUMMARY_OUTPUTS]),
        "error_objects": len(total[c.SUMMARY_ERROR_OBJECTS]),
        "failed_work_items": len(failed),
        "summary_key": key,
    }


# -- entry points -----------------------------------------------------------------------------------

_MODEL: list[LoadedModel] = []  # loaded on the first score call (plan and summarize need no model)


def _own_model() -> LoadedModel:
    if not _MODEL:
        try:
            _MODEL.append(load_batch_model(Settings.from_environ(os.environ)))
        except ModelLoadError as exc:
            if exc.retryable:
                raise BatchRetryableError(exc.detail) from None
            raise
    return _MODEL[0]


def handle_batch(
    event: Mapping[str, Any],
    model: Callable[[], LoadedModel],
    store: ObjectStore | None = None,
) -> dict[str, Any]:
    """Run one batch action (``plan``, ``score`` or ``summarize``) and return its result.

    Raises
    ------
    BatchJobError
        The event does not describe a job this model can do.
    BatchRetryableError
        S3 or the model fetch failed in a way a retry may not.
    """
    body = event.get(c.BATCH_EVENT_KEY)
    if not isinstance(body, Mapping) or body.get("action") not in c.BATCH_ACTIONS:
        actions = ", ".join(c.BATCH_ACTIONS)
        raise BatchJobError(f'a batch event is {{"{c.BATCH_EVENT_KEY}": {{"action": <{actions}>, ...}}}}')
    job = Job.from_event(body.get("job"))
    store = store if store is not None else S3Store()
    action = body["action"]
    if action == "plan":
        return plan(store, job, str(body["run"]), body.get("object_key"))
    if action == "summarize":
        return summarize(store, job, str(body["run"]), body.get("results"))
    items = body.get("items")
    if not isinstance(items, list):
        raise BatchJobError("a score event needs items: the list of work items to score")
    loaded = model()
    total = empty_summary()
    for item in items:
        add_summary(total, score_work_item(store, job, loaded, item))
    return total


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point of a batch function of its own (``lambda_runtime.batch.handler``)."""
    return handle_batch(event, _own_model)
