"""The model store: fetch the model file, verify its SHA-256, then (and only then) hand it to its engine.

Unpickling runs whatever code the file names, so the bytes are checked against ``MODEL_SHA256`` — the
digest the construct computed at synth time from the file it uploaded — before any engine sees them.
The engine is chosen here, once, by ``MODEL_FORMAT`` (:data:`contract.ENGINES`): joblib, pickle and
skops files go to the scikit-learn engine, ONNX files to the onnxruntime engine (:mod:`.engines`). The
:class:`~lambda_runtime.model.LoadedModel` it returns carries that engine: nothing above the store
looks an engine up again.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .config import Settings
from .contract import ENGINES
from .model import Engine, LoadedModel, ModelLoadError


def load_model(settings: Settings) -> LoadedModel:
    """Fetch, verify and deserialize the model described by ``settings``.

    Raises
    ------
    ModelLoadError
        When the settings are invalid, the file cannot be read, its digest does not match
        ``MODEL_SHA256``, or it does not deserialize into an estimator.
    """
    started = time.perf_counter()
    if settings.problems:
        raise ModelLoadError("the function is misconfigured: " + "; ".join(settings.problems))
    if settings.model_uri is None:
        raise ModelLoadError(
            "MODEL_URI is not set, so no model is loaded; set MODEL_URI to s3://bucket/key or a local "
            "path, and MODEL_SHA256 to the file's SHA-256"
        )
    if settings.model_sha256 is None:
        # Refuse rather than unpickle unverified bytes: unpickling runs arbitrary code.
        raise ModelLoadError(
            "MODEL_SHA256 is not set, and the model is never deserialized without checking its digest; "
            "set MODEL_SHA256 to the output of `sha256sum MODEL_FILE`",
            detail=f"MODEL_SHA256 is not set (MODEL_URI={settings.model_uri})",
        )
    data, digest = fetch_model_bytes(settings.model_uri)
    verify_sha256(data, settings.model_sha256, settings.model_uri, actual=digest)
    # The construct detected the format from the file's bytes at synth (MODEL_FORMAT); a file name
    # proves nothing, so it is never consulted.
    file_format = settings.model_format or "joblib"
    model = engine_for_format(file_format).load(data, settings, file_format)
    return replace(model, load_seconds=time.perf_counter() - started)


def engine_for_format(file_format: str) -> Engine:
    """The engine serving ``file_format`` (``MODEL_FORMAT``); scikit-learn's when unknown.

    Only the chosen engine's module is imported (here, on first use): a cold start pays for one
    engine and its library, never both.
    """
    if ENGINES.get(file_format, "sklearn") == "onnx":
        from .engines.onnx import ENGINE as onnx_engine

        return onnx_engine
    from .engines.sklearn import ENGINE as sklearn_engine

    return sklearn_engine


def fetch_model_bytes(uri: str) -> tuple[bytes, str]:
    """Return the bytes at ``uri`` (``s3://bucket/key``, ``file:///path`` or a local path).

    S3 reads are a SigV4-signed GET made with the standard library (:mod:`.s3_get`): boto3 is never
    imported on the serving path (:data:`contract.BOTO3_ENTRY_POINTS`). Like boto3 it honours
    ``AWS_ENDPOINT_URL_S3`` (and ``AWS_ENDPOINT_URL``), which the integration tests use to point it at
    an S3 server on loopback.
    """
    if uri.startswith("s3://"):
        return _fetch_s3(uri)
    path = Path(unquote(urlsplit(uri).path)) if uri.startswith("file://") else Path(uri)
    try:
        data = path.read_bytes()  # one read, no chunk joining: a local disk is not worth overlapping
        return data, hashlib.sha256(data).hexdigest()
    except OSError as exc:
        raise ModelLoadError(
            "the model file could not be read; check that MODEL_URI names an existing, readable file",
            detail=f"reading {path}: {exc}",
            retryable=True,
        ) from None


def verify_sha256(data: bytes, expected: str, uri: str = "", *, actual: str | None = None) -> None:
    """Raise :class:`ModelLoadError` unless ``sha256(data)`` equals ``expected`` (hex).

    ``actual`` is the digest when it was computed while reading ``data``.
    """
    actual = actual or hashlib.sha256(data).hexdigest()
    if actual != expected.lower():
        raise ModelLoadError(
            f"the model file failed its integrity check: its SHA-256 is {actual}, but MODEL_SHA256 is "
            f"{expected}; it was NOT loaded. Redeploy so that MODEL_SHA256 is the digest of the model file "
            "(the file may have been replaced or corrupted after deployment)",
            detail=f"sha256 mismatch for {uri}: expected {expected}, got {actual} ({len(data)} bytes)",
        )


def _fetch_s3(uri: str) -> tuple[bytes, str]:
    parts = urlsplit(uri)
    bucket, key = parts.netloc, parts.path.lstrip("/")
    if not bucket or not key:
        raise ModelLoadError(
            "MODEL_URI must look like s3://bucket/key, with both a bucket and a key",
            detail=f"bad MODEL_URI {uri!r}",
        )
    from .s3_get import S3GetError, get_object

    try:
        return get_object(bucket, key)  # hashed while it arrives
    except S3GetError as exc:
        raise ModelLoadError(
            f"the model file could not be read from S3 ({exc.code}); check that the object exists and that "
            "the function's role may s3:GetObject it. The function retries on later requests",
            detail=f"GetObject {uri}: {exc}",
            retryable=True,
        ) from None
