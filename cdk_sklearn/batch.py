"""``SklearnBatchScoring``: score the objects under an S3 prefix with the model, on Step Functions.

The state machine (Standard), top to bottom::

    Choice: an upload event (input {"object_key": ...})?  -> PlanUpload | PlanPrefix
    Plan      (Lambda, action "plan")      list the input, cut it into work items, write their manifest
    Score     (Distributed Map)            S3JsonLItemReader over the manifest; ItemBatcher: one work
                                           item per child, with the job as BatchInput; each child one
                                           Lambda call (action "score"); ResultWriterV2 stores the
                                           children's summaries under <output_prefix>_runs/
    Summarize (Lambda, action "summarize") add the children's summaries up, list failed work items,
                                           write <output_prefix>_runs/<execution name>/summary.json

Why a planning step rather than a Distributed Map straight over the objects: a 50-million-row
object cannot be one child (a Lambda call stops at 15 minutes), and the CSV/JSONL item readers read
one object and hand rows over as strings, 256 KiB of them per batch, which for scikit-learn means
thousands of tiny calls. The plan cuts large objects into byte ranges of ``split_mib`` and packs
small objects together up to that size (by data bytes, which ``ItemBatcher`` cannot see); each
child reads its ranges itself with ranged GETs, aligned to line boundaries, so memory is bounded by
the range, never by the object. Output keys are derived from the object and the range start only,
so a rerun overwrites the same objects (see :func:`lambda_runtime.contract.batch_output_key`).

The work runs in the *same function code* as the endpoint, with the same model and layer: the
endpoint's ``live`` alias when ``endpoint=`` is given (its handler hands batch events to the batch
entry), else a function of its own built from the endpoint's building blocks
(:func:`~cdk_sklearn.function_code.function_code`, the shared :class:`~cdk_sklearn.layer.SklearnLayer`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from cdk_sklearn.function_code import function_code
from cdk_sklearn.layer import LayerProps
from cdk_sklearn.model.artifact import ModelArtifact, inspect_model
from cdk_sklearn.nag import acknowledge, acknowledge_wildcard_resources
from cdk_sklearn.validation import PropsError, check_bool, check_choice, check_int
from lambda_runtime import contract, limits
from lambda_runtime.limits import DEFAULT_ARCHITECTURE, DEFAULT_RUNTIME

if TYPE_CHECKING:
    from cdk_sklearn.endpoint import SklearnLambdaEndpoint

OWNER = "SklearnBatchScoring"
MAX_CONCURRENCY_RANGE = (1, 10_000)  # Distributed Map's default limit of parallel children
SPLIT_MIB_RANGE = (1, 1024)
RESULT_WRITER_V2_FLAG = "@aws-cdk/aws-stepfunctions:useDistributedMapResultWriterV2"
RESULTS_FOLDER = "step-functions-results"
"""Under ``<output_prefix>_runs/``: where ResultWriterV2 stores the children's results."""
# Lambda.* errors worth retrying: throttling, and the service's own transient failures
# (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
RETRIED_ERRORS: tuple[str, ...] = (
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
    contract.RETRYABLE_BATCH_ERROR,
)
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


def _is_token(value: str) -> bool:
    return cdk.Token.is_unresolved(value)


