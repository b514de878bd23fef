"""The contract between the construct (``cdk_sklearn``, at synth) and this runtime (in Lambda).

Every fact both programs rely on lives here and nowhere else: the routes, the environment variables
the construct sets and the runtime reads, the model-name rule, the model formats, the payload limits
and the metric names. The runtime imports it like any other module; ``cdk_sklearn`` imports it as
``lambda_runtime.contract`` (``lambda_runtime/__init__.py`` imports nothing, so reading the contract
never loads the runtime) and generates the API routes, the function's environment and its synth-time
checks from it. Tests compare the synthesized template with this module, never with a copy.

Standard library only, and cheap to import: it is paid on every cold start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

# -- routes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One HTTP route the runtime answers and every front door must forward.

    Attributes
    ----------
    name
        A stable identifier; the runtime binds its handler to it.
    path
        The path template; ``{name}`` segments are parameters (API Gateway's own syntax).
    verbs
        The HTTP methods the route answers.
    """

    name: str
    path: str
    verbs: tuple[str, ...]

    @property
    def segments(self) -> tuple[str, ...]:
        """The path split into segments, parameters kept as ``{param}``."""
        return tuple(part for part in self.path.split("/") if part)


PREDICT: Final = Route("predict", "/predict", ("POST",))
HEALTH: Final = Route("health", "/health", ("GET",))
METADATA: Final = Route("metadata", "/metadata", ("GET",))
# The Open Inference Protocol (KServe v2) routes.
V2_SERVER: Final = Route("v2_server", "/v2", ("GET",))
V2_LIVE: Final = Route("v2_live", "/v2/health/live", ("GET",))
V2_READY: Final = Route("v2_ready", "/v2/health/ready", ("GET",))
V2_MODEL: Final = Route("v2_model", "/v2/models/{name}", ("GET",))
V2_MODEL_READY: Final = Route("v2_model_ready", "/v2/models/{name}/ready", ("GET",))
V2_INFER: Final = Route("v2_infer", "/v2/models/{name}/infer", ("POST",))

ROUTES: Final[tuple[Route, ...]] = (
    PREDICT,
    HEALTH,
    METADATA,
    V2_SERVER,
    V2_LIVE,
    V2_READY,
    V2_MODEL,
    V2_MODEL_READY,
    V2_INFER,
)
"""Every route, in the order the README lists them."""

SHARED_API_PREFIX: Final = "/models"
"""On an API shared by several models, each model's routes sit under ``/models/<model name>``."""


def shared_route_prefix(model_name: str) -> str:
    """Return the route prefix of ``model_name`` on a shared API (``/models/<model_name>``)."""
    return f"{SHARED_API_PREFIX}/{model_name}"


# -- environment variables the construct sets and the runtime reads ------------------------------

ENV_MODEL_URI: Final = "MODEL_URI"
"""``s3://bucket/key`` of the model object (or a local path under ``cdk-sklearn serve``)."""
ENV_MODEL_SHA256: Final = "MODEL_SHA256"
"""Hex SHA-256 the model bytes must have before anything deserializes them."""
ENV_MODEL_FORMAT: Final = "MODEL_FORMAT"
"""One of :data:`MODEL_FORMATS`, detected from the file's content at synth; never guessed from a name."""
ENV_MODEL_NAME: Final = "MODEL_NAME"
"""The model's name in the Open Inference Protocol routes and the metrics' ``ModelName`` dimension."""
ENV_MODEL_SKLEARN_VERSION: Final = "MODEL_SKLEARN_VERSION"
"""The scikit-learn version the model was trained with, when the file records it."""
ENV_MAX_BODY_BYTES: Final = "MAX_BODY_BYTES"
"""Largest request body the handler accepts before answering 413 (default :data:`DEFAULT_MAX_BODY_BYTES`)."""
ENV_SKOPS_TRUSTED_TYPES: Final = "SKOPS_TRUSTED_TYPES"
"""Comma-separated types a ``.skops`` file may load beyond skops' defaults."""
ENV_LOG_LEVEL: Final = "LOG_LEVEL"
"""One of :data:`LOG_LEVELS` (default ``INFO``); the per-request line (it carries the metrics) is always
written."""
ENV_METRICS_NAMESPACE: Final = "METRICS_NAMESPACE"
"""CloudWatch namespace of the embedded metrics (default :data:`DEFAULT_METRICS_NAMESPACE`)."""
ENV_ROUTE_PREFIX: Final = "ROUTE_PREFIX"
"""On a shared API, the model's path prefix (``/models/<model name>``), stripped before routing."""
ENV_MODEL_RELOAD_INTERVAL_SECONDS: Final = "MODEL_RELOAD_INTERVAL_SECONDS"
"""Shortest wait, in seconds, between retries of a model that could not be fetched."""

