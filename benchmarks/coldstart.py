"""Cold start: a fresh interpreter until the first prediction is answered, split into phases.

The parent reads ``CLOCK_MONOTONIC`` and starts the probe (``benchmarks/probe.py``) under
``-X importtime``; the probe marks its first line, the end of the handler import and the answer on
stderr with the same clock. Phases, in milliseconds:

interpreter
    parent's clock before the start -> the probe's first line (exec, interpreter and stdlib start-up).
imports
    the sum of the *self* times CPython reports for every module imported after the first line — module
    bodies and, without ``.pyc``, compiling them — wherever the import happened (a handler module's body,
    or unpickling, which imports the estimator's modules).
model
    fetch + verify + load, imports excluded: for our handler, which loads at import time, the handler
    module's own body time; for a lazy handler, the time inside its loader function (timed by wrapping
    it, the only change made to its code), minus the imports that happened inside.
first_prediction
    the rest, up to the answer: building the event, the first handler call's decode, predict, encode.
"""

from __future__ import annotations

import ast
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.models import BenchModel
from benchmarks.targets import Target

PHASES = ("interpreter", "imports", "model", "first_prediction")
IRIS_ROW = "[[5.1, 3.5, 1.4, 0.2]]"


@dataclass(frozen=True)
class Variant:
    """One way of answering the first request: a handler with its layer, or the floor.

    Parameters
    ----------
    name
        Shown in the report, e.g. ``cdk-sklearn``.
    paths
        Prepended to ``sys.path`` in this order (function code first, as on Lambda).
    model_env
        The environment variables that point the handler at a model file (given as the child sees it).
    handler
        ``module:function``; empty for the floor.
    body_key
        The key of the rows in the request body (``instances`` for ours, ``input`` for sklearn-lambda).
    entry_module
        For a handler that loads at import time: the module whose own body time is the model phase.
    wrap
        For a lazy handler: ``module:function`` that loads the model, timed from inside the probe.
    """

    name: str
    paths: tuple[Path, ...]
    model_env: Callable[[str], dict[str, str]] = field(default=lambda _model: {})
    handler: str = ""
    body_key: str = "instances"
    entry_module: str | None = None
    wrap: str | None = None

    @property
    def is_floor(self) -> bool:
        return not self.handler


@dataclass(frozen=True)
class ColdRun:
    """One cold start, in milliseconds."""

    total: float
    phases: dict[str, float]


@dataclass(frozen=True)
class ColdResult:
    """The runs of one variant on one model, with medians."""

    variant: str
    model: BenchModel
    runs: list[ColdRun]

    @property
    def total(self) -> float:
        return statistics.median(r.total for r in self.runs)

    def phase(self, name: str) -> float:
        return statistics.median(r.phases[name] for r in self.runs)


def parse_stderr(text: str, entry_module: str | None) -> tuple[dict[str, int], float, float, float]:
    """Return (marks in ns, import ms, model ms, import ms inside the load window) from probe stderr."""
    marks: dict[str, int] = {}
    imports_us = 0
    entry_us = 0
    load_imports_us = 0
    in_load = False
    for line in text.splitlines():
        if line.startswith("BENCH-MARK "):
            _, name, ns = line.split()
            marks[name] = int(ns)
            in_load = name == "load-start"
            continue
        if not line.startswith("import time:") or "start" not in marks or "[us]" in line:
            continue
        self_us_text, _cumulative, name = line[len("import time:") :].split("|")
        self_us = int(self_us_text)
        if entry_module is not None and name.strip() == entry_module:
            entry_us += self_us
            continue
        imports_us += self_us
        if in_load:
            load_imports_us += self_us
    if entry_module is not None:
        model_ms = entry_us / 1000
    elif "load-start" in marks and "load-end" in marks:
        model_ms = (marks["load-end"] - marks["load-start"]) / 1e6 - load_imports_us / 1000
    else:
        model_ms = 0.0
    return marks, imports_us / 1000, model_ms, load_imports_us / 1000


def probe_args(variant: Variant, target: Target, model: BenchModel) -> list[str]:
    """The probe's arguments for one cold start."""
    paths = [f"path={target.stage(p)}" for p in variant.paths]
    if variant.is_floor:
        return ["floor", *paths, f"model={target.stage(model.path)}"]
    args = [
        "cold",
        *paths,
        f"handler={variant.handler}",
        f"key={variant.body_key}",
        f"rows={model.rows_text(1) or IRIS_ROW}",
    ]
    if variant.wrap:
        args.append(f"wrap={variant.wrap}")
    return args


def read_result(stdout: str, stderr: str, what: str) -> dict[str, object]:
    """The probe's summary line; raise with its output when it failed or the handler did not say 200."""
    for line in stdout.splitlines():
        if line.startswith("BENCH "):
            result: dict[str, object] = ast.literal_eval(line[len("BENCH ") :])
            if result.get("status") == 200:
                return result
            raise RuntimeError(f"{what}: the handler answered {result.get('status')}: {result.get('body')}")
    tail = "\n".join(line for line in stderr.splitlines() if not line.startswith("import time:"))[-3000:]
    raise RuntimeError(f"{what}: the probe gave no result; its stderr:\n{tail}")


def cold_start_once(variant: Variant, target: Target, model: BenchModel) -> ColdRun:
    """Start a fresh interpreter, answer one request, return its phases."""
    args = probe_args(variant, target, model)
    env = variant.model_env(target.stage(model.path))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        spawn = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        process = target.popen(args, env, stdout=out, stderr=err, importtime=True)
        process.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    what = f"{variant.name} cold start on {model.name} ({target.name})"
    read_result(stdout, stderr, what)
    marks, imports, model_ms, _ = parse_stderr(stderr, variant.entry_module)
    total = (marks["answered"] - spawn) / 1e6
    interpreter = (marks["start"] - spawn) / 1e6
    if variant.is_floor:
        # Floor: the numpy import, then reading the file; nothing else happens (no residual phase).
        imports = (marks["imported"] - marks["start"]) / 1e6
        model_ms = (marks["answered"] - marks["imported"]) / 1e6
    first = total - interpreter - imports - model_ms
    phases = {"interpreter": interpreter, "imports": imports, "model": model_ms, "first_prediction": first}
    return ColdRun(total, phases)


def cold_starts(
    variants: Sequence[Variant],
    target: Target,
    models: Sequence[BenchModel],
    runs: int,
    progress: Callable[[str], None] = print,
) -> list[ColdResult]:
    """Run every variant on every model ``runs`` times, interleaved so drift hits all alike."""
    collected: dict[tuple[str, str], list[ColdRun]] = {(v.name, m.name): [] for v in variants for m in models}
    for i in range(runs):
        for model in models:
            for variant in variants:
                run = cold_start_once(variant, target, model)
                collected[(variant.name, model.name)].append(run)
        progress(f"  cold start round {i + 1}/{runs} done")
    return [ColdResult(v.name, m, collected[(v.name, m.name)]) for m in models for v in variants]
