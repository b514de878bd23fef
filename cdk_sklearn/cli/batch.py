"""``cdk-sklearn batch``: score a folder of CSV or JSON Lines files with the batch entry point's code.

The same plan, score and summary functions the Lambda batch entry runs (``lambda_runtime.batch``),
over local folders instead of S3: the output folder gets the same layout as the output prefix
(``<file>/part-<range start>.<format>``, ``errors-<range start>.jsonl``, ``_runs/<run>/`` with the
summary and the output manifest). Bad rows are error records, never a traceback; a work item that
fails (its job is wrong, its file changed) is listed on stderr and the exit code is 1. Work
items are scored by a pool of processes, streaming each byte range. Where workers are forked (the
default start method on Linux before Python 3.14), this process imports the function code and
loads the model once and the workers inherit both; otherwise each worker loads the model itself.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, TextIO

from cdk_sklearn.cli.main import UsageError
from lambda_runtime import contract

MiB = 1024 * 1024
LOCAL_RUN = "local"
# Small enough that every process gets several work items, large enough to amortize each one's
# start (a header read, an output file).
_MIN_SPLIT = 1 * MiB
_ITEMS_PER_WORKER = 4

# Each worker process holds the model it loaded once, or inherited (see _init_worker).
_WORKER: dict[str, Any] = {}


def register(subparsers: Any) -> None:
    """Add the ``batch`` sub-command to the CLI."""
    parser = subparsers.add_parser(
        "batch",
        help="score a folder of CSV/JSONL files with the batch entry point, on this machine's cores",
        description=(
            "Score every file under INPUT with MODEL, as SklearnBatchScoring does on Step Functions: "
            "the same code, the same output layout (predictions, errors, run summary) under OUTPUT."
        ),
    )
    parser.add_argument("--model", required=True, type=Path, help="model file (.joblib, .pkl or .skops)")
    parser.add_argument("--input", required=True, type=Path, help="folder of input files")
    parser.add_argument("--output", required=True, type=Path, help="folder for predictions and errors")
    parser.add_argument("--format", choices=contract.BATCH_FORMATS, default="csv", help="default csv")
    parser.add_argument("--id-column", default=None, help="column carried into the output as the row id")
    parser.add_argument(
        "--method", choices=contract.PREDICTION_METHODS, default="predict", help="default predict"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes (default: the CPU count)"
    )
    parser.add_argument(
        "--split-mib",
        type=int,
        default=None,
        help="input MiB per work item (default: spread over the workers, at most 64)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    parser.set_defaults(func=run)


def _init_worker(environment: dict[str, str], threads: int) -> None:
    _load(environment)
    # The workers share the cores: an estimator's OpenMP threads (gradient boosting, ...) are
    # limited to the worker's share, or each worker would start one per core and they would spin
    # against each other (HistGradientBoosting: 0.5x -> 0.8x of the baseline on 2 cores). BLAS is
    # left alone: OpenBLAS rebuilds its pool in a forked child on the first call, ~0.1 s per worker.
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover (a scikit-learn dependency)
        return
    threadpool_limits(threads, user_api="openmp")


def _load(environment: dict[str, str]) -> None:
    if "model" in _WORKER and _WORKER.get("environment") == environment:
        return  # forked from the process that loaded it
    from lambda_runtime.batch import load_batch_model, preload
    from lambda_runtime.config import Settings

    _WORKER["model"] = model = load_batch_model(Settings.from_environ(environment))
    _WORKER["environment"] = environment
    preload(model)


def _score(store_roots: dict[str, str], job_fields: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    from lambda_runtime.batch import Job, LocalStore, score_work_item

    store = LocalStore({name: Path(root) for name, root in store_roots.items()})
    return score_work_item(store, Job.from_event(job_fields), _WORKER["model"], item)


class Progress:
    """One stderr line rewritten in place: bytes and rows done, rate, errors."""

    def __init__(self, total_bytes: int, stream: TextIO, enabled: bool) -> None:
        self.total = max(total_bytes, 1)
        self.done = 0
        self.rows = 0
        self.errors = 0
        self.started = time.perf_counter()
        self.stream = stream
        self.enabled = enabled
        self._last = 0.0

    def update(self, item_bytes: int, summary: dict[str, Any], *, final: bool = False) -> None:
        self.done += item_bytes
        self.rows += int(summary.get(contract.SUMMARY_ROWS, 0))
        self.errors += int(summary.get(contract.SUMMARY_ERRORS, 0))
        now = time.perf_counter()
        if not self.enabled or (now - self._last < 0.2 and not final):
            return
        self._last = now
        elapsed = max(now - self.started, 1e-9)
        line = (
            f"\r{100.0 * self.done / self.total:5.1f}% {self.done / MiB:,.1f}/{self.total / MiB:,.1f} MiB "
            f"{self.rows:,} rows ({self.rows / elapsed:,.0f} rows/s) {self.errors:,} errors"
        )
        self.stream.write(line + ("\n" if final else ""))
        self.stream.flush()


def run(args: argparse.Namespace) -> int:
    """Plan, score in parallel, write the run summary; print it as JSON."""
    # Imported here: the batch entry point is function code, run in this process like `serve` does.
    from cdk_sklearn.cli.serve import model_environment
    from lambda_runtime.batch import Job, LocalStore, empty_summary, plan, write_summary

    if not args.input.is_dir():
        raise UsageError(f"--input {str(args.input)!r} is not a folder")
    if args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")
    output = args.output.resolve()
    source = args.input.resolve()
    if output == source or source in output.parents or output in source.parents:
        raise UsageError("--output must not be --input, inside it, or contain it")
    output.mkdir(parents=True, exist_ok=True)
    environment = model_environment(args.model, None)
    roots = {"input": str(source), "output": str(output)}
    store = LocalStore({name: Path(root) for name, root in roots.items()})
    total = sum(entry.size for entry in store.list("input", ""))
    split = args.split_mib * MiB if args.split_mib else _split_for(total, args.workers)
    job = Job(
        bucket="input",
        input_prefix="",
        output_bucket="output",
        output_prefix="",
        format=args.format,
        id_column=args.id_column,
        method=args.method,
        split_bytes=split,
    )
    planned = plan(store, job, LOCAL_RUN)
    manifest = store.read_all("output", planned["manifest_key"]).decode()
    items = [json.loads(line) for line in manifest.splitlines()]
    progress = Progress(planned["bytes"], sys.stderr, enabled=not args.quiet)
    summary = empty_summary()
    failed = _score_all(items, roots, job.to_event(), environment, args.workers, summary, progress)
    progress.update(0, {}, final=True)
    counts = write_summary(store, job, LOCAL_RUN, summary, failed)
    print(json.dumps({**counts, "output": str(output)}, indent=2))
    for entry in failed:
        print(f"cdk-sklearn batch: work item failed: {entry['error']}", file=sys.stderr)
    return 1 if failed else 0


def _score_all(
    items: list[dict[str, Any]],
    roots: dict[str, str],
    job_fields: dict[str, Any],
    environment: dict[str, str],
    workers: int,
    summary: dict[str, Any],
    progress: Progress,
) -> list[dict[str, Any]]:
    """Score the work items on a pool of processes, adding up their summaries; return the failed
    items (as the state machine lists them: the item and why), the others still scored."""
    from lambda_runtime.batch import BatchJobError, BatchRetryableError, add_summary
    from lambda_runtime.model import ModelLoadError

    failed: list[dict[str, Any]] = []
    context = multiprocessing.get_context()
    try:
        if context.get_start_method() == "fork":
            # One import of the model's libraries and one model load, shared by the forked workers
            # (copy on write), instead of one per worker: on 2 cores that is most of a short run.
            _load(environment)
        threads = max(1, (os.cpu_count() or 1) // workers)
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init_worker, initargs=(environment, threads)
        ) as pool:
            pending: dict[Future[dict[str, Any]], dict[str, Any]] = {
                pool.submit(_score, roots, job_fields, item): item for item in items
            }
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    item = pending.pop(future)
                    try:
                        part = future.result()
                    except (BatchJobError, BatchRetryableError, OSError) as exc:
                        failed.append({"status": "FAILED", "input": item, "error": str(exc)})
                        part = {}
                    add_summary(summary, part)
                    progress.update(int(item["bytes"]), part)
    except ModelLoadError as exc:
        raise UsageError(f"the model cannot be loaded: {exc.public_message}") from None
    finally:
        _WORKER.clear()
    return failed


def _split_for(total_bytes: int, workers: int) -> int:
    """Input bytes per work item: several items per worker, within 1 to 64 MiB."""
    share = total_bytes // max(workers * _ITEMS_PER_WORKER, 1)
    return max(_MIN_SPLIT, min(contract.DEFAULT_SPLIT_BYTES, share))