BOTO3_ENTRY_POINTS: Final[tuple[str, ...]] = ("lambda_runtime.batch.storage",)
"""The only runtime modules that may import boto3 (the batch storage: its S3 lists and writes need it).
The serving path (``lambda_runtime.handler`` and all it imports) reads the model with a standard-library
SigV4 GET (``lambda_runtime.s3_get``): importing boto3 and making a client costs 0.16-0.18 s of every
cold start."""

CONSTRUCT_ENVIRONMENT: Final[tuple[str, ...]] = (
    ENV_MODEL_URI,
    ENV_MODEL_SHA256,
    ENV_MODEL_FORMAT,
    ENV_MODEL_NAME,
    ENV_MODEL_SKLEARN_VERSION,
    ENV_MAX_BODY_BYTES,
    ENV_SKOPS_TRUSTED_TYPES,
    ENV_ROUTE_PREFIX,
)
"""Variables only the construct sets: a user's ``environment=`` prop may not name them."""

LOG_LEVELS: Final[tuple[str, ...]] = ("DEBUG", "INFO", "WARNING", "ERROR")

# -- the model -------------------------------------------------------------------------------------

MODEL_FORMATS: Final[tuple[str, ...]] = ("joblib", "pickle", "skops", "onnx")
"""What the construct detects from a model file's bytes and passes as ``MODEL_FORMAT``."""
SKOPS_FORMAT: Final = "skops"
ONNX_FORMAT: Final = "onnx"
"""``MODEL_FORMAT`` of a model converted to ONNX at synth: served by the ONNX engine (onnxruntime), which
imports neither scikit-learn, SciPy, pandas nor joblib."""

ENGINES: Final[dict[str, str]] = {
    "joblib": "sklearn",
    "pickle": "sklearn",
    "skops": "sklearn",
    "onnx": "onnx",
}
"""The engine that serves each model format; ``/metadata`` reports it as ``engine``."""

ONNX_METADATA_KEY: Final = "cdk_sklearn"
"""Key in the ONNX model's ``metadata_props`` under which the synth-side converter writes one JSON
object describing the model for the runtime (all fields optional; ``schema`` is 1):

``schema``
    ``1``.
``estimator_class``
    The converted estimator's qualified class name, e.g. ``sklearn.ensemble.RandomForestClassifier``.
``training_sklearn_version``
    The scikit-learn version the model was trained with.
``converter``
    Versions used for the conversion, e.g. ``{"skl2onnx": "1.20.0", "onnx": "1.23.1",
    "target_opset": {"": 21, "ai.onnx.ml": 5}}``; reported as is by ``/metadata``.
``verification``
    The synth-time comparison with scikit-learn on the sample, e.g. ``{"rows": 200, "passed": true,
    "max_abs_diff": {"predict_proba": 1e-7}}``; reported as is by ``/metadata``.
``outputs``
    The graph output that answers each method: ``{"predict": "label", "predict_proba":
    "probabilities", "decision_function": "scores"}``. Without it: ``label`` (or, for a regressor, the
    only output) answers ``predict`` and ``probabilities`` answers ``predict_proba``; a method without
    an output is refused with a 400.
``classes``
    The classifier's ``classes_`` in column order of the probabilities (JSON numbers or strings).
``feature_names``
    The column names, in order, of a single numeric matrix input fitted on a DataFrame, so that named
    rows (records, ``dataframe_split``) map to positions.
``inputs``
    One object per graph input: ``{"name": "<graph input name>", "column": "<request column name,
    default the input name>", "allow_nan": false}``. ``allow_nan`` says whether the estimator accepts
    missing values (NaN, ``null``) in that input, as scikit-learn's own checks would; by default they are
    refused with a 400.
"""

ONNX_METADATA_SCHEMA: Final = 1
"""The version of the JSON object under :data:`ONNX_METADATA_KEY` this runtime reads."""

REST_API_BINARY_MEDIA_TYPES: Final[tuple[str, ...]] = ("application/octet-stream", "*/*")
"""Media types a REST API front door passes to the function as base64 bytes (``isBase64Encoded``).

The Open Inference Protocol's binary tensor bodies (``Inference-Header-Content-Length``) are bytes; a
REST API would otherwise pass them as UTF-8 text and mangle them. ``*/*`` because tritonclient sends no
``Content-Type`` at all. JSON then also arrives base64-encoded, which the runtime decodes first
(``events.py``); responses are unaffected (the function returns text with ``isBase64Encoded`` false).
HTTP APIs and Function URLs base64-encode non-text bodies by themselves."""

