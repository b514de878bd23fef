"""The batch job (the ``job`` object of every batch event) and the errors the state machine tells apart."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import contract as c
from ..model import ModelLoadError


class BatchRetryableError(Exception):
    """A failure a later attempt may not hit (S3 throttling, network); the state machine retries it."""


class BatchJobError(Exception):
    """The job cannot be done as described (bad event, unknown column, method the model lacks)."""


class ObjectChanged(BatchJobError):
    """An input object was replaced (or removed) after the run was planned: its work item fails, so
    no output mixes two versions of it; rerun the job to score the current version."""

    def __init__(self, bucket: str, key: str, etag: str | None) -> None:
        super().__init__(
            f"{bucket}/{key} changed after the run was planned (planned ETag {etag}); "
            "its work item is not scored: rerun the job to score the current version"
        )
        self.where = (bucket, key, etag)

    def __reduce__(self) -> tuple[type[ObjectChanged], tuple[str, str, str | None]]:
        # A worker process of `cdk-sklearn batch` sends it back pickled: rebuilt from its own
        # arguments, not from the message (which would break the pool instead of failing the item).
        return type(self), self.where


INFRASTRUCTURE_ERRORS = (BatchJobError, BatchRetryableError, ModelLoadError, OSError, MemoryError)
"""Failures of the job, the storage, the model's loading or the machine: they fail the work item
(the state machine retries the retryable ones). Any other exception raised while decoding or
predicting some rows is taken as caused by those rows' data (a JSON line nested too deeply, a
category an ONNX encoder refuses with onnxruntime's ``Fail``...): isolated, it is that row's error."""

assert BatchRetryableError.__name__ == c.RETRYABLE_BATCH_ERROR  # the state machine retries it by name


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