@dataclass(frozen=True, kw_only=True)
class BatchProps:
    """The validated props of a :class:`SklearnBatchScoring` (each documented there).

    Every value is checked on construction, before any construct exists; errors read
    ``SklearnBatchScoring: <prop>=<value> is invalid; allowed: ...``.
    """

    input_bucket: s3.IBucket
    input_prefix: str
    output_prefix: str
    model_path: Path | None = None
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
    runtime: str = DEFAULT_RUNTIME
    architecture: str = DEFAULT_ARCHITECTURE
    memory_size: int = limits.BATCH_MEMORY_MB
    timeout_seconds: int = limits.BATCH_TIMEOUT_SECONDS
    log_retention_days: int = limits.DEFAULT_LOG_RETENTION_DAYS
    tracing: bool = True
    layer: LayerProps = field(default_factory=lambda: LayerProps(owner=OWNER))

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
        check_choice("runtime", getattr(self.runtime, "name", self.runtime), limits.RUNTIMES, owner=OWNER)
        object.__setattr__(self, "runtime", getattr(self.runtime, "name", self.runtime))
        check_choice(
            "architecture",
            getattr(self.architecture, "name", self.architecture),
            limits.ARCHITECTURES,
            owner=OWNER,
        )
        object.__setattr__(self, "architecture", getattr(self.architecture, "name", self.architecture))
        check_int("memory_size", self.memory_size, *limits.MEMORY_MB, owner=OWNER)
        check_int("timeout_seconds", self.timeout_seconds, *limits.TIMEOUT_SECONDS, owner=OWNER)
        check_bool("tracing", self.tracing, owner=OWNER)

        if self.log_retention_days not in limits.LOG_RETENTION_DAYS:
            raise PropsError(
                OWNER,
                "log_retention_days",
                self.log_retention_days,
                ", ".join(map(str, limits.LOG_RETENTION_DAYS)),
            )

    def _check_model_source(self) -> None:
        from cdk_sklearn.endpoint import SklearnLambdaEndpoint

        if (self.model_path is None) == (self.endpoint is None):
            raise PropsError(
                OWNER,
                "model_path",
                self.model_path,
                "exactly one of model_path (a function of its own) and endpoint (the endpoint's function)",
            )
        if self.endpoint is not None:
            if not isinstance(self.endpoint, SklearnLambdaEndpoint):
                raise PropsError(OWNER, "endpoint", self.endpoint, "a SklearnLambdaEndpoint")
            return
        if not isinstance(self.model_path, str | os.PathLike):
            raise PropsError(OWNER, "model_path", self.model_path, "the path of a model file")
        path = Path(self.model_path)
        if not path.is_file():
            raise PropsError(OWNER, "model_path", str(path), "an existing model file")
        object.__setattr__(self, "model_path", path)

    @property
    def same_bucket(self) -> bool:
        """Whether output goes to the input bucket."""
        return self.output_bucket is None or self.output_bucket is self.input_bucket

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


_OWN_FUNCTION_PROPS = ("runtime", "architecture", "memory_size", "timeout_seconds", "layer")