DEFAULT_MODEL_NAME: Final = "model"
MODEL_NAME_RULE: Final = (
    "1 to 128 characters: letters, digits, '.', '_' and '-', starting with a letter or a digit"
)
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def is_valid_model_name(name: object) -> bool:
    """Whether ``name`` may name a model: it appears in URLs, metric dimensions and responses."""
    return isinstance(name, str) and _MODEL_NAME.fullmatch(name) is not None


# -- payload limits --------------------------------------------------------------------------------

SYNC_PAYLOAD_LIMIT_BYTES: Final = 6 * 1024 * 1024
"""A synchronous Lambda invocation carries at most 6 MB of request and of response payload
(https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)."""
DEFAULT_MAX_BODY_BYTES: Final = 5 * 1024 * 1024
"""Largest request body accepted by default, leaving room for the event's own fields."""

# -- bounds on the work one request may ask for --------------------------------------------------
# The body limit bounds the bytes; these bound what the bytes may ask for, so the CPU time and memory
# of every request stay linear in its size (benchmarks/request_bounds.py measures it). Each is
# answered with a 400 naming the limit, before the work it would cost.

MAX_COLUMNS: Final = 10_000
"""Most columns a request may name: the keys of one record, ``dataframe_split.columns``, the keys of
``{"inputs": {...}}`` and the inputs of an Open Inference Protocol request."""
MAX_ROWS: Final = 1_000_000
"""Most rows one request may hold (the first dimension of an inference tensor included)."""
MAX_JSON_CONTAINERS: Final = MAX_ROWS + 64
"""Most arrays and objects a JSON body may hold, counted as its ``[`` and ``{`` characters before it is
parsed (brackets inside strings count too): a row is one array or object, and a body's own structure
needs only a few more. Each costs the parser an allocation, so this bounds the parse itself."""
MAX_TENSOR_ELEMENTS: Final = 4_000_000
"""Most elements one Open Inference Protocol input tensor may declare (the product of its shape),
in JSON ``data`` or in the binary tensor extension."""
MAX_TENSOR_RANK: Final = 2
"""An inference input tensor is ``[rows, features]`` or ``[rows]``: a longer shape is refused before
its product is taken."""
MAX_TENSOR_DATA_DEPTH: Final = 8
"""How deeply an inference tensor's JSON ``data`` may nest arrays (it is flattened row-major)."""

# -- metrics ---------------------------------------------------------------------------------------

DEFAULT_METRICS_NAMESPACE: Final = "cdk-sklearn"
METRIC_DIMENSION: Final = "ModelName"
METRIC_UNITS: Final[dict[str, str]] = {
    "PredictionLatency": "Milliseconds",
    "Rows": "Count",
    "ColdStart": "Count",
    "4xx": "Count",
    "5xx": "Count",
}
"""The embedded metrics each request's log line carries, with their CloudWatch units; every one has
the single dimension :data:`METRIC_DIMENSION`."""
METRIC_NAMES: Final[tuple[str, ...]] = tuple(METRIC_UNITS)

# -- batch scoring (SklearnBatchScoring on Step Functions, and `cdk-sklearn batch` locally) --------

BATCH_HANDLER: Final = "lambda_runtime.batch.handler"
"""The batch entry point of the function code, for a function of its own."""
BATCH_EVENT_KEY: Final = "cdk_sklearn_batch"
"""Every batch event is ``{BATCH_EVENT_KEY: {...}}``; the HTTP handler hands such events to the batch
entry, so an endpoint's ``live`` alias can serve batch work with the model it already loaded."""
BATCH_ACTIONS: Final[tuple[str, ...]] = ("plan", "score", "summarize")
BATCH_FORMATS: Final[tuple[str, ...]] = ("csv", "jsonl")
PREDICTION_METHODS: Final[tuple[str, ...]] = ("predict", "predict_proba", "decision_function")
"""The estimator methods a request or a batch job may ask for, in the order metadata lists them."""

