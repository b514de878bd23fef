"""The ``score`` action: the rows of a segment decoded, predicted in mini-batches and written out.

Predictions go through the runtime's one predict step (:mod:`lambda_runtime.predict`), which gives a
value per row whatever the model: a multi-output classifier's row holds one value per output.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from itertools import chain
from typing import Any

from .. import contract as c
from ..codec import encode_json
from ..errors import BadRequest
from ..model import LoadedModel
from ..predict import choose_method, predict_table
from .fast import fast_csv
from .header import HeaderUnreadable, header_mismatch, parse_header, too_long
from .job import INFRASTRUCTURE_ERRORS, BatchJobError, Job
from .lines import first_line, is_long, owned_line_blocks
from .output import SPOOL_BYTES, Output, prediction_fields
from .rows import Decoder, Row, reason, table_of
from .storage import ObjectStore
from .summary import add_summary, empty_summary

MINI_BATCH_ROWS = 20_000
"""Rows per estimator call: large enough to amortize its overhead, small enough to bound memory."""
_MAX_LINE_IN_ERROR = 500
Blocks = Iterator[tuple[list[int], list[bytes]]]


def row_error(exc: Exception) -> str:
    """Why a row was refused: the request check's message, or the error the row caused."""
    if isinstance(exc, BadRequest):
        return reason(exc.message)
    if isinstance(exc, RecursionError):
        return "the line is nested too deeply to decode"
    text = " ".join(str(exc).split())[:300]
    return f"the model could not score the row ({type(exc).__name__}: {text})"


def score_isolating(
    model: LoadedModel, method: str, rows: list[Row], features: list[str] | None
) -> tuple[list[Any], dict[int, str]]:
    """Predict ``rows``; a batch that fails on its data is halved until each failing row stands
    alone, so the other rows are still predicted (each once). Infrastructure failures propagate."""
    named = model.feature_names_in is not None
    results: list[Any] = [None] * len(rows)
    refused: dict[int, str] = {}
    pending = [(0, len(rows))]
    while pending:
        lo, hi = pending.pop()
        # JSON records with and without the id column mix objects and arrays only if malformed;
        # a batch holding both kinds is split like any other refused batch.
        try:
            values = predict_table(model, method, table_of(rows[lo:hi], features, named)).rows()
            if len(values) != hi - lo:
                raise BadRequest(f"the model gave {len(values)} answers for {hi - lo} rows")
            results[lo:hi] = values
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception as exc:
            if hi - lo == 1:
                refused[lo] = row_error(exc)
            else:
                mid = (lo + hi) // 2
                pending += [(mid, hi), (lo, mid)]
    return results, refused


class _Segment:
    """The rows of one segment on their way out: the output object, the errors object, the counts."""

    def __init__(
        self, job: Job, model: LoadedModel, method: str, key: str, decoder: Decoder, header_error: str | None
    ) -> None:
        self.job, self.model, self.method, self.key, self.decoder = job, model, method, key, decoder
        self.header_error = header_error
        self.id_fields = (
            [job.id_column] if job.id_column is not None else [c.ROW_OBJECT_FIELD, c.ROW_OFFSET_FIELD]
        )
        self.output = Output(job, self.id_fields, prediction_fields(model, method))
        self.errors = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115  (see close)
        self.counts = {c.SUMMARY_ROWS: 0, c.SUMMARY_PREDICTED: 0, c.SUMMARY_ERRORS: 0}

    def ident_of(self, offset: int, ident: Any) -> list[Any]:
        """The row's id fields: its id column's value, or its object key and offset."""
        return [ident] if self.job.id_column is not None else [self.key, offset]

    def refuse(self, offset: int, line: bytes, ident: Any, why: str) -> None:
        """Record a row that could not be predicted in the errors object."""
        record: dict[str, Any] = dict(zip(self.id_fields, self.ident_of(offset, ident), strict=True))
        if self.job.id_column is not None:
            record[c.ROW_OBJECT_FIELD], record[c.ROW_OFFSET_FIELD] = self.key, offset
        record[c.ERROR_LINE_FIELD] = line[:_MAX_LINE_IN_ERROR].decode("utf-8", "replace")
        record[c.ERROR_REASON_FIELD] = why
        self.errors.write(encode_json(record).encode() + b"\n")
        self.counts[c.SUMMARY_ERRORS] += 1

    def flush(self, offsets: list[int], lines: list[bytes]) -> None:
        """Decode and predict one mini-batch: vectorized when it is clean, else row by row."""
        self.counts[c.SUMMARY_ROWS] += len(lines)
        job = self.job
        if self.header_error is not None or is_long(lines):
            for offset, line in zip(offsets, lines, strict=True):
                self.refuse(offset, line, None, self.header_error or too_long(line))
            return
        fast = fast_csv(lines, self.decoder, self.model, self.method) if job.format == "csv" else None
        if fast is not None:
            ids, values = fast
            if job.id_column is None:
                ids = [(self.key, offset) for offset in offsets]
            self.output.add_many(ids, values, flat=job.id_column is not None)
            self.counts[c.SUMMARY_PREDICTED] += len(lines)
            return
        batch: list[Row] = []
        for offset, line in zip(offsets, lines, strict=True):
            try:
                batch.append(self.decoder.decode(offset, line))
            except INFRASTRUCTURE_ERRORS:
                raise
            except (BadRequest, RecursionError) as exc:
                self.refuse(offset, line, getattr(exc, "ident", None), row_error(exc))
            except Exception as exc:  # UnicodeDecodeError, csv.Error, ... : the line's bytes
                self.refuse(offset, line, None, f"the line cannot be decoded: {exc}")
        if batch:
            self._score_rows(batch)

    def _score_rows(self, batch: list[Row]) -> None:
        results, refused = score_isolating(self.model, self.method, batch, self.decoder.features)
        for i, row in enumerate(batch):
            if i in refused:
                self.refuse(row.offset, row.line, row.ident, refused[i])
            else:
                self.output.add(self.ident_of(row.offset, row.ident), results[i])
                self.counts[c.SUMMARY_PREDICTED] += 1

    def write(self, store: ObjectStore, start: int) -> dict[str, Any]:
        """Write the output object (and the errors object, when rows were refused); return the summary."""
        job = self.job
        out_key = c.batch_output_key(job.output_prefix, job.input_prefix, self.key, start, job.format)
        store.write(job.output_bucket, out_key, self.output.body())
        summary: dict[str, Any] = {**self.counts, c.SUMMARY_OUTPUTS: [out_key], c.SUMMARY_ERROR_OBJECTS: []}
        if self.counts[c.SUMMARY_ERRORS]:
            err_key = c.batch_error_key(job.output_prefix, job.input_prefix, self.key, start)
            self.errors.seek(0)
            store.write(job.output_bucket, err_key, self.errors)
            summary[c.SUMMARY_ERROR_OBJECTS] = [err_key]
        return summary

    def close(self) -> None:
        """Free the spooled output and errors."""
        self.output.close()
        self.errors.close()


