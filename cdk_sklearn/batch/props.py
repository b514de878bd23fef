"""The props of :class:`~cdk_sklearn.batch.SklearnBatchScoring`: its keyword settings and their checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Required, Unpack

from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

from cdk_sklearn.endpoint import SklearnLambdaEndpoint
from cdk_sklearn.layer import LayerProps
from cdk_sklearn.model_function import FUNCTION_SETTINGS, ModelFunctionProps, ModelFunctionSettings
from cdk_sklearn.validation import PropsError, check_bool, check_choice, check_int, check_known
from lambda_runtime import contract, limits

OWNER = "SklearnBatchScoring"
MAX_CONCURRENCY_RANGE = (1, 10_000)  # Distributed Map's default limit of parallel children
SPLIT_MIB_RANGE = (1, 1024)
_PREFIX_RULE = (
    "a non-empty S3 key prefix ending in '/', without a leading '/' or the IAM wildcards '*' and '?' "
    "(e.g. 'scoring/input/')"
)


def _check_prefix(prop: str, value: object) -> str:
    ok = (
        isinstance(value, str)
        and value.endswith("/")
        and len(value) > 1
        and not value.startswith("/")
        and not any(ch in value for ch in "*?")
    )
    if not ok:
        raise PropsError(OWNER, prop, value, _PREFIX_RULE)
    return str(value)


class BatchSettings(ModelFunctionSettings, total=False):
    """The props of :class:`SklearnBatchScoring` as keyword arguments; each is documented there (the
    model-function keys, inherited, make the job's own function)."""

    input_bucket: Required[s3.IBucket]
    input_prefix: Required[str]
    output_prefix: Required[str]
    endpoint: SklearnLambdaEndpoint | None
    output_bucket: s3.IBucket | None
    input_format: str
    id_column: str | None
    method: str
    max_concurrency: int
    tolerated_failure_percentage: int
    split_mib: int
    trigger_on_upload: bool
    alarm_topic: sns.ITopic | None


SETTINGS: tuple[str, ...] = tuple(BatchSettings.__annotations__)
"""Every keyword setting of the batch construct."""
# The job's own function's settings: every model-function prop but the two the job shares with its
# state machine (log retention and tracing), which are set once, for both.
OWN_FUNCTION_SETTINGS: tuple[str, ...] = tuple(
    name for name in FUNCTION_SETTINGS if name not in ("log_retention_days", "tracing")
)


@dataclass(frozen=True, kw_only=True)
class BatchProps:
    """The validated props of a :class:`SklearnBatchScoring` (each documented there).

    Every value is checked on construction, before any construct exists; errors read
    ``SklearnBatchScoring: <prop>=<value> is invalid; allowed: ...``. Build it with
    :meth:`from_settings` (what the constructor does with keyword settings): the job's own function
    (``model_path`` and the other function settings) becomes ``function``, a
    :class:`~cdk_sklearn.model_function.ModelFunctionProps`.
    """

    input_bucket: s3.IBucket
    input_prefix: str
    output_prefix: str
    endpoint: SklearnLambdaEndpoint | None = None
    output_bucket: s3.IBucket | None = None
    input_format: str = "csv"
    id_column: str | None = None
    method: str = "predict"
    max_concurrency: int = 50
    tolerated_failure_percentage: int = 0
    split_mib: int = contract.DEFAULT_SPLIT_BYTES // (1024 * 1024)
    trigger_on_upload: bool = False
    alarm_topic: sns.ITopic | None = None
    log_retention_days: int = limits.DEFAULT_LOG_RETENTION_DAYS
    tracing: bool = True
    function: ModelFunctionProps | None = None

    def __post_init__(self) -> None:
        self._check_model_source()
        if not hasattr(self.input_bucket, "bucket_arn"):  # jsii interfaces admit no isinstance
            raise PropsError(OWNER, "input_bucket", self.input_bucket, "an aws_s3.IBucket")
        if self.output_bucket is not None and not hasattr(self.output_bucket, "bucket_arn"):
            raise PropsError(OWNER, "output_bucket", self.output_bucket, "an aws_s3.IBucket, or None")
        _check_prefix("input_prefix", self.input_prefix)
        _check_prefix("output_prefix", self.output_prefix)
        if self.same_bucket and (
            self.input_prefix.startswith(self.output_prefix)
            or self.output_prefix.startswith(self.input_prefix)
        ):
            raise PropsError(
                OWNER,
                "output_prefix",
                self.output_prefix,
                f"a prefix that neither contains nor is inside input_prefix={self.input_prefix!r} in the "
                "same bucket (outputs would be read back as input, and uploads would trigger runs on them)",
            )
        check_choice("input_format", self.input_format, contract.BATCH_FORMATS, owner=OWNER)
        if self.id_column is not None and (not isinstance(self.id_column, str) or not self.id_column.strip()):
            raise PropsError(OWNER, "id_column", self.id_column, "a column name (non-empty string), or None")
        check_choice("method", self.method, contract.PREDICTION_METHODS, owner=OWNER)
        check_int("max_concurrency", self.max_concurrency, *MAX_CONCURRENCY_RANGE, owner=OWNER)
        check_int("tolerated_failure_percentage", self.tolerated_failure_percentage, 0, 100, owner=OWNER)
        check_int("split_mib", self.split_mib, *SPLIT_MIB_RANGE, owner=OWNER)
        check_bool("trigger_on_upload", self.trigger_on_upload, owner=OWNER)
        if self.alarm_topic is not None and not hasattr(self.alarm_topic, "topic_arn"):
            raise PropsError(OWNER, "alarm_topic", self.alarm_topic, "an aws_sns.ITopic, or None")
        check_bool("tracing", self.tracing, owner=OWNER)
        if self.log_retention_days not in limits.LOG_RETENTION_DAYS:
            raise PropsError(
                OWNER,
                "log_retention_days",
                self.log_retention_days,
                ", ".join(map(str, limits.LOG_RETENTION_DAYS)),
            )

    def _check_model_source(self) -> None:
        if (self.function is None) == (self.endpoint is None):
            raise PropsError(
                OWNER,
                "model_path",
                None if self.function is None else str(self.function.model_path),
                "exactly one of model_path (a function of its own) and endpoint (the endpoint's function)",
            )
        if self.endpoint is not None and not isinstance(self.endpoint, SklearnLambdaEndpoint):
            raise PropsError(OWNER, "endpoint", self.endpoint, "a SklearnLambdaEndpoint")
        if self.function is not None and not isinstance(self.function, ModelFunctionProps):
            raise PropsError(OWNER, "function", self.function, "a ModelFunctionProps")
        for shared in ("log_retention_days", "tracing"):
            if self.function is not None and getattr(self.function, shared) != getattr(self, shared):
                raise PropsError(
                    OWNER,
                    f"function.{shared}",
                    getattr(self.function, shared),
                    f"the job's own {shared} ({getattr(self, shared)!r}): one setting serves the state "
                    "machine and the function",
                )

    @property
    def same_bucket(self) -> bool:
        """Whether output goes to the input bucket.

        Compared by name, not identity: ``Bucket.from_bucket_name`` twice gives two objects for one
        bucket (a created bucket's name is one token, the same string at every read)."""
        out = self.output_bucket
        return out is None or out is self.input_bucket or out.bucket_name == self.input_bucket.bucket_name

    @property
    def split_bytes(self) -> int:
        """``split_mib`` in bytes."""
        return self.split_mib * 1024 * 1024

    def job(self, output_bucket_name: str) -> dict[str, Any]:
        """The ``job`` object of every batch event (see ``lambda_runtime.batch.Job``)."""
        return {
            contract.JOB_BUCKET: self.input_bucket.bucket_name,
            contract.JOB_INPUT_PREFIX: self.input_prefix,
            contract.JOB_OUTPUT_BUCKET: output_bucket_name,
            contract.JOB_OUTPUT_PREFIX: self.output_prefix,
            contract.JOB_FORMAT: self.input_format,
            contract.JOB_ID_COLUMN: self.id_column,
            contract.JOB_METHOD: self.method,
            contract.JOB_SPLIT_BYTES: self.split_bytes,
        }

    @classmethod
    def from_settings(cls, **settings: Unpack[BatchSettings]) -> BatchProps:
        """Check the keyword settings and compose them; the function's go to its props type.

        Raises
        ------
        TypeError
            An unknown prop (the message lists every allowed one).
        PropsError
            A value its owner cannot build, or a function setting together with ``endpoint``.
        """
        check_known(OWNER, settings, SETTINGS)
        given: dict[str, Any] = dict(settings)
        own = {name: given.pop(name) for name in OWN_FUNCTION_SETTINGS if name in given}
        if given.get("endpoint") is not None and own:
            first = sorted(own)[0]
            raise PropsError(OWNER, first, own[first], "not set with endpoint= (its function is used)")
        function = None
        if "model_path" in own:
            layer = own.pop("layer", None)
            if isinstance(layer, Mapping):
                layer = LayerProps.from_config(layer, owner=OWNER)
            function = ModelFunctionProps(
                **{
                    "memory_size": limits.BATCH_MEMORY_MB,
                    "timeout_seconds": limits.BATCH_TIMEOUT_SECONDS,
                    **own,
                    **({"layer": layer} if layer is not None else {}),
                },
                log_retention_days=given.get("log_retention_days", limits.DEFAULT_LOG_RETENTION_DAYS),
                tracing=given.get("tracing", True),
                owner=OWNER,
            )
        elif own:
            first = sorted(own)[0]
            raise PropsError(OWNER, first, own[first], "set only with model_path (the job's own function)")
        return cls(**given, function=function)
