"""Where batch reads and writes: S3 in Lambda (boto3, imported only here), folders locally."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any, NamedTuple, Protocol

from .job import BatchRetryableError, ObjectChanged

READ_CHUNK = 1 << 20
"""Bytes per read from an object."""
_RETRYABLE_S3_CODES = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError", "ServiceUnavailable"}
)


class Listed(NamedTuple):
    """An object as listed: its key, size and version tag (S3's ETag)."""

    key: str
    size: int
    etag: str | None


class ObjectStore(Protocol):
    """The four storage operations the batch entry needs."""

    def list(self, bucket: str, prefix: str) -> Iterator[Listed]:
        """Yield the objects under ``prefix``, in key order."""
        ...

    def read(self, bucket: str, key: str, first: int, etag: str | None = None) -> Iterator[bytes]:
        """Yield the object's bytes from offset ``first`` to its end, in chunks (stop any time).

        With ``etag``, raise :class:`~.job.ObjectChanged` when the object is no longer that version.
        """
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

    def list(self, bucket: str, prefix: str) -> Iterator[Listed]:
        """See :meth:`ObjectStore.list`."""
        paginator = self._s3.get_paginator("list_objects_v2")
        with _s3_errors(f"listing s3://{bucket}/{prefix}"):
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                for entry in page.get("Contents", ()):
                    yield Listed(entry["Key"], int(entry["Size"]), entry.get("ETag"))

    def read(self, bucket: str, key: str, first: int, etag: str | None = None) -> Iterator[bytes]:
        """See :meth:`ObjectStore.read` (``If-Match``: S3 answers 412 for another version)."""
        match = {"IfMatch": etag} if etag is not None else {}
        with _s3_errors(f"reading s3://{bucket}/{key}", bucket, key, etag):
            body = self._s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={first}-", **match)["Body"]
            try:
                yield from body.iter_chunks(READ_CHUNK)
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
    def __init__(self, what: str, bucket: str = "", key: str = "", etag: str | None = None) -> None:
        self.what = what
        self.bucket, self.key, self.etag = bucket, key, etag

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
            if self.etag is not None and code in ("PreconditionFailed", "412", "NoSuchKey"):
                raise ObjectChanged(self.bucket, self.key, self.etag) from exc
        elif isinstance(exc, BotoCoreError):  # connection errors, timeouts, truncated reads
            raise BatchRetryableError(f"{self.what}: {exc}") from exc


def _s3_errors(what: str, bucket: str = "", key: str = "", etag: str | None = None) -> _S3Errors:
    return _S3Errors(what, bucket, key, etag)


def _local_etag(path: Path, handle: IO[bytes] | None = None) -> str:
    """A local file's version tag: its size and modification time (what a rewrite changes)."""
    stat = os.fstat(handle.fileno()) if handle is not None else path.stat()
    return f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'


class LocalStore:
    """:class:`ObjectStore` over local folders: bucket name -> folder, key -> relative path."""

    def __init__(self, roots: Mapping[str, Path]) -> None:
        self._roots = {name: Path(root) for name, root in roots.items()}

    def _path(self, bucket: str, key: str) -> Path:
        return self._roots[bucket] / key

    def list(self, bucket: str, prefix: str) -> Iterator[Listed]:
        """See :meth:`ObjectStore.list`."""
        root = self._roots[bucket]
        keys = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        for key in keys:
            if key.startswith(prefix):
                path = self._path(bucket, key)
                yield Listed(key, path.stat().st_size, _local_etag(path))

    def read(self, bucket: str, key: str, first: int, etag: str | None = None) -> Iterator[bytes]:
        """See :meth:`ObjectStore.read` (the version tag is the file's size and modification time)."""
        try:
            handle = self._path(bucket, key).open("rb")
        except FileNotFoundError:
            if etag is None:
                raise
            raise ObjectChanged(bucket, key, etag) from None
        with handle:
            if etag is not None and _local_etag(self._path(bucket, key), handle) != etag:
                raise ObjectChanged(bucket, key, etag)
            handle.seek(first)
            while chunk := handle.read(READ_CHUNK):
                yield chunk

    def read_all(self, bucket: str, key: str) -> bytes:
        """See :meth:`ObjectStore.read_all`."""
        return self._path(bucket, key).read_bytes()

    def write(self, bucket: str, key: str, body: IO[bytes]) -> None:
        """See :meth:`ObjectStore.write` (written to a temporary file, then renamed).

        The temporary name is this write's own: processes writing the same key at once (several
        workers, or a rerun beside a run) each rename a whole file, and a reader never sees a part.
        """
        path = self._path(bucket, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.partial")
        try:
            with partial.open("xb") as out:
                while chunk := body.read(READ_CHUNK):
                    out.write(chunk)
            partial.replace(path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