# The job description the state machine passes to every action (keys of the "job" object).
JOB_BUCKET: Final = "bucket"
JOB_INPUT_PREFIX: Final = "input_prefix"
JOB_OUTPUT_BUCKET: Final = "output_bucket"
JOB_OUTPUT_PREFIX: Final = "output_prefix"
JOB_FORMAT: Final = "format"
JOB_ID_COLUMN: Final = "id_column"
JOB_METHOD: Final = "method"
JOB_SPLIT_BYTES: Final = "split_bytes"
JOB_FIELDS: Final[tuple[str, ...]] = (
    JOB_BUCKET,
    JOB_INPUT_PREFIX,
    JOB_OUTPUT_BUCKET,
    JOB_OUTPUT_PREFIX,
    JOB_FORMAT,
    JOB_ID_COLUMN,
    JOB_METHOD,
    JOB_SPLIT_BYTES,
)

DEFAULT_SPLIT_BYTES: Final = 64 * 1024 * 1024
"""A work item covers at most this many input bytes: one large object is split into byte ranges of
this size, small objects are packed together up to it."""

MAX_LINE_BYTES: Final = 1024 * 1024
"""The longest line (row) batch scoring reads, newline excluded. A longer line becomes an error record
and reading skips to the next newline without keeping its bytes, so memory and time stay linear in
the input whatever its line ends (a CSV with bare-CR line ends is one long line)."""
SEGMENT_ETAG: Final = "etag"
"""A work item's segments carry the ETag of their object when the run was planned; reads send it
(``If-Match``), so an object replaced since then fails its work item instead of mixing versions."""

BATCH_RUNS_FOLDER: Final = "_runs/"
"""Under the output prefix: each run's work-item manifest, Step Functions' result files and the run
summary, in ``_runs/<run>/``."""
ROW_OBJECT_FIELD: Final = "object"
ROW_OFFSET_FIELD: Final = "offset"
"""Without an ``id_column`` a row is identified by its object key and the byte offset of its line."""
PREDICTION_FIELD: Final = "prediction"
ERROR_REASON_FIELD: Final = "reason"
ERROR_LINE_FIELD: Final = "line"

# The summary each score call returns and the run summary adds up.
SUMMARY_ROWS: Final = "rows"
SUMMARY_PREDICTED: Final = "predicted"
SUMMARY_ERRORS: Final = "errors"
SUMMARY_OUTPUTS: Final = "outputs"
SUMMARY_ERROR_OBJECTS: Final = "error_objects"
SUMMARY_FIELDS: Final[tuple[str, ...]] = (
    SUMMARY_ROWS,
    SUMMARY_PREDICTED,
    SUMMARY_ERRORS,
    SUMMARY_OUTPUTS,
    SUMMARY_ERROR_OBJECTS,
)
RETRYABLE_BATCH_ERROR: Final = "BatchRetryableError"
"""The error type (exception class name) the batch entry raises for a failure worth retrying (S3
throttling or a network error); the state machine retries it with backoff."""


def _relative(key: str, input_prefix: str) -> str:
    if not key.startswith(input_prefix):
        raise ValueError(f"object {key!r} is not under the input prefix {input_prefix!r}")
    return key[len(input_prefix) :]


def batch_output_key(output_prefix: str, input_prefix: str, key: str, start: int, fmt: str) -> str:
    """Key of the predictions for the byte range of ``key`` starting at ``start``.

    ``<output_prefix><key relative to input_prefix>/part-<start, 15 digits>.<fmt>``: derived from the
    input object and the range only, so a rerun overwrites the same objects.
    """
    return f"{output_prefix}{_relative(key, input_prefix)}/part-{start:015d}.{fmt}"


def batch_error_key(output_prefix: str, input_prefix: str, key: str, start: int) -> str:
    """Key of the malformed rows of the same range (JSON Lines, one row and its reason per line)."""
    return f"{output_prefix}{_relative(key, input_prefix)}/errors-{start:015d}.jsonl"


def batch_run_folder(output_prefix: str, run: str) -> str:
    """``<output_prefix>_runs/<run>/``: the manifest, Step Functions' results and the summary."""
    return f"{output_prefix}{BATCH_RUNS_FOLDER}{run}/"


def batch_manifest_key(output_prefix: str, run: str) -> str:
    """The work items of a run, one JSON object per line, read by the Distributed Map."""
    return batch_run_folder(output_prefix, run) + "work-items.jsonl"


def batch_outputs_key(output_prefix: str, run: str) -> str:
    """The run's output manifest: exactly the output and error objects this run wrote.

    Output keys depend on the input object and range start only, so objects of an earlier run with
    another split may remain beside them; this list, not a listing of the prefix, says what is current.
    """
    return batch_run_folder(output_prefix, run) + "outputs.json"


def batch_summary_key(output_prefix: str, run: str) -> str:
    """The run summary: rows, predictions, errors, output and error objects, failed work items."""
    return batch_run_folder(output_prefix, run) + "summary.json"
