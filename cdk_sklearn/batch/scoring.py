"""``SklearnBatchScoring``: the construct, on the model-function core and the state machine module."""

from __future__ import annotations

import sys
from typing import Any, Unpack, overload

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_sklearn.alarm_topic import create_alarm_topic, warn_if_key_unchecked
from cdk_sklearn.batch.props import OWNER, BatchProps, BatchSettings
from cdk_sklearn.batch.state_machine import RESULT_WRITER_V2_FLAG, create_state_machine
from cdk_sklearn.model.engine import EngineChoice
from cdk_sklearn.model_function import FunctionRole, build_model_function, prepare_model
from cdk_sklearn.nag import acknowledge, acknowledge_inline_policy, acknowledge_wildcard_resources
from cdk_sklearn.validation import props_from
from lambda_runtime import contract


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
    output_bucket
        The bucket predictions go to. Default: the input bucket.
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
    runtime, architecture, memory_size, timeout_seconds, ephemeral_storage_mb, environment,
    metrics_namespace, code_paths, skops_trusted_types, layer, engine, sample_input, onnx_tolerance
        The job's own function (with ``model_path``), as on
        :class:`~cdk_sklearn.endpoint.SklearnLambdaEndpoint`: defaults python3.13, arm64, 2048 MB, 900 s.
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
    TypeError
        An unknown prop, or both ``props`` and keyword props.
    PropsError
        A prop with a value that cannot be built, raised before any construct is created.
    """

    @overload
    def __init__(self, scope: Construct, id: str, *, props: BatchProps) -> None: ...

    @overload
    def __init__(self, scope: Construct, id: str, **settings: Unpack[BatchSettings]) -> None: ...

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        props: BatchProps | None = None,
        **settings: Any,  # typed by the overloads: BatchSettings
    ) -> None:
        if props is not None:
            self.props = props_from(OWNER, BatchProps, props, settings, ())
        else:
            self.props = BatchProps.from_settings(**settings)
        props = self.props
        # Step Functions invokes the job's own function on demand: Lambda's on-demand INIT rule applies.
        prepared = prepare_model(props.function) if props.function is not None else None
        choice = prepared.choice if prepared is not None else None
        super().__init__(scope, id)
        self.memory_estimate_mb: int | None = None
        if prepared is not None and props.function is not None:
            self.memory_estimate_mb = prepared.fit.memory.total_mb
            print(
                f"cdk-sklearn: {self.node.path}: {prepared.summary(props.function.memory_size)}",
                file=sys.stderr,
            )
            if prepared.fit.warning:
                cdk.Annotations.of(self).add_warning_v2("cdk-sklearn:init-time", prepared.fit.warning)
        # ResultWriterV2 renders only under this feature flag; set on this construct (before any
        # child exists) it applies to this job's map and nothing else in the app.
        self.node.set_context(RESULT_WRITER_V2_FLAG, True)
        self.output_bucket: s3.IBucket = props.output_bucket or props.input_bucket
        role = self._create_function(choice)
        self._grant_data_access(role)
        made = create_state_machine(self, props, self.function, self.output_bucket)
        self.state_machine = made.state_machine
        self.state_machine_role = made.role
        self.state_machine_logs = made.logs
        self.distributed_map = made.distributed_map
        self._create_trigger()
        self._create_alarm()
        self._create_outputs()

    def _create_function(self, choice: EngineChoice | None) -> iam.IRole:
        p = self.props
        if p.function is not None and choice is not None:
            built = build_model_function(
                self,
                p.function,
                choice,
                FunctionRole(
                    handler=contract.BATCH_HANDLER,
                    description="batch scoring with",
                    role_description="cdk-sklearn batch scoring: its logs, its model, its input and output "
                    "prefixes",
                    what="job",
                ),
            )
            self.model_asset = built.model_asset
            self.log_group = built.log_group
            self.function: lambda_.IFunction = built.function
            return built.role
        assert p.endpoint is not None
        self.function = p.endpoint.alias
        timeout = p.endpoint.props.function.timeout_seconds
        if timeout < 300:
            cdk.Annotations.of(self).add_warning_v2(
                "cdk-sklearn:batch-endpoint-timeout",
                f"the endpoint's timeout_seconds={timeout} bounds each work item of {p.split_mib} MiB; "
                "raise it, or lower split_mib if a work item can take longer",
            )
        role = p.endpoint.function.role
        assert role is not None
        return role

    def _create_outputs(self) -> None:
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
        acknowledge_inline_policy(policy)
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
            # CDK's policy letting its handler set this bucket's notification configuration.
            notifications = bucket.node.try_find_child("Notifications")
            acknowledge_inline_policy(
                notifications.node.try_find_child("HandlerPolicy") if notifications else None
            )
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
        # CDK's role for the rule to start this state machine (states:StartExecution on it only).
        events_role = self.state_machine.node.try_find_child("EventsRole")
        acknowledge_inline_policy(events_role.node.try_find_child("DefaultPolicy") if events_role else None)

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
        if topic is not None:
            warn_if_key_unchecked(self, topic)
        elif p.endpoint is not None and p.endpoint.monitoring is not None:
            topic = p.endpoint.monitoring.topic
        if topic is None:
            # Encrypted with the stack's alarm-topic key, shared with the stack's endpoints.
            topic = create_alarm_topic(self, "AlarmTopic", display_name="cdk-sklearn batch scoring alarms")
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
