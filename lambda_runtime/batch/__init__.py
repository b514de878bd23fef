"""Batch entry point: score the rows of S3 objects (or local files) with the deployed model.

Handler string :data:`lambda_runtime.contract.BATCH_HANDLER`; the HTTP handler also hands it every
event of the shape ``{"cdk_sklearn_batch": {...}}``, so an endpoint's ``live`` alias can do batch
work with the model it has already loaded. Three actions, each one Lambda invocation:

``plan``
    List the objects under the input prefix (or the one object an upload event names), cut them
    into *work items* and write them as a JSON Lines manifest, which the Distributed Map reads.
    A work item is a list of *segments* ``{"key", "start", "end", "etag"}`` (byte ranges, end
    exclusive, and the object's ETag when listed) covering at most ``split_bytes`` of input: a
    large object is split into ranges of that size, small objects are packed together. The packing
    is by data bytes, which Step Functions' ``ItemBatcher`` cannot see (it counts items and their
    JSON bytes only).
``score``
    For each segment: read the byte range with a ranged GET (``If-Match`` the planned ETag: an
    object replaced since fails its work item, :class:`ObjectChanged`) and align it to lines (a range owns
    the lines that *start* inside it: it skips the partial line it starts in, unless it starts at
    0, and reads past its end to finish its last line), decode rows with the request codec's
    rules, predict in mini-batches, and write one output object and, when rows were malformed,
    one errors object, at keys derived from the object and the range start only
    (:func:`~lambda_runtime.contract.batch_output_key`): a rerun overwrites, never duplicates.
    Memory is bounded by the mini-batch and the range's output, never by the object's size. A CSV
    header that cannot match the model (:func:`header_mismatch`) refuses every row of the segment
    with one reason naming the columns and the fix, without running the model.
``summarize``
    Add up the summaries Step Functions' result writer stored for the run's children, list the
    work items that failed, and write the run summary and the run's output manifest (exactly the
    output and error objects it wrote; an earlier run's with another split may remain beside them).

Row identity: ``id_column`` when given (its raw text for CSV), else the object key and the byte
offset of the row's line, which stay the same whatever the split. A row that cannot be decoded or
that the model refuses, or that causes any other error that is not the infrastructure's
(:data:`~.job.INFRASTRUCTURE_ERRORS`), goes to the errors object with its reason; nothing is dropped
silently (blank lines are not rows): rows = predicted + errors. Lines end in LF or CRLF; a line
longer than :data:`~lambda_runtime.contract.MAX_LINE_BYTES` is an error record, skipped without
being kept. CSV records must not contain line breaks inside quoted fields.

The model is loaded by the store (:func:`load_batch_model`) and run through the runtime's one predict
step (:mod:`lambda_runtime.predict`), the same the HTTP routes use.

Modules, in the order a row meets them: :mod:`.job` (the job and its errors), :mod:`.storage` (S3 or
folders), :mod:`.plan`, :mod:`.lines` (byte ranges cut into lines), :mod:`.rows` (lines decoded into
rows), :mod:`.header` (the CSV header checked against the model, once per object), :mod:`.fast`
(the vectorized CSV paths), :mod:`.score`, :mod:`.output`, :mod:`.summary`, and
:mod:`.entry` (the actions). This package re-exports what callers use.
"""

from __future__ import annotations

from .entry import handle_batch, handler, load_batch_model, preload
from .header import HeaderUnreadable, header_mismatch, parse_header
from .job import BatchJobError, BatchRetryableError, Job, ObjectChanged
from .lines import first_line, owned_line_blocks, owned_lines
from .plan import MAX_WORK_ITEM_JSON_BYTES, plan, plan_work_items
from .score import MINI_BATCH_ROWS, score_segment, score_work_item
from .storage import Listed, LocalStore, ObjectStore, S3Store
from .summary import add_summary, empty_summary, summarize, write_summary

__all__ = [
    "MAX_WORK_ITEM_JSON_BYTES",
    "MINI_BATCH_ROWS",
    "BatchJobError",
    "BatchRetryableError",
    "HeaderUnreadable",
    "Job",
    "Listed",
    "LocalStore",
    "ObjectChanged",
    "ObjectStore",
    "S3Store",
    "add_summary",
    "empty_summary",
    "first_line",
    "handle_batch",
    "handler",
    "header_mismatch",
    "load_batch_model",
    "owned_line_blocks",
    "owned_lines",
    "parse_header",
    "plan",
    "plan_work_items",
    "preload",
    "score_segment",
    "score_work_item",
    "summarize",
    "write_summary",
]
