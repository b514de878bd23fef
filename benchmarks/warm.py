"""Warm latency: one process, the model loaded, many handler calls against calling ``predict`` directly.

The probe times a handler call and a direct ``predict`` call on the same rows (a float array, as the
handler decodes them) alternately with ``CLOCK_MONOTONIC``, after ten warm-up pairs, for up to
``budget_s`` seconds or ``max_calls`` pairs (at least 50), for one row and for 100 rows. The
handler's overhead is the median of the per-pair differences: alternating makes both calls of a pair
see the same load on a shared machine.
"""

from __future__ import annotations

import json
import random
import tempfile
from dataclasses import dataclass

from benchmarks.coldstart import Variant, probe_args, read_result
from benchmarks.models import BenchModel
from benchmarks.targets import Target

ROW_COUNTS = {"rows1": 1, "rows100": 100}


@dataclass(frozen=True)
class Timing:
    """Median and 99th percentile of one kind of call, in microseconds."""

    median_us: float
    p99_us: float
    calls: int


@dataclass(frozen=True)
class WarmResult:
    """Warm timings of one handler on one model, per row count."""

    variant: str
    model: BenchModel
    handler: dict[str, Timing]
    predict: dict[str, Timing]
    overhead: dict[str, Timing]

    def overhead_us(self, rows: str) -> float:
        """Median of (handler call - direct predict call) over the pairs."""
        return self.overhead[rows].median_us


def iris_like_rows(count: int, seed: int = 0) -> str:
    """``count`` rows of four plausible iris measurements, as JSON text."""
    rng = random.Random(seed)
    ranges = ((4.3, 7.9), (2.0, 4.4), (1.0, 6.9), (0.1, 2.5))  # iris's min and max per feature
    rows = [[round(rng.uniform(low, high), 1) for low, high in ranges] for _ in range(count)]
    return json.dumps(rows)


def _timing(raw: dict[str, int]) -> Timing:
    return Timing(raw["median_ns"] / 1000, raw["p99_ns"] / 1000, raw["n"])


def warm_latency(
    variant: Variant, target: Target, model: BenchModel, budget_s: float, max_calls: int
) -> WarmResult:
    """Measure one handler's warm latency on one model in a single fresh process."""
    args = probe_args(variant, target, model)
    args[0] = "warm"
    args = [a for a in args if not a.startswith(("rows=", "wrap="))]
    args += [f"model={target.stage(model.path)}", f"budget_s={budget_s}", f"max_calls={max_calls}"]
    args += [f"{label}={model.rows_text(n) or iris_like_rows(n)}" for label, n in ROW_COUNTS.items()]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = target.popen(args, variant.model_env(target.stage(model.path)), stdout=out, stderr=err)
        process.wait()
        out.seek(0)
        err.seek(0)
        result = read_result(out.read().decode(), err.read().decode(), f"{variant.name} warm on {model.name}")
    warm: dict[str, dict[str, dict[str, int]]] = result["warm"]  # type: ignore[assignment]
    return WarmResult(
        variant.name,
        model,
        {rows: _timing(warm[rows]["handler"]) for rows in ROW_COUNTS},
        {rows: _timing(warm[rows]["predict"]) for rows in ROW_COUNTS},
        {rows: _timing(warm[rows]["overhead"]) for rows in ROW_COUNTS},
    )
