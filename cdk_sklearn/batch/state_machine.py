"""The state machine of :class:`~cdk_sklearn.batch.SklearnBatchScoring`: plan, Distributed Map, summarize.

See :mod:`cdk_sklearn.batch` for why the job plans its work items before mapping over them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from cdk_sklearn.batch.props import BatchProps
from cdk_sklearn.model_function import retention_days
from cdk_sklearn.nag import acknowledge_inline_policy, acknowledge_log_group, acknowledge_wildcard_resources
from lambda_runtime import contract

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


@dataclass(frozen=True)
class StateMachine:
    """What :func:`create_state_machine` made."""

    state_machine: sfn.StateMachine
    role: iam.Role
    logs: logs.LogGroup
    distributed_map: sfn.DistributedMap


def _invoke(
    scope: Construct, function: lambda_.IFunction, id: str, payload: dict[str, Any], result_path: str | None
) -> tasks.LambdaInvoke:
    """One Lambda call of the state machine, retried on throttling and transient service errors."""
    task = tasks.LambdaInvoke(
        scope,
        id,
        lambda_function=function,
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


def _definition(
    scope: Construct, p: BatchProps, function: lambda_.IFunction, out: s3.IBucket
) -> tuple[sfn.IChainable, sfn.DistributedMap]:
    """Plan (a whole prefix, or the one uploaded object), score each work item, summarize."""
    job = p.job(out.bucket_name)
    run = sfn.JsonPath.string_at("$$.Execution.Name")
    plan_all = _invoke(scope, function, "PlanPrefix", {"action": "plan", "job": job, "run": run}, "$.plan")
    plan_one = _invoke(
        scope,
        function,
        "PlanUpload",
        {"action": "plan", "job": job, "run": run, "object_key": sfn.JsonPath.string_at("$.object_key")},
        "$.plan",
    )
    runs = f"{p.output_prefix}{contract.BATCH_RUNS_FOLDER}"
    distributed_map = sfn.DistributedMap(
        scope,
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
    distributed_map.item_processor(
        _invoke(
            scope,
            function,
            "ScoreWorkItem",
            {
                "action": "score",
                "job": sfn.JsonPath.object_at("$.BatchInput.job"),
                "items": sfn.JsonPath.list_at("$.Items"),
            },
            None,
        )
    )
    distributed_map.add_retry(
        errors=["States.ItemReaderFailed", "States.ResultWriterFailed"],
        interval=cdk.Duration.seconds(5),
        backoff_rate=2.0,
        max_attempts=3,
    )
    summarize = _invoke(
        scope,
        function,
        "Summarize",
        {
            "action": "summarize",
            "job": job,
            "run": run,
            "results": sfn.JsonPath.object_at("$.results.ResultWriterDetails"),
        },
        None,
    )
    after_plan = distributed_map.next(summarize)
    start = (
        sfn.Choice(scope, "UploadOrPrefix")
        .when(sfn.Condition.is_present("$.object_key"), plan_one.next(after_plan))
        .otherwise(plan_all.next(after_plan))
    )
    return start, distributed_map


def create_state_machine(
    scope: Construct, p: BatchProps, function: lambda_.IFunction, out: s3.IBucket
) -> StateMachine:
    """The job's Standard state machine under ``scope``, with its logs, its role and that role's policy."""
    start, distributed_map = _definition(scope, p, function, out)
    state_machine_logs = logs.LogGroup(
        scope,
        "StateMachineLogs",
        retention=retention_days(p.log_retention_days),
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    acknowledge_log_group(state_machine_logs)
    state_machine_role = iam.Role(
        scope,
        "StateMachineRole",
        assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
        description="cdk-sklearn batch scoring: invoke the scorer, run its own map, its run folder",
    )
    state_machine = sfn.StateMachine(
        scope,
        "StateMachine",
        definition_body=sfn.DefinitionBody.from_chainable(start),
        state_machine_type=sfn.StateMachineType.STANDARD,
        # The stock policies of the item reader and result writer cover the whole bucket: the role
        # gets the statements below instead, and nothing CDK would add.
        role=state_machine_role.without_policy_updates(),
        logs=sfn.LogOptions(
            destination=state_machine_logs, level=sfn.LogLevel.ALL, include_execution_data=True
        ),
        tracing_enabled=p.tracing,
        comment=f"cdk-sklearn batch scoring of s3://<input>/{p.input_prefix}",
    )
    made = StateMachine(state_machine, state_machine_role, state_machine_logs, distributed_map)
    _policy(scope, p, function, out, made)
    return made


def _statements(
    p: BatchProps, function: lambda_.IFunction, out: s3.IBucket, state_machine: sfn.StateMachine
) -> list[iam.PolicyStatement]:
    """What the state machine may do: invoke the scorer, run its own map, use its run folder, log, trace."""
    stack = cdk.Stack.of(state_machine)
    runs = f"{p.output_prefix}{contract.BATCH_RUNS_FOLDER}"
    name = state_machine.state_machine_name
    invoke_targets = [function.function_arn, f"{function.function_arn}:*"]
    statements = [
        iam.PolicyStatement(sid="InvokeScorer", actions=["lambda:InvokeFunction"], resources=invoke_targets),
        # The Distributed Map runs its children as executions of this state machine.
        iam.PolicyStatement(
            sid="RunChildren",
            actions=["states:StartExecution"],
            resources=[state_machine.state_machine_arn],
        ),
        iam.PolicyStatement(
            sid="ManageChildren",
            actions=["states:DescribeExecution", "states:StopExecution"],
            resources=[_own(stack, "execution", name)],
        ),
        iam.PolicyStatement(
            sid="ManageMapRuns",
            actions=["states:DescribeMapRun", "states:UpdateMapRun"],
            resources=[_own(stack, "mapRun", name)],
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
    ]
    return [*statements, *_observability_statements(p.tracing)]


def _own(stack: cdk.Stack, resource: str, state_machine_name: str) -> str:
    """The ARN of every ``resource`` (executions, map runs) of this state machine."""
    return stack.format_arn(
        service="states",
        resource=resource,
        resource_name=f"{state_machine_name}/*",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )


def _observability_statements(tracing: bool) -> list[iam.PolicyStatement]:
    """Logging to CloudWatch Logs and, with ``tracing``, X-Ray."""
    statements = [
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
    if tracing:
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
    return statements


def _policy(
    scope: Construct, p: BatchProps, function: lambda_.IFunction, out: s3.IBucket, made: StateMachine
) -> None:
    statements = _statements(p, function, out, made.state_machine)
    if out.encryption_key is not None:
        out.encryption_key.grant_encrypt_decrypt(made.role)
    policy = iam.Policy(scope, "StateMachinePolicy", roles=[made.role], statements=statements)
    children = made.state_machine.node.try_find_child("DistributedMapPolicy")
    if isinstance(children, iam.Policy):
        # CDK's own grant for the Distributed Map's child executions; the role is immutable to
        # CDK here, so it stays out of the template, but cdk-nag reads the construct tree.
        acknowledge_wildcard_resources(
            children, "The Distributed Map's child executions of this state machine only."
        )
        acknowledge_inline_policy(children)
    acknowledge_inline_policy(policy)
    acknowledge_wildcard_resources(
        policy,
        "The scorer's versions/alias (':*'), this state machine's own child executions and map runs, "
        "and objects of its run folder, whose names are made at run time; CloudWatch Logs vended "
        "delivery and X-Ray actions take no resource ARN.",
    )