class SklearnBatchScoring(Construct):
    """Score every object under an S3 prefix with a scikit-learn model, on Step Functions.

    Parameters
    ----------
    scope, id
        The construct's parent and id.
    model_path
        The model file; the job gets a function of its own (same code, layer and model handling as
        the endpoint's). Exactly one of ``model_path`` and ``endpoint``.
    endpoint
        A :class:`~cdk_sklearn.endpoint.SklearnLambdaEndpoint` whose ``live`` alias does the work with
        the model it serves. Its ``timeout_seconds`` bounds each work item: raise it (up to 900) or
        lower ``split_mib`` for slow models. Batch calls count against its concurrency.
    input_bucket, input_prefix
        Where the input objects are: every object under the prefix (which ends in ``/``).
    output_prefix
        Where predictions go, in ``output_bucket`` (default: the input bucket); must not overlap the
        input prefix. ``<output_prefix><key below input_prefix>/part-<range start>.<format>`` per byte
        range, ``.../errors-<range start>.jsonl`` for malformed rows, ``_runs/<execution>/`` for the
        work-item manifest and the run summary.
    input_format
        ``csv`` (a header row, then one row per line) or ``jsonl`` (one JSON object per line). Default
        ``csv``.
    id_column
        A column carried into the output to identify each row. Default none: rows are identified by
        object key and byte offset.
    method
        ``predict`` (default), ``predict_proba`` or ``decision_function``.
    max_concurrency
        Parallel children (Lambda calls) at most, 1 to 10,000. Default 50.
    tolerated_failure_percentage
        Share of failed work items (0 to 100) the run tolerates before failing. Default 0.
    split_mib
        Input bytes per work item (one Lambda call), 1 to 1024 MiB. Default 64.
    trigger_on_upload
        Also start a run for each object created under ``input_prefix`` (EventBridge). The bucket must
        send events to EventBridge: turned on here for a bucket of this app, to be turned on by you for
        an imported one. Default False.
    alarm_topic
        SNS topic the failed-executions alarm notifies. Default: the endpoint's alarm topic, else a
        topic created here (output ``AlarmTopicArn``).
    runtime, architecture, memory_size, timeout_seconds, layer
        The job's own function (with ``model_path``): defaults python3.13, arm64, 2048 MB, 900 s.
    log_retention_days
        Retention of the function's and the state machine's logs. Default 30.
    tracing
        X-Ray tracing of the state machine (and of the job's own function). Default True.

    Attributes
    ----------
    props : BatchProps
    state_machine : aws_stepfunctions.StateMachine
    distributed_map : aws_stepfunctions.DistributedMap
    function : aws_lambda.IFunction
        What each task invokes: the job's function, or the endpoint's alias.
    topic : aws_sns.ITopic
    failed_alarm : aws_cloudwatch.Alarm
    upload_rule : aws_events.Rule or None

    Raises
    ------
    PropsError
        A prop with a value that cannot be built, raised before any construct is created.
    """

    def __init__(
        self, scope: Construct, id: str, *, props: BatchProps | None = None, **settings: Any
    ) -> None:
        if props is not None and settings:
            raise TypeError(
                f"{OWNER}: pass props= or keyword props ({', '.join(sorted(settings))}), not both"
            )
        if props is None:
            given_own = sorted(set(settings) & set(_OWN_FUNCTION_PROPS))
            if settings.get("endpoint") is not None and given_own:
                raise PropsError(
                    OWNER,
                    given_own[0],
                    settings[given_own[0]],
                    "not set with endpoint= (its function is used)",
                )
            allowed = [f.name for f in fields(BatchProps)]
            unknown = sorted(set(settings) - set(allowed))
            if unknown:
                raise TypeError(
                    f"{OWNER}: unknown prop(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
                )
            props = BatchProps(**settings)
        self.props = props
        model = inspect_model(props.model_path) if props.model_path is not None else None
        super().__init__(scope, id)
        # ResultWriterV2 renders only under this feature flag; set on this construct (before any
        # child exists) it applies to this job's map and nothing else in the app.
        self.node.set_context(RESULT_WRITER_V2_FLAG, True)
        self.output_bucket: s3.IBucket = props.output_bucket or props.input_bucket
        self._statements_holder: list[iam.PolicyStatement] = []
        if model is not None:
            self.function: lambda_.IFunction = self._own_function(model)
            role = self.function.role
        else:
            assert props.endpoint is not None
            self.function = props.endpoint.alias
            role = props.endpoint.function.role
            if props.endpoint.props.timeout_seconds < 300:
                cdk.Annotations.of(self).add_warning_v2(
                    "cdk-sklearn:batch-endpoint-timeout",
                    f"the endpoint's timeout_seconds={props.endpoint.props.timeout_seconds} bounds each "
                    f"work item of {props.split_mib} MiB; raise it, or lower split_mib if a work item can "
                    "take longer",
                )
        assert role is not None
        self._grant_data_access(role)
        self._build_state_machine()
        self._create_trigger()
        self._create_alarm()
        cdk.CfnOutput(self, "StateMachineArn", value=self.state_machine.state_machine_arn)
        cdk.CfnOutput(
            self,
            "StartExecutionCommand",
            value=cdk.Fn.join(
                "",
                [
                    "aws stepfunctions start-execution --state-machine-arn ",
                    self.state_machine.state_machine_arn,
                    " --input '{}'",
                ],
            ),
            description="Score every object under the input prefix now",
        )

    # -- the function ---------------------------------------------------------------------------

    def _own_function(self, model: ModelArtifact) -> lambda_.Function:
        from cdk_sklearn.endpoint import (
            LATEST_RUNTIME,
            architecture_object,
            model_function_role,
            model_uri,
            retention_days,
            runtime_object,
            shared_sklearn_layer,
        )

        p = self.props
        assert p.model_path is not None
        self.model_asset = s3_assets.Asset(self, "ModelAsset", path=str(p.model_path.resolve()))
        code, code_bytes = function_code(p.runtime, p.layer.bytecode_python)
        layer = shared_sklearn_layer(
            self,
            model=model,
            runtime=p.runtime,
            architecture=p.architecture,
            layer=p.layer,
            code_bytes=code_bytes,
        )
        self.log_group = logs.LogGroup(
            self,
            "FunctionLogs",
            retention=retention_days(p.log_retention_days),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        role = model_function_role(
            self,
            log_group=self.log_group,
            model_asset=self.model_asset,
            description="cdk-sklearn batch scoring: its logs, its model, its input and output prefixes",
        )
        function = lambda_.Function(
            self,
            "Function",
            runtime=runtime_object(p.runtime),
            architecture=architecture_object(p.architecture),
            handler=contract.BATCH_HANDLER,
            code=code,
            layers=[layer.layer_version],
            memory_size=p.memory_size,
            timeout=cdk.Duration.seconds(p.timeout_seconds),
            tracing=lambda_.Tracing.ACTIVE if p.tracing else None,
            log_group=self.log_group,
            role=role,
            description=f"batch scoring with {p.model_path.name} ({model.sha256[:12]})",
            environment={
                contract.ENV_MODEL_URI: model_uri(self.model_asset),
                **model.runtime_environment(),
            },
        )
        if p.tracing:
            acknowledge(
                role,
                "AwsSolutions-IAM5[Resource::*]",
                "tracing=True: X-Ray's PutTraceSegments and PutTelemetryRecords take no resource ARN.",
            )
        if p.runtime != LATEST_RUNTIME:
            acknowledge(
                function,
                "AwsSolutions-L1",
                f"{p.runtime} is the runtime chosen for this job (the default python3.13 is the newest one "
                "whose layer is boot-tested under its CPython); python3.14 is supported via runtime=.",
            )
        return function

    def _grant_data_access(self, role: iam.IRole) -> None:
        # Stock grants (bucket.grant_read, the item reader's and result writer's) cover whole buckets;
        # these name exactly the input prefix, the output prefix, and listing under the input prefix.
        p = self.props
        inp, out = p.input_bucket, self.output_bucket
        policy = iam.Policy(
            self,
            "DataAccess",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    sid="ListInputPrefix",
                    actions=["s3:ListBucket"],
                    resources=[inp.bucket_arn],
                    conditions={"StringLike": {"s3:prefix": [f"{p.input_prefix}*"]}},
                ),
                iam.PolicyStatement(
                    sid="ReadInput",
                    actions=["s3:GetObject"],
                    resources=[inp.arn_for_objects(f"{p.input_prefix}*")],
                ),
                iam.PolicyStatement(
                    sid="WriteOutput",
                    actions=["s3:PutObject"],
                    resources=[out.arn_for_objects(f"{p.output_prefix}*")],
                ),
                iam.PolicyStatement(
                    sid="ReadRunResults",
                    actions=["s3:GetObject"],
                    resources=[out.arn_for_objects(f"{p.output_prefix}{contract.BATCH_RUNS_FOLDER}*")],
                ),
            ],
        )
        acknowledge_wildcard_resources(
            policy,
            "Objects under the job's input prefix (read), under its output prefix (write) and its run "
            "folder (read): the object keys are the data, unknown at deploy time; nothing else in the "
            "buckets is reachable.",
        )
        if inp.encryption_key is not None:
            inp.encryption_key.grant_decrypt(role)
        if out.encryption_key is not None:
            out.encryption_key.grant_encrypt_decrypt(role)

    # -- the state machine ------------------------------------------------------------------------

    def _invoke(self, id: str, payload: dict[str, Any], result_path: str | None) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            self,
            id,
            lambda_function=self.function,
            payload=sfn.TaskInput.from_object({contract.BATCH_EVENT_KEY: payload}),
            payload_response_only=True,
            retry_on_service_exceptions=False,
            result_path=result_path,
        )
        task.add_retry(
            errors=list(RETRIED_ERRORS),
            interval=cdk.Duration.seconds(2),
            backoff_rate=2.0,
            max_attempts=6,
            max_delay=cdk.Duration.seconds(60),
            jitter_strategy=sfn.JitterType.FULL,
        )
        return task

    def _build_state_machine(self) -> None:
        p = self.props
        out = self.output_bucket
        job = p.job(out.bucket_name)
        run = sfn.JsonPath.string_at("$$.Execution.Name")
        plan_all = self._invoke("PlanPrefix", {"action": "plan", "job": job, "run": run}, "$.plan")
        plan_one = self._invoke(
            "PlanUpload",
            {"action": "plan", "job": job, "run": run, "object_key": sfn.JsonPath.string_at("$.object_key")},
            "$.plan",
        )
        runs = f"{p.output_prefix}{contract.BATCH_RUNS_FOLDER}"
        self.distributed_map = sfn.DistributedMap(
            self,
            "Score",
            item_reader=sfn.S3JsonLItemReader(bucket=out, key=sfn.JsonPath.string_at("$.plan.manifest_key")),
            item_batcher=sfn.ItemBatcher(max_items_per_batch=1, batch_input={"job": job}),
            result_writer_v2=sfn.ResultWriterV2(
                bucket=out,
                prefix=f"{runs}{RESULTS_FOLDER}",
                writer_config=sfn.WriterConfig(
                    output_type=sfn.OutputType.JSONL, transformation=sfn.Transformation.NONE
                ),
            ),
            max_concurrency=p.max_concurrency,
            tolerated_failure_percentage=p.tolerated_failure_percentage,
            map_execution_type=sfn.StateMachineType.STANDARD,
            result_path="$.results",
        )
        self.distributed_map.item_processor(
            self._invoke(
                "ScoreWorkItem",
                {
                    "action": "score",
                    "job": sfn.JsonPath.object_at("$.BatchInput.job"),
                    "items": sfn.JsonPath.list_at("$.Items"),
                },
                None,
            )
        )
        self.distributed_map.add_retry(
            errors=["States.ItemReaderFailed", "States.ResultWriterFailed"],
            interval=cdk.Duration.seconds(5),
            backoff_rate=2.0,
            max_attempts=3,
        )
        summarize = self._invoke(
            "Summarize",
            {
                "action": "summarize",
                "job": job,
                "run": run,
                "results": sfn.JsonPath.object_at("$.results.ResultWriterDetails"),
            },
            None,
        )
        after_plan = self.distributed_map.next(summarize)
        start = (
            sfn.Choice(self, "UploadOrPrefix")
            .when(sfn.Condition.is_present("$.object_key"), plan_one.next(after_plan))
            .otherwise(plan_all.next(after_plan))
        )
        from cdk_sklearn.endpoint import retention_days

        self.state_machine_logs = logs.LogGroup(
            self,
            "StateMachineLogs",
            retention=retention_days(p.log_retention_days),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.state_machine_role = iam.Role(
            self,
            "StateMachineRole",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description="cdk-sklearn batch scoring: invoke the scorer, run its own map, its run folder",
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(start),
            state_machine_type=sfn.StateMachineType.STANDARD,
            # The stock policies of the item reader and result writer cover the whole bucket: the role
            # gets the statements below instead, and nothing CDK would add.
            role=self.state_machine_role.without_policy_updates(),
            logs=sfn.LogOptions(
                destination=self.state_machine_logs, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
            tracing_enabled=p.tracing,
            comment=f"cdk-sklearn batch scoring of s3://<input>/{p.input_prefix}",
        )
        self._state_machine_policy(runs)

    def _state_machine_policy(self, runs: str) -> None:
        out = self.output_bucket
        stack = cdk.Stack.of(self)
        name = self.state_machine.state_machine_name
        invoke_targets = [self.function.function_arn, f"{self.function.function_arn}:*"]
        statements = [
            iam.PolicyStatement(
                sid="InvokeScorer", actions=["lambda:InvokeFunction"], resources=invoke_targets
            ),
            # The Distributed Map runs its children as executions of this state machine.
            iam.PolicyStatement(
                sid="RunChildren",
                actions=["states:StartExecution"],
                resources=[self.state_machine.state_machine_arn],
            ),
            iam.PolicyStatement(
                sid="ManageChildren",
                actions=["states:DescribeExecution", "states:StopExecution"],
                resources=[
                    stack.format_arn(
                        service="states",
                        resource="execution",
                        resource_name=f"{name}/*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            ),
            iam.PolicyStatement(
                sid="ManageMapRuns",
                actions=["states:DescribeMapRun", "states:UpdateMapRun"],
                resources=[
                    stack.format_arn(
                        service="states",
                        resource="mapRun",
                        resource_name=f"{name}/*",
                        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            ),
            iam.PolicyStatement(
                sid="ReadManifest", actions=["s3:GetObject"], resources=[out.arn_for_objects(f"{runs}*")]
            ),
            iam.PolicyStatement(
                sid="WriteResults",
                actions=[
                    "s3:PutObject",
                    "s3:GetObject",
                    "s3:ListMultipartUploadParts",
                    "s3:AbortMultipartUpload",
                ],
                resources=[out.arn_for_objects(f"{runs}{RESULTS_FOLDER}/*")],
            ),
            # Vended log delivery and X-Ray take no resource ARN
            # (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy).
            iam.PolicyStatement(
                sid="LogDelivery",
                actions=[
                    "logs:CreateLogDelivery",
                    "logs:GetLogDelivery",
                    "logs:UpdateLogDelivery",
                    "logs:DeleteLogDelivery",
                    "logs:ListLogDeliveries",
                    "logs:PutResourcePolicy",
                    "logs:DescribeResourcePolicies",
                    "logs:DescribeLogGroups",
                ],
                resources=["*"],
            ),
        ]
        if self.props.tracing:
            statements.append(
                iam.PolicyStatement(
                    sid="Tracing",
                    actions=[
                        "xray:PutTraceSegments",
                        "xray:PutTelemetryRecords",
                        "xray:GetSamplingRules",
                        "xray:GetSamplingTargets",
                    ],
                    resources=["*"],
                )
            )
        if out.encryption_key is not None:
            out.encryption_key.grant_encrypt_decrypt(self.state_machine_role)
        policy = iam.Policy(
            self, "StateMachinePolicy", roles=[self.state_machine_role], statements=statements
        )
        children = self.state_machine.node.try_find_child("DistributedMapPolicy")
        if isinstance(children, iam.Policy):
            # CDK's own grant for the Distributed Map's child executions; the role is immutable to
            # CDK here, so it stays out of the template, but cdk-nag reads the construct tree.
            acknowledge_wildcard_resources(
                children, "The Distributed Map's child executions of this state machine only."
            )
        acknowledge_wildcard_resources(
            policy,
            "The scorer's versions/alias (':*'), this state machine's own child executions and map runs, "
            "and objects of its run folder, whose names are made at run time; CloudWatch Logs vended "
            "delivery and X-Ray actions take no resource ARN.",
        )

    # -- trigger and alarm -----------------------------------------------------------------------

    def _create_trigger(self) -> None:
        p = self.props
        self.upload_rule: events.Rule | None = None
        if not p.trigger_on_upload:
            return
        bucket = p.input_bucket
        if isinstance(bucket, s3.Bucket):
            bucket.enable_event_bridge_notification()
            self._acknowledge_notifications_handler()
        else:
            cdk.Annotations.of(self).add_warning_v2(
                "cdk-sklearn:batch-eventbridge",
                "trigger_on_upload=True with an imported bucket: turn on its Amazon EventBridge "
                "notifications (aws s3api put-bucket-notification-configuration --bucket "
                f"{bucket.bucket_name} "
                "--notification-configuration '{\"EventBridgeConfiguration\": {}}'), or no upload starts "
                "a run",
            )
        self.upload_rule = events.Rule(
            self,
            "OnUpload",
            description=f"Score each object created under {p.input_prefix}",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [bucket.bucket_name]},
                    "object": {"key": [{"prefix": p.input_prefix}]},
                },
            ),
            targets=[
                targets.SfnStateMachine(
                    self.state_machine,
                    input=events.RuleTargetInput.from_object(
                        {"object_key": events.EventField.from_path("$.detail.object.key")}
                    ),
                )
            ],
        )

    def _acknowledge_notifications_handler(self) -> None:
        # CDK configures the bucket's notifications through its own singleton handler function.
        stack = cdk.Stack.of(self)
        for child in stack.node.children:
            if child.node.id.startswith("BucketNotificationsHandler"):
                acknowledge(
                    child,
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                    "AWSLambdaBasicExecutionRole]",
                    "CDK's own BucketNotificationsHandler (it turns on the bucket's EventBridge "
                    "notifications at deploy time) uses the basic execution role; its code and role are "
                    "CDK's, not ours.",
                )

    def _create_alarm(self) -> None:
        p = self.props
        topic = p.alarm_topic
        if topic is None and p.endpoint is not None and p.endpoint.monitoring is not None:
            topic = p.endpoint.monitoring.topic
        if topic is None:
            topic = sns.Topic(
                self, "AlarmTopic", display_name="cdk-sklearn batch scoring alarms", enforce_ssl=True
            )
            cdk.CfnOutput(
                self,
                "AlarmTopicArn",
                value=topic.topic_arn,
                description="SNS topic the failed-run alarm notifies; subscribe to be told",
            )
        self.topic: sns.ITopic = topic
        self.failed_alarm = cloudwatch.Alarm(
            self,
            "FailedRunsAlarm",
            alarm_description="A batch scoring run failed or timed out",
            metric=cloudwatch.MathExpression(
                expression="failed + timedOut",
                using_metrics={
                    "failed": self.state_machine.metric_failed(period=cdk.Duration.minutes(5)),
                    "timedOut": self.state_machine.metric_timed_out(period=cdk.Duration.minutes(5)),
                },
                period=cdk.Duration.minutes(5),
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.failed_alarm.add_alarm_action(cw_actions.SnsAction(topic))
