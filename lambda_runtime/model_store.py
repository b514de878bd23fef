"""Fetch the model file, verify its SHA-256, then (and only then) deserialize it.

Unpickling runs whatever code the file names, so the bytes are checked against ``MODEL_SHA256`` — the
digest the construct computed at synth time from the file it uploaded — before joblib ever sees them.
``.skops`` files are loaded with ``skops.io`` and an explicit list of trusted types, never with pickle.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .config import Settings
from .contract import ENV_MODEL_SKLEARN_VERSION, SKOPS_FORMAT

PREDICTION_METHODS = ("predict", "predict_proba", "decision_function")
"""The estimator methods a request may ask for, in the order they are listed in metadata."""
# Read and hash the model in 1 MiB pieces.
_CHUNK = 1 << 20


class ModelLoadError(Exception):
    """The model could not be loaded.

    Parameters
    ----------
    public_message
        Shown to callers in 503 responses: says what is wrong and how to fix it, without bucket
        names, file paths or tracebacks.
    detail
        Logged only: everything an operator needs (URI, digests, exception text).
    retryable
        True when a later attempt may succeed (the file could not be fetched); False when the file
        itself is wrong (digest mismatch, not a model, cannot be deserialized).
    """

    def __init__(self, public_message: str, *, detail: str = "", retryable: bool = False) -> None:
        super().__init__(public_message)
        self.public_message = public_message
        self.detail = detail or public_message
        self.retryable = retryable


@dataclass(frozen=True)
class LoadedModel:
    """A verified, deserialized model and the facts about it that requests and metadata need.

    Attributes
    ----------
    estimator
        The scikit-learn estimator (or pipeline).
    sha256
        Hex digest of the model file, equal to ``MODEL_SHA256``.
    file_format
        ``"joblib"``, ``"pickle"`` or ``"skops"`` (``MODEL_FORMAT``).
    size_bytes
        Size of the model file.
    estimator_class
        Fully qualified class name, e.g. ``sklearn.pipeline.Pipeline``.
    n_features_in
        ``n_features_in_`` of the estimator, when it has one.
    feature_names_in
        ``feature_names_in_`` (the columns it was fitted on), when it was fitted on a DataFrame.
    classes
        ``classes_`` as JSON-ready values, for classifiers.
    methods
        The prediction methods this estimator has, among :data:`PREDICTION_METHODS`.
    load_warnings
        Warnings raised while deserializing (for example scikit-learn version mismatches).
    load_seconds
        Time spent fetching, verifying and deserializing.
    """

    estimator: Any
    sha256: str
    file_format: str
    size_bytes: int
    estimator_class: str
    n_features_in: int | None
    feature_names_in: tuple[str, ...] | None
    classes: list[Any] | None
    methods: tuple[str, ...]
    load_warnings: tuple[str, ...]
    load_seconds: float


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
    # Record what unpickling warns about (InconsistentVersionWarning above all) under the default
    # filters. An "always" filter here would also turn on the DeprecationWarnings that SciPy and
    # scikit-learn raise and ignore while the unpickler imports them: about 100 ms of cold start.
    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", category=UserWarning)
        try:
            if file_format == SKOPS_FORMAT:
                estimator = _load_skops(data, settings.skops_trusted_types)
            else:
                estimator = _load_joblib(data)
        except _DeserializeFailed as failed:
            raise _deserialize_error(failed, _training_version(settings, caught)) from None
    methods = tuple(m for m in PREDICTION_METHODS if _has(estimator, m))
    if not methods:
        raise ModelLoadError(
            f"the model file holds a {_class_name(estimator)}, which has none of the methods "
            f"{', '.join(PREDICTION_METHODS)}; save a fitted scikit-learn estimator or pipeline",
        )
    return LoadedModel(
        estimator=estimator,
        sha256=settings.model_sha256,
        file_format=file_format,
        size_bytes=len(data),
        estimator_class=_class_name(estimator),
        n_features_in=_n_features_in(estimator),
        feature_names_in=_feature_names_in(estimator),
        classes=_classes(estimator),
        methods=methods,
        load_warnings=tuple(f"{w.category.__name__}: {w.message}" for w in caught),
        load_seconds=time.perf_counter() - started,
    )


def fetch_model_bytes(uri: str) -> tuple[bytes, str]:
    """Return the bytes at ``uri`` (``s3://bucket/key``, ``file:///path`` or a local path).

    S3 reads go through boto3, imported only here, so a locally served model never pays for it. boto3
    honours ``AWS_ENDPOINT_URL_S3`` (and ``AWS_ENDPOINT_URL``), which the integration tests use to
    point it at an S3 server on loopback.
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


def _read_hashing(chunks: Iterable[bytes]) -> tuple[bytes, str]:
    # Hash each chunk as it arrives: over S3 the hashing overlaps the network wait (hashlib and
    # socket reads release the GIL), so verifying costs almost nothing on top of the download.
    digest = hashlib.sha256()
    parts = []
    for chunk in chunks:
        digest.update(chunk)
        parts.append(chunk)
    return b"".join(parts), digest.hexdigest()


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
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:  # pragma: no cover - boto3 ships with the Lambda Python runtime
        raise ModelLoadError("boto3 is not installed, so the model cannot be read from S3") from exc
    try:
        # A short connect timeout and a few retries: init has a 10 s budget before Lambda restarts it.
        client = boto3.client(
            "s3",
            config=Config(
                connect_timeout=5, read_timeout=60, retries={"max_attempts": 4, "mode": "standard"}
            ),
        )
        response = client.get_object(Bucket=bucket, Key=key)
        return _read_hashing(response["Body"].iter_chunks(_CHUNK))
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
        raise ModelLoadError(
            f"the model file could not be read from S3 ({code}); check that the object exists and that the "
            "function's role may s3:GetObject it. The function retries on later requests",
            detail=f"GetObject {uri}: {exc}",
            retryable=True,
        ) from None


def _load_joblib(data: bytes) -> Any:
    import joblib

    _preimport_sklearn()
    try:
        return joblib.load(io.BytesIO(data))
    except Exception as exc:
        raise _DeserializeFailed("joblib", exc) from None


class _DeserializeFailed(Exception):
    """Deserializing failed with ``error``; :func:`_deserialize_error` explains it to the caller."""

    def __init__(self, loader: str, error: BaseException) -> None:
        super().__init__(loader, error)
        self.loader = loader
        self.error = error


def _training_version(settings: Settings, caught: list[warnings.WarningMessage]) -> str | None:
    # MODEL_SKLEARN_VERSION comes from the construct's reading of the file; without it (a function
    # configured by hand), an estimator unpickled before the failure may have said which version
    # saved it (InconsistentVersionWarning).
    if settings.training_sklearn_version:
        return settings.training_sklearn_version
    for caught_warning in caught:
        version = getattr(caught_warning.message, "original_sklearn_version", None)
        if isinstance(version, str) and version:
            return version
    return None


def _installed_sklearn_version() -> str | None:
    try:
        import sklearn
    except ImportError:
        return None
    return str(sklearn.__version__)


def _deserialize_error(failed: _DeserializeFailed, trained_with: str | None) -> ModelLoadError:
    """Explain why the model did not deserialize, naming both versions when they differ.

    A model saved by another scikit-learn often fails on a private module or class that moved between
    versions (``No module named '_loss'``); naming that module would send the user looking for a
    package to install, when the fix is to match the versions.
    """
    exc = failed.error
    installed = _installed_sklearn_version()
    detail = (
        f"{failed.loader} load: {exc!r}; trained with scikit-learn {trained_with or 'unknown'}, "
        f"the function has {installed or 'none'}"
    )
    missing = exc.name if isinstance(exc, ModuleNotFoundError) and exc.name else None
    # A private top-level name ('_loss') is a compiled scikit-learn module pickled under its short
    # name: no package provides it, only the scikit-learn version that wrote it.
    of_sklearn = missing is not None and (missing.split(".")[0] == "sklearn" or missing.startswith("_"))
    third_party = missing is not None and not of_sklearn
    if installed and trained_with and trained_with != installed and not third_party:
        return ModelLoadError(
            f"the model was trained with scikit-learn {trained_with}, but the function has scikit-learn "
            f"{installed}, and the model does not load with it ({_cause(exc, installed)}); redeploy so "
            f"that the function's layer pins scikit-learn=={trained_with}, or retrain the model with "
            f"scikit-learn {installed} and deploy the new file",
            detail=detail,
        )
    if of_sklearn and installed and trained_with is None:
        return ModelLoadError(
            f"the model refers to the module {missing!r}, which scikit-learn {installed} in the function "
            "does not have, so it was probably saved with another scikit-learn version (not known here: "
            f"{ENV_MODEL_SKLEARN_VERSION} is not set); deploy it with the scikit-learn version it was "
            f"trained with, or retrain it with scikit-learn {installed}",
            detail=detail,
        )
    if missing is not None:
        return ModelLoadError(
            f"the model needs the Python module {missing!r}, which is not installed in the function; "
            "add the package that provides it to the layer",
            detail=detail,
        )
    if failed.loader == SKOPS_FORMAT:
        return ModelLoadError(
            f"the .skops model file could not be loaded ({type(exc).__name__}); check the skops and "
            "scikit-learn versions in the layer",
            detail=detail,
        )
    return ModelLoadError(
        f"the model file could not be deserialized with joblib ({type(exc).__name__}); check that it "
        "was saved with joblib.dump and that the layer's scikit-learn version matches the training one",
        detail=detail,
    )


def _cause(exc: BaseException, installed: str) -> str:
    name = getattr(exc, "name", None)
    if isinstance(exc, ModuleNotFoundError) and name:
        return f"it refers to the module {name!r}, which is not in scikit-learn {installed}"
    if isinstance(exc, AttributeError) and isinstance(name, str) and name:
        return f"it refers to {name!r}, which is not in scikit-learn {installed}"
    return f"{type(exc).__name__} while deserializing"


def _preimport_sklearn() -> None:
    # Import scikit-learn's core (and with it SciPy) from this shallow frame rather than letting the
    # unpickler do it from deep inside joblib's pure-Python unpickler and importlib: the same modules
    # measured 70-110 ms slower that way under CPython 3.13 (~15% of a cold start, benchmarks/).
    # Importing each module the pickle names up front as well gained nothing measurable.
    # A model of another library without scikit-learn: the unpickler imports what it needs.
    with contextlib.suppress(ImportError):
        import sklearn.base  # noqa: F401


def _load_skops(data: bytes, trusted: tuple[str, ...]) -> Any:
    try:
        import skops.io as sio
    except ImportError:
        raise ModelLoadError(
            "the model is a .skops file but skops is not installed in the function; add skops to the layer",
        ) from None
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:
        raise ModelLoadError(
            f"the .skops model file could not be read ({type(exc).__name__}); save it with skops.io.dump",
            detail=f"skops get_untrusted_types: {exc!r}",
        ) from None
    refused = sorted(set(untrusted) - set(trusted))
    if refused:
        raise ModelLoadError(
            f"the .skops model file contains types that are not trusted: {', '.join(refused)}; if you trust "
            "them, add them to SKOPS_TRUSTED_TYPES (comma-separated)",
        )
    try:
        return sio.loads(data, trusted=list(trusted) or None)
    except Exception as exc:
        raise _DeserializeFailed(SKOPS_FORMAT, exc) from None


def _has(estimator: Any, name: str) -> bool:
    # Pipelines expose methods through `available_if`, whose check can raise more than AttributeError.
    try:
        return callable(getattr(estimator, name, None))
    except Exception:
        return False


def _class_name(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _n_features_in(estimator: Any) -> int | None:
    try:
        value = getattr(estimator, "n_features_in_", None)
    except Exception:
        return None
    if isinstance(value, int) or _is_integer(value):
        return int(value)  # type: ignore[arg-type]  # a numpy integer
    return None


def _is_integer(value: Any) -> bool:
    try:
        import numpy as np

        return isinstance(value, np.integer)
    except ImportError:  # pragma: no cover
        return False


def _feature_names_in(estimator: Any) -> tuple[str, ...] | None:
    try:
        names = getattr(estimator, "feature_names_in_", None)
    except Exception:
        return None
    if names is None:
        return None
    return tuple(str(n) for n in names)


def _classes(estimator: Any) -> list[Any] | None:
    try:
        classes = getattr(estimator, "classes_", None)
    except Exception:
        return None
    if classes is None:
        return None
    if isinstance(classes, list):  # multi-output classifiers keep one array per output
        return [_to_list(c) for c in classes]
    return _to_list(classes)


def _to_list(values: Any) -> list[Any]:
    converted = values.tolist() if hasattr(values, "tolist") else list(values)
    return converted if isinstance(converted, list) else [converted]