def score_segment(
    store: ObjectStore,
    job: Job,
    model: LoadedModel,
    key: str,
    start: int,
    end: int,
    etag: str | None = None,
) -> dict[str, Any]:
    """Score the rows of ``key`` that start in ``[start, end)``; write output (and errors); summarize.

    With ``etag`` (the object's version when the run was planned) every read is of that version:
    :class:`~.job.ObjectChanged` fails the work item when the object was replaced.
    """
    method = _method(model, job)
    header, header_error, blocks = _header_and_blocks(store, job, key, start, end, etag)
    decoder = Decoder(job, header, model.feature_names_in is not None)
    if header is not None:
        # Checked once for the segment: a header that cannot match refuses every row with one
        # reason that names the columns and the fix, and the model never runs on them.
        header_error = header_mismatch(header, job.id_column, model)
    segment = _Segment(job, model, method, key, decoder, header_error)
    try:
        for offsets, lines in _mini_batches(blocks):
            segment.flush(offsets, lines)
        return segment.write(store, start)
    finally:
        segment.close()


def _header_and_blocks(
    store: ObjectStore, job: Job, key: str, start: int, end: int, etag: str | None
) -> tuple[list[str] | None, str | None, Blocks]:
    """The CSV header (read from the object's first line), why it cannot be read (then every line
    of the segment is refused for it, the header line included), and the segment's line blocks."""
    blocks = owned_line_blocks(store, job.bucket, key, start, end, etag)
    if job.format != "csv":
        return None, None, blocks
    if start > 0:
        head = first_line(store, job.bucket, key, etag)
    else:
        first = next(blocks, None)
        head = first[1][0] if first is not None else b""
        if first is not None and (len(first[1]) > 1 or _unreadable(head) is not None):
            keep = 0 if _unreadable(head) is not None else 1
            blocks = chain([(first[0][keep:], first[1][keep:])], blocks)
    problem = _unreadable(head)
    if problem is not None:
        return None, f"the CSV header (the object's first line) cannot be read: {problem}", blocks
    return parse_header(head), None, blocks


def _unreadable(head: bytes) -> str | None:
    try:
        parse_header(head)
    except HeaderUnreadable as exc:
        return str(exc)
    return None


def _mini_batches(blocks: Blocks) -> Blocks:
    """Mini-batches of exactly :data:`MINI_BATCH_ROWS` non-blank lines, as a line at a time would cut them."""
    pending_offsets: list[int] = []
    pending_lines: list[bytes] = []
    for offsets, lines in blocks:
        if is_long(lines):  # not a row to read: an error record of its own
            yield offsets, lines
            continue
        if not all(map(bytes.strip, lines)):  # blank lines are not rows
            kept = [i for i, line in enumerate(lines) if line.strip()]
            offsets, lines = [offsets[i] for i in kept], [lines[i] for i in kept]
        pending_offsets += offsets
        pending_lines += lines
        while len(pending_lines) >= MINI_BATCH_ROWS:
            yield pending_offsets[:MINI_BATCH_ROWS], pending_lines[:MINI_BATCH_ROWS]
            del pending_offsets[:MINI_BATCH_ROWS], pending_lines[:MINI_BATCH_ROWS]
    if pending_lines:
        yield pending_offsets, pending_lines


def _method(model: LoadedModel, job: Job) -> str:
    try:
        return choose_method(model, job.method, None)
    except BadRequest as exc:
        raise BatchJobError(exc.message) from None


def score_work_item(
    store: ObjectStore, job: Job, model: LoadedModel, item: Mapping[str, Any]
) -> dict[str, Any]:
    """Score every segment of one work item; return their combined summary."""
    segments = item.get("segments")
    if not isinstance(segments, list):
        raise BatchJobError("a work item must be an object with a list of segments")
    total = empty_summary()
    for seg in segments:
        etag = seg.get(c.SEGMENT_ETAG)
        add_summary(
            total,
            score_segment(store, job, model, seg["key"], int(seg["start"]), int(seg["end"]), etag),
        )
    return total
