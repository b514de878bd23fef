"""The ``plan`` action: cut the input objects into work items and write them as the Map's manifest."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from .. import contract as c
from .job import BatchJobError, Job
from .storage import ObjectStore

MAX_WORK_ITEM_JSON_BYTES = 64 * 1024
"""A work item's JSON stays under this, so a batch of one item is far below Step Functions' 256 KiB."""


def plan_work_items(
    objects: Iterable[tuple[str, int] | tuple[str, int, str | None]], split_bytes: int
) -> Iterator[dict[str, Any]]:
    """Cut ``(key, size)`` or ``(key, size, etag)`` objects into work items of at most ``split_bytes``
    input bytes each; a segment carries its object's ETag (:data:`~lambda_runtime.contract.SEGMENT_ETAG`)
    when it is known.

    Empty objects and folder markers (keys ending in ``/``) hold no rows and are left out.
    """
    segments: list[dict[str, Any]] = []
    total = 0
    json_bytes = 0
    for key, size, *version in objects:
        if size <= 0 or key.endswith("/"):
            continue
        etag = version[0] if version else None
        for start in range(0, size, split_bytes):
            end = min(start + split_bytes, size)
            segment: dict[str, Any] = {"key": key, "start": start, "end": end}
            if etag is not None:
                segment[c.SEGMENT_ETAG] = etag
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
    objects = [entry for entry in listed if object_key is None or entry.key == object_key]
    items = list(plan_work_items(objects, job.split_bytes))
    manifest = "".join(json.dumps(item, separators=(",", ":")) + "\n" for item in items).encode()
    key = c.batch_manifest_key(job.output_prefix, run)
    store.write(job.output_bucket, key, io.BytesIO(manifest))
    return {
        "manifest_bucket": job.output_bucket,
        "manifest_key": key,
        "work_items": len(items),
        "objects": len(objects),
        "bytes": sum(entry.size for entry in objects),
    }
