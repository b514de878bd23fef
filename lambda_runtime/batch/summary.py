"""Run summaries: the counts of a segment, a work item or a run, and the ``summarize`` action."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

from .. import contract as c
from .job import Job
from .storage import ObjectStore


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
    """Write the run's output manifest and summary objects; return the counts and the summary's key.

    The output manifest (:func:`~lambda_runtime.contract.batch_outputs_key`) lists exactly the
    output and error objects the run's scored work items wrote: objects under the output prefix that
    it does not list (an earlier run's, with another split) are not this run's. Nothing is deleted.
    """
    outputs = {
        "run": run,
        c.SUMMARY_OUTPUTS: sorted(total[c.SUMMARY_OUTPUTS]),
        c.SUMMARY_ERROR_OBJECTS: sorted(total[c.SUMMARY_ERROR_OBJECTS]),
        "complete": not failed,
    }
    outputs_key = c.batch_outputs_key(job.output_prefix, run)
    store.write(job.output_bucket, outputs_key, io.BytesIO(json.dumps(outputs, indent=1).encode()))
    document = {**total, "failed_work_items": failed, "outputs_manifest": outputs_key}
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
        "outputs_key": outputs_key,
    }
