"""Structured JSON logs and CloudWatch embedded-metric-format (EMF) metrics, written to stdout.

Lines are written straight to stdout rather than through :mod:`logging`: the Lambda Python runtime
puts its own handler on the root logger that prefixes each line with a level, timestamp and request id
in text mode, which would stop CloudWatch from reading the EMF JSON. Each request produces exactly one
line: the request log record, carrying its metrics in the EMF ``_aws`` block, so a single write both
logs the request and publishes the metrics.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

from .contract import METRIC_UNITS

_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}


class JsonLogger:
    """Write one JSON object per line.

    Parameters
    ----------
    level
        Lowest level written by :meth:`log` (``DEBUG``, ``INFO``, ``WARNING`` or ``ERROR``).
        Request lines are always written: they carry the metrics.
    stream
        Where to write; ``sys.stdout`` (looked up at each write, so redirection works) when ``None``.
    service
        Value of the ``service`` field on every line.
    """

    def __init__(
        self, level: str = "INFO", stream: TextIO | None = None, service: str = "cdk-sklearn"
    ) -> None:
        self.threshold = _LEVELS.get(level.upper(), 20)
        self.stream = stream
        self.service = service
        self._directives: dict[tuple[str, tuple[str, ...], tuple[str, ...]], str] = {}

    def log(self, level: str, message: str, **fields: Any) -> None:
        """Write ``message`` with ``fields`` if ``level`` is at or above the threshold."""
        if _LEVELS.get(level, 40) < self.threshold:
            return
        record = {"level": level, "timestamp": _timestamp(), "service": self.service, "message": message}
        record.update(fields)
        self._write(record)

    def debug(self, message: str, **fields: Any) -> None:
        """Log at DEBUG."""
        self.log("DEBUG", message, **fields)

    def info(self, message: str, **fields: Any) -> None:
        """Log at INFO."""
        self.log("INFO", message, **fields)

    def warning(self, message: str, **fields: Any) -> None:
        """Log at WARNING."""
        self.log("WARNING", message, **fields)

    def error(self, message: str, **fields: Any) -> None:
        """Log at ERROR."""
        self.log("ERROR", message, **fields)

    def request(
        self,
        fields: Mapping[str, Any],
        metrics: Mapping[str, float],
        *,
        namespace: str,
        dimensions: Mapping[str, str],
    ) -> None:
        """Write the per-request line: ``fields`` plus ``metrics`` published through EMF.

        Parameters
        ----------
        fields
            Log fields (request id, route, status, latency...).
        metrics
            Metric name to value; names must be keys of :data:`METRIC_UNITS`.
        namespace
            CloudWatch namespace.
        dimensions
            Dimension name to value, the same set on every line (one metric series per model).
        """
        now = time.time()
        record: dict[str, Any] = {
            "level": "INFO",
            "timestamp": _timestamp(now),
            "service": self.service,
            "message": "request",
        }
        record.update(fields)
        record.update(dimensions)
        record.update(metrics)
        # The metric directive is the same for every line with the same metric names: serialize it
        # once. This line is on every request's path, so it is kept cheap.
        key = (namespace, tuple(dimensions), tuple(metrics))
        directive = self._directives.get(key)
        if directive is None:
            directive = json.dumps(
                [
                    {
                        "Namespace": namespace,
                        "Dimensions": [list(dimensions)],
                        "Metrics": [{"Name": name, "Unit": METRIC_UNITS[name]} for name in metrics],
                    }
                ],
                separators=(",", ":"),
            )
            self._directives[key] = directive
        try:
            body = _ENCODER.encode(record)
            line = f'{body[:-1]},"_aws":{{"Timestamp":{int(now * 1000)},"CloudWatchMetrics":{directive}}}}}\n'
            (self.stream or sys.stdout).write(line)
        except Exception:  # pragma: no cover - defensive: logging never fails a request
            pass

    def _write(self, record: Mapping[str, Any]) -> None:
        # Logging must never turn a good response into a failure (closed stream, odd field value).
        try:
            line = json.dumps(record, default=str, separators=(",", ":"))
            (self.stream or sys.stdout).write(line + "\n")
        except Exception:  # pragma: no cover - defensive
            pass


# One encoder for every line: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(default=str, separators=(",", ":"))


def _timestamp(now: float | None = None) -> str:
    now = time.time() if now is None else now
    return _second(int(now)) + f".{int(now % 1 * 1000):03d}Z"


@functools.lru_cache(maxsize=4)
def _second(epoch_second: int) -> str:
    # strftime once per second, not once per request line.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_second))
