"""Runtime settings read from the environment the construct sets on the function.

Parsing never raises: a bad value is reported through :attr:`Settings.problems` so the function still
starts and answers 503 with the problem spelled out, instead of failing its init (which API Gateway
would only show as a bare 502).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from . import contract as c

DEFAULT_RELOAD_INTERVAL_SECONDS = 10.0

_SHA256 = re.compile(r"[0-9a-f]{64}")
_ROUTE_PREFIX = re.compile(r"(/[A-Za-z0-9._-]+)+")


@dataclass(frozen=True)
class Settings:
    """Typed view of the function's environment variables.

    Attributes
    ----------
    model_uri
        ``MODEL_URI``: ``s3://bucket/key``, ``file:///path`` or a local path; ``None`` when unset.
    model_sha256
        ``MODEL_SHA256``: lower-case hex digest the model bytes must match before they are unpickled.
    model_format
        ``MODEL_FORMAT``: ``joblib``, ``pickle``, ``skops`` or ``onnx``, as the construct detected it from
        the file's content; it picks the engine (:data:`contract.ENGINES`). ``None`` (unset) means
        joblib/pickle; the file name is never consulted.
    model_name
        ``MODEL_NAME``: name used by the Open Inference Protocol routes (default ``"model"``).
    training_sklearn_version
        ``MODEL_SKLEARN_VERSION``: scikit-learn version the model was trained with, or ``None``.
    max_body_bytes
        ``MAX_BODY_BYTES``: largest request body accepted (default 5 MiB).
    skops_trusted_types
        ``SKOPS_TRUSTED_TYPES``: comma-separated type names skops may load beyond its defaults.
    log_level
        ``LOG_LEVEL``: DEBUG, INFO (default), WARNING or ERROR.
    metrics_namespace
        ``METRICS_NAMESPACE``: CloudWatch namespace of the embedded metrics (default ``cdk-sklearn``).
    route_prefix
        ``ROUTE_PREFIX`` as path segments: on an API shared by several models, this model's routes
        sit under it (``/models/iris`` -> ``("models", "iris")``); empty by default.
    reload_interval_seconds
        ``MODEL_RELOAD_INTERVAL_SECONDS``: after a transient fetch failure (S3 unreachable), the
        shortest wait before a request triggers another attempt (default 10).
    problems
        One message per invalid variable; a non-empty tuple keeps the model from loading.
    """

    model_uri: str | None = None
    model_sha256: str | None = None
    model_format: str | None = None
    model_name: str = c.DEFAULT_MODEL_NAME
    training_sklearn_version: str | None = None
    max_body_bytes: int = c.DEFAULT_MAX_BODY_BYTES
    skops_trusted_types: tuple[str, ...] = ()
    log_level: str = "INFO"
    metrics_namespace: str = c.DEFAULT_METRICS_NAMESPACE
    reload_interval_seconds: float = DEFAULT_RELOAD_INTERVAL_SECONDS
    route_prefix: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Read the settings from ``environ`` (usually ``os.environ``); never raises."""
        problems: list[str] = []

        def text(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        sha = text(c.ENV_MODEL_SHA256)
        if sha is not None:
            sha = sha.lower()
            if not _SHA256.fullmatch(sha):
                problems.append(
                    f"MODEL_SHA256 must be 64 hexadecimal characters (a SHA-256 digest), got {sha[:80]!r}; "
                    "set it to the output of `sha256sum MODEL_FILE`"
                )

        name = text(c.ENV_MODEL_NAME) or c.DEFAULT_MODEL_NAME
        if not c.is_valid_model_name(name):
            problems.append(f"{c.ENV_MODEL_NAME} must be {c.MODEL_NAME_RULE}, got {name[:140]!r}")

        model_format = text(c.ENV_MODEL_FORMAT)
        if model_format is not None and model_format not in c.MODEL_FORMATS:
            problems.append(
                f"{c.ENV_MODEL_FORMAT} must be one of {', '.join(c.MODEL_FORMATS)}, got {model_format[:40]!r}"
            )

        max_body = _positive_number(
            environ, c.ENV_MAX_BODY_BYTES, c.DEFAULT_MAX_BODY_BYTES, int, problems, "a whole number of bytes"
        )
        reload_interval = _positive_number(
            environ,
            c.ENV_MODEL_RELOAD_INTERVAL_SECONDS,
            DEFAULT_RELOAD_INTERVAL_SECONDS,
            float,
            problems,
            "a number of seconds",
        )

        level = (text(c.ENV_LOG_LEVEL) or "INFO").upper()
        if level not in c.LOG_LEVELS:
            problems.append(f"{c.ENV_LOG_LEVEL} must be one of {', '.join(c.LOG_LEVELS)}, got {level[:40]!r}")
            level = "INFO"

        prefix = text(c.ENV_ROUTE_PREFIX) or ""
        if prefix and not _ROUTE_PREFIX.fullmatch(prefix):
            problems.append(
                f"{c.ENV_ROUTE_PREFIX} must look like /models/NAME (URL-safe segments), got {prefix[:80]!r}"
            )
            prefix = ""

        trusted = tuple(t.strip() for t in (text(c.ENV_SKOPS_TRUSTED_TYPES) or "").split(",") if t.strip())

        return cls(
            model_uri=text(c.ENV_MODEL_URI),
            model_sha256=sha,
            model_format=model_format if model_format in c.MODEL_FORMATS else None,
            model_name=name,
            training_sklearn_version=text(c.ENV_MODEL_SKLEARN_VERSION),
            max_body_bytes=int(max_body),
            skops_trusted_types=trusted,
            log_level=level,
            metrics_namespace=text(c.ENV_METRICS_NAMESPACE) or c.DEFAULT_METRICS_NAMESPACE,
            reload_interval_seconds=float(reload_interval),
            route_prefix=tuple(part for part in prefix.split("/") if part),
            problems=tuple(problems),
        )


def _positive_number(
    environ: Mapping[str, str],
    name: str,
    default: float,
    kind: type[int] | type[float],
    problems: list[str],
    what: str,
) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        problems.append(f"{name} must be {what} greater than 0, got {raw[:40]!r}")
        return default
    if not value > 0:
        problems.append(f"{name} must be {what} greater than 0, got {raw[:40]!r}")
        return default
    return value
