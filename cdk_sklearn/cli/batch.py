"""``cdk-sklearn batch``: score a folder of CSV or JSON Lines files with the batch entry point's code.

The same plan, score and summary functions the Lambda batch entry runs (``lambda_runtime.batch``),
over local folders instead of S3: the output folder gets the same layout as the output prefix
(``<file>/part-<range start>.<format>``, ``errors-<range start>.jsonl``, ``_runs/<run>/`` with the
summary and the output manifest).

It fails early and once: before any row is scored, the model is loaded, the method checked, and
the header of every CSV file checked against the model's columns (the runtime's own check,
:func:`lambda_runtime.batch.header_mismatch`); a file that cannot match stops the command with the
columns at fault and the fix (exit 2), instead of one identical error record per row. Then bad rows
are error records, never a traceback; a work item that fails (its file changed or became
unreadable) is listed on stderr. The exit code tells a script what happened
(:data:`EXIT_CODES`), and the last stderr line sums it up.

Work items are scored by a pool of processes, streaming each byte range. Where workers are forked
(the default start method on Linux before Python 3.14), they inherit the model this process loaded
for the checks; otherwise (and for LightGBM models, whose load starts threads a fork cannot carry)
each worker loads the model itself.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import textwrap
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from cdk_sklearn.cli.main import UsageError
from lambda_runtime import contract

if TYPE_CHECKING:
    from lambda_runtime.batch import Job, ObjectStore
    from lambda_runtime.model import LoadedModel

MiB = 1024 * 1024
LOCAL_RUN = "local"
# Small enough that every process gets several work items, large enough to amortize each one's
# start (a header read, an output file).
_MIN_SPLIT = 1 * MiB
_ITEMS_PER_WORKER = 4

# Each worker process holds the model it loaded once, or inherited (see _init_worker).
_WORKER: dict[str, Any] = {}

EXIT_ANSWERED = 0
EXIT_FAILED = 1
EXIT_UNSCORABLE = 2
EXIT_REFUSED = 3
EXIT_CODES: dict[int, str] = {
    EXIT_ANSWERED: "every row was answered",
    EXIT_FAILED: "a work item failed (a file changed or became unreadable while the command ran), "
    "or an unexpected error; the rows of the other work items are written",
    EXIT_UNSCORABLE: "nothing was scored: bad arguments, a model that cannot be loaded or lacks "
    "--method, or a CSV header that cannot match the model's columns",
    EXIT_REFUSED: "finished with some rows refused: predictions and error records are written",
}
"""What each exit code of ``cdk-sklearn batch`` means (``--help`` and the docs print this table)."""
_THREADS_AT_LOAD = ("lightgbm",)
"""Libraries whose models start GNU OpenMP threads as they load (LightGBM parses its trees in
parallel). libgomp is not fork-safe once its thread pool exists: a worker forked after the load waits
forever on its first prediction. Their workers are spawned, each loading the model itself."""
_MAX_HEADER_PROBLEMS = 5
"""Distinct header problems listed before the rest are counted."""


def register(subparsers: Any) -> None:
    """Add the ``batch`` sub-command to the CLI."""
    parser = subparsers.add_parser(
        "batch",
        help="score a folder of CSV/JSONL files with the batch entry point, on this machine's cores",
        description=(
            "Score every file under INPUT with MODEL, as SklearnBatchScoring does on Step Functions: "
            "the same code, the same output layout (predictions, errors, run summary) under OUTPUT. "
            "Each CSV header is checked against the model's columns before any row is scored."
        ),
        epilog="exit codes:\n"
        + "\n".join(
            textwrap.fill(meaning, 96, initial_indent=f"  {code}  ", subsequent_indent="     ")
            for code, meaning in EXIT_CODES.items()
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, type=Path, help="model file (.joblib, .pkl or .skops)")
    parser.add_argument("--input", required=True, type=Path, help="folder of input files")
    parser.add_argument("--output", required=True, type=Path, help="folder for predictions and errors")
    parser.add_argument("--format", choices=contract.BATCH_FORMATS, default="csv", help="default csv")
    parser.add_argument(
        "--id-column",
        default=None,
        help="column carried into the output as the row id, not scored (e.g. a customer id)",
    )
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
    parser.add_argument("--quiet", action="store_true", help="no progress line (the summary line stays)")
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


def _load(environment: dict[str, str]) -> LoadedModel:
    if "model" in _WORKER and _WORKER.get("environment") == environment:
        loaded: LoadedModel = _WORKER["model"]  # forked from the process that loaded it
        return loaded
    from lambda_runtime.batch import load_batch_model, preload
    from lambda_runtime.config import Settings

    _WORKER["model"] = model = load_batch_model(Settings.from_environ(environment))
    _WORKER["environment"] = environment
    preload(model)
    return model


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
    """Check, plan, score in parallel, write the run summary; print it as JSON and one summary line."""
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
    try:
        check_job(store, job, _loaded(environment))
        output.mkdir(parents=True, exist_ok=True)
        planned = plan(store, job, LOCAL_RUN)
        manifest = store.read_all("output", planned["manifest_key"]).decode()
        items = [json.loads(line) for line in manifest.splitlines()]
        progress = Progress(planned["bytes"], sys.stderr, enabled=not args.quiet)
        summary = empty_summary()
        failed = _score_all(items, roots, job.to_event(), environment, args.workers, summary, progress)
    finally:
        _WORKER.clear()
    progress.update(0, {}, final=True)
    counts = write_summary(store, job, LOCAL_RUN, summary, failed)
    print(json.dumps({**counts, "output": str(output)}, indent=2))
    for entry in failed:
        print(f"cdk-sklearn batch: work item failed: {entry['error']}", file=sys.stderr)
    print(summary_line(counts, summary, output), file=sys.stderr)
    return exit_code(counts)


def _loaded(environment: dict[str, str]) -> LoadedModel:
    """The model, loaded in this process for the checks (forked workers inherit it)."""
    from lambda_runtime.model import ModelLoadError

    try:
        return _load(environment)
    except ModelLoadError as exc:
        raise UsageError(f"the model cannot be loaded: {exc.public_message}") from None


def check_job(store: ObjectStore, job: Job, model: LoadedModel) -> None:
    """Refuse, before anything is scored, a job no row of which could be scored.

    The method must be one the model has, and every CSV file's header must be able to match the
    model's columns (:func:`lambda_runtime.batch.header_mismatch`, the check the ``score`` action
    makes per object). Raises :class:`~cdk_sklearn.cli.main.UsageError` naming the files, the
    columns at fault and the fix.
    """
    from lambda_runtime.batch import HeaderUnreadable, first_line, header_mismatch, parse_header
    from lambda_runtime.errors import BadRequest
    from lambda_runtime.predict import choose_method

    try:
        choose_method(model, job.method, None)
    except BadRequest as exc:
        raise UsageError(f"--method {job.method}: {exc.message}") from None
    if job.format != "csv":
        return
    problems: dict[str, list[str]] = {}
    for entry in store.list(job.bucket, job.input_prefix):
        if entry.size <= 0 or entry.key.endswith("/"):
            continue  # no rows: the plan leaves it out
        try:
            header = parse_header(first_line(store, job.bucket, entry.key))
        except HeaderUnreadable as exc:
            problems.setdefault(f"its first line is not a CSV header: {exc}", []).append(entry.key)
            continue
        problem = header_mismatch(header, job.id_column, model, "--id-column")
        if problem is not None:
            problems.setdefault(problem, []).append(entry.key)
    if problems:
        raise UsageError(_header_report(problems))


def _header_report(problems: dict[str, list[str]]) -> str:
    """One line per distinct problem: the files it holds for, then the problem and its fix."""
    lines = []
    for problem, keys in list(problems.items())[:_MAX_HEADER_PROBLEMS]:
        where = keys[0] + (f" (and {len(keys) - 1} more files)" if len(keys) > 1 else "")
        lines.append(f"{where} cannot be scored, so nothing was: {problem}")
    rest = len(problems) - _MAX_HEADER_PROBLEMS
    if rest > 0:
        lines.append(f"... and {rest} other header problems")
    return "\n".join(lines)


def exit_code(counts: dict[str, Any]) -> int:
    """The exit code of a finished run (:data:`EXIT_CODES`) from its counts."""
    if counts["failed_work_items"]:
        return EXIT_FAILED
    if counts[contract.SUMMARY_ERRORS]:
        return EXIT_REFUSED
    return EXIT_ANSWERED


def summary_line(counts: dict[str, Any], summary: dict[str, Any], output: Path) -> str:
    """The last line on stderr: rows answered and refused, and where the refusals are."""
    rows, answered, refused = (
        counts[contract.SUMMARY_ROWS],
        counts[contract.SUMMARY_PREDICTED],
        counts[contract.SUMMARY_ERRORS],
    )
    line = f"cdk-sklearn batch: {rows:,} rows: {answered:,} answered, {refused:,} refused"
    error_objects = sorted(summary[contract.SUMMARY_ERROR_OBJECTS])
    if refused and len(error_objects) <= 2:
        line += f" (reasons in {', '.join(str(output / key) for key in error_objects)})"
    elif refused:
        line += (
            f" (reasons in {len(error_objects)} errors-*.jsonl files, listed in "
            f"{output / counts['outputs_key']})"
        )
    if counts["failed_work_items"]:
        line += f"; {counts['failed_work_items']} work items failed, their rows not scored (see above)"
    return line + f"; run summary {output / counts['summary_key']}"


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
    context: multiprocessing.context.BaseContext = multiprocessing.get_context()
    try:
        if context.get_start_method() == "fork":
            # One import of the model's libraries and one model load, shared by the forked workers
            # (copy on write), instead of one per worker: on 2 cores that is most of a short run.
            _load(environment)
            if any(name in sys.modules for name in _THREADS_AT_LOAD):
                context = multiprocessing.get_context("spawn")
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
    return failed


def _split_for(total_bytes: int, workers: int) -> int:
    """Input bytes per work item: several items per worker, within 1 to 64 MiB."""
    share = total_bytes // max(workers * _ITEMS_PER_WORKER, 1)
    return max(_MIN_SPLIT, min(contract.DEFAULT_SPLIT_BYTES, share))
