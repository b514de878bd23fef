"""SklearnBatchScoring: the synthesized state machine, its grants, trigger and alarm, and refused props."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template

from cdk_sklearn.batch import SklearnBatchScoring
from cdk_sklearn.validation import PropsError
from lambda_runtime import contract
from tests.conftest import SKIP_BUNDLING


def build(model: Path | None, **props: Any) -> tuple[cdk.Stack, SklearnBatchScoring]:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    bucket = s3.Bucket.from_bucket_name(stack, "Data", "my-data")
    settings: dict[str, Any] = {"input_bucket": bucket, "input_prefix": "in/", "output_prefix": "out/"}
    if model is not None:
        settings["model_path"] = str(model)
    settings.update(props)
    return stack, SklearnBatchScoring(stack, "Batch", **settings)


@pytest.fixture(scope="module")
def default(iris_model: Path) -> tuple[SklearnBatchScoring, Template]:
    stack, batch = build(iris_model)
    return batch, Template.from_stack(stack)


def definition(template: Template) -> dict[str, Any]:
    """The state machine's definition with every CloudFormation reference replaced by a placeholder."""
    (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "PLACEHOLDER" for p in parts)
    return json.loads(text)


def policy_statements(template: Template, role_prefix: str) -> list[dict[str, Any]]:
    found = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        roles = json.dumps(policy["Properties"]["Roles"])
        if role_prefix in roles:
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def test_function_runs_the_batch_entry_point_of_the_contract(default):
    _, template = default
    template.has_resource_properties(
        "AWS::Lambda::Function", {"Handler": contract.BATCH_HANDLER, "Timeout": 900, "MemorySize": 2048}
    )


def test_state_machine_is_standard_with_logging_and_tracing(default):
    _, template = default
    template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineType": "STANDARD",
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": Match.object_like({"Level": "ALL", "IncludeExecutionData": True}),
        },
    )


def test_map_reads_the_plans_manifest_one_work_item_per_child(default):
    _, template = default
    score = definition(template)["States"]["Score"]
    assert score["ItemReader"]["ReaderConfig"] == {"InputType": "JSONL"}
    assert score["ItemReader"]["Parameters"]["Key.$"] == "$.plan.manifest_key"
    assert score["ItemBatcher"]["MaxItemsPerBatch"] == 1
    assert score["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"


def test_results_are_written_under_the_run_folder(default):
    _, template = default
    writer = definition(template)["States"]["Score"]["ResultWriter"]
    assert writer["Parameters"]["Prefix"].startswith("out/" + contract.BATCH_RUNS_FOLDER)


def test_batch_input_is_the_job_of_the_contract(default):
    _, template = default
    job = definition(template)["States"]["Score"]["ItemBatcher"]["BatchInput"]["job"]
    assert set(job) <= set(contract.JOB_FIELDS)
    assert job[contract.JOB_INPUT_PREFIX] == "in/" and job[contract.JOB_OUTPUT_PREFIX] == "out/"


def test_every_lambda_task_retries_throttling_with_backoff(default):
    _, template = default
    states = definition(template)["States"]
    tasks = [states["PlanPrefix"], states["PlanUpload"], states["Summarize"]]
    tasks.append(states["Score"]["ItemProcessor"]["States"]["ScoreWorkItem"])
    for task in tasks:
        (retry,) = task["Retry"]
        assert "Lambda.TooManyRequestsException" in retry["ErrorEquals"]
        assert contract.RETRYABLE_BATCH_ERROR in retry["ErrorEquals"]
        assert retry["BackoffRate"] > 1


def test_function_lists_only_under_the_input_prefix(default):
    _, template = default
    lists = [s for s in policy_statements(template, "BatchFunctionRole") if "s3:ListBucket" in s["Action"]]
    assert len(lists) == 1
    assert lists[0]["Condition"] == {"StringLike": {"s3:prefix": ["in/*"]}}


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_function_s3_access_is_exactly_the_two_prefixes(default):
    _, template = default
    s3_resources = {
        json.dumps(s["Resource"])
        for s in policy_statements(template, "BatchFunctionRole")
        if "s3:ListBucket" not in actions(s) and "my-data" in json.dumps(s["Resource"])
    }
    paths = sorted(r.split(":s3:::")[1].split('"')[0] for r in s3_resources)
    assert paths == ["my-data/in/*", "my-data/out/*", "my-data/out/_runs/*"]


def test_state_machine_s3_access_is_the_run_folder_only(default):
    _, template = default
    statements = policy_statements(template, "BatchStateMachineRole")
    resources = [json.dumps(s["Resource"]) for s in statements if "s3:" in json.dumps(s["Action"])]
    assert resources and all("my-data/out/_runs/" in r for r in resources)


def test_no_upload_rule_by_default(default):
    _, template = default
    template.resource_count_is("AWS::Events::Rule", 0)


def test_failed_runs_alarm_notifies_the_topic_it_outputs(default):
    _, template = default
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm", {"AlarmActions": [{"Ref": Match.string_like_regexp("BatchAlarmTopic")}]}
    )
    template.has_output("*", {"Value": {"Ref": Match.string_like_regexp("BatchAlarmTopic")}})


def test_outputs_the_start_execution_command(default):
    _, template = default
    outputs = template.find_outputs("*")
    command = next(o for name, o in outputs.items() if "StartExecutionCommand" in name)
    assert command["Value"]["Fn::Join"][1][0].startswith("aws stepfunctions start-execution")


def test_upload_trigger_matches_object_created_under_the_input_prefix(iris_model):
    stack, _ = build(iris_model, trigger_on_upload=True)
    Template.from_stack(stack).has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {"bucket": {"name": ["my-data"]}, "object": {"key": [{"prefix": "in/"}]}},
            }
        },
    )


def test_upload_trigger_on_imported_bucket_warns_to_enable_eventbridge(iris_model):
    _, batch = build(iris_model, trigger_on_upload=True)
    warnings = [m.data for m in batch.node.metadata if m.type == "aws:cdk:warning"]
    assert any("EventBridge" in str(w) for w in warnings)


def test_endpoint_alias_does_the_work_and_its_topic_gets_the_alarm(iris_model):
    from cdk_sklearn.endpoint import SklearnLambdaEndpoint

    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    endpoint = SklearnLambdaEndpoint(stack, "Iris", model_path=str(iris_model), timeout_seconds=900)
    bucket = s3.Bucket.from_bucket_name(stack, "Data", "my-data")
    SklearnBatchScoring(
        stack, "Batch", endpoint=endpoint, input_bucket=bucket, input_prefix="in/", output_prefix="out/"
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmDescription": Match.string_like_regexp("batch scoring"),
            "AlarmActions": [{"Ref": Match.string_like_regexp("IrisMonitoringAlarmTopic")}],
        },
    )


def test_own_alarm_topic_is_encrypted_with_the_stacks_key(default):
    _, template = default
    template.resource_count_is("AWS::KMS::Key", 1)
    template.has_resource_properties(
        "AWS::SNS::Topic",
        {"KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("AlarmTopicKey"), "Arn"]}},
    )


def test_job_and_endpoint_of_a_stack_share_one_key(iris_model):
    from cdk_sklearn.endpoint import SklearnLambdaEndpoint

    stack, _ = build(iris_model)
    SklearnLambdaEndpoint(stack, "Iris", model_path=str(iris_model), model_name="iris")
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SNS::Topic", 2)
    template.resource_count_is("AWS::KMS::Key", 1)


def test_imported_alarm_topic_gets_the_key_warning(iris_model):
    from aws_cdk.assertions import Annotations

    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    topic = sns.Topic.from_topic_arn(stack, "Ops", "arn:aws:sns:eu-west-1:123456789012:ops")
    bucket = s3.Bucket.from_bucket_name(stack, "Data", "my-data")
    SklearnBatchScoring(
        stack,
        "Batch",
        model_path=str(iris_model),
        input_bucket=bucket,
        input_prefix="in/",
        output_prefix="out/",
        alarm_topic=topic,
    )
    Template.from_stack(stack).resource_count_is("AWS::KMS::Key", 0)
    Annotations.from_stack(stack).has_warning(
        "/Test/Batch", Match.string_like_regexp("cloudwatch.amazonaws.com kms:Decrypt")
    )


def test_own_topic_is_used_when_given(iris_model):
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    topic = sns.Topic(stack, "Ops")
    bucket = s3.Bucket.from_bucket_name(stack, "Data", "my-data")
    SklearnBatchScoring(
        stack,
        "Batch",
        model_path=str(iris_model),
        input_bucket=bucket,
        input_prefix="in/",
        output_prefix="out/",
        alarm_topic=topic,
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SNS::Topic", 1)


@pytest.mark.parametrize(
    ("props", "prop"),
    [
        ({"input_prefix": "in"}, "input_prefix"),
        ({"input_prefix": "in/*/"}, "input_prefix"),
        ({"output_prefix": "in/out/"}, "output_prefix"),
        ({"input_format": "parquet"}, "input_format"),
        ({"method": "transform"}, "method"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"tolerated_failure_percentage": 101}, "tolerated_failure_percentage"),
        ({"split_mib": 0}, "split_mib"),
        ({"id_column": ""}, "id_column"),
        ({"trigger_on_upload": "yes"}, "trigger_on_upload"),
    ],
)
def test_fails_on_invalid_prop_before_creating_anything(iris_model, props, prop):
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    bucket = s3.Bucket.from_bucket_name(stack, "Data", "my-data")
    before = len(stack.node.find_all())
    settings = {"input_bucket": bucket, "input_prefix": "in/", "output_prefix": "out/", **props}
    with pytest.raises(PropsError, match=rf"^SklearnBatchScoring: {prop}=.* is invalid; allowed: "):
        SklearnBatchScoring(stack, "Batch", model_path=str(iris_model), **settings)
    assert len(stack.node.find_all()) == before


def test_fails_without_a_model_or_an_endpoint():
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    bucket = s3.Bucket.from_bucket_name(stack, "Data", "my-data")
    with pytest.raises(PropsError, match="exactly one of model_path"):
        SklearnBatchScoring(stack, "Batch", input_bucket=bucket, input_prefix="in/", output_prefix="out/")


def test_fails_on_an_unknown_prop(iris_model):
    with pytest.raises(TypeError, match="unknown prop"):
        build(iris_model, input_formt="csv")


def test_fails_when_output_is_inside_input_of_the_same_bucket_imported_twice(iris_model):
    # Two imports of one bucket are two objects: the overlap guard compares names, not identity.
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    first = s3.Bucket.from_bucket_name(stack, "DataA", "my-data")
    second = s3.Bucket.from_bucket_name(stack, "DataB", "my-data")
    with pytest.raises(PropsError, match="output_prefix='in/out/' is invalid"):
        SklearnBatchScoring(
            stack,
            "Batch",
            model_path=str(iris_model),
            input_bucket=first,
            input_prefix="in/",
            output_bucket=second,
            output_prefix="in/out/",
        )


def test_output_in_another_bucket_may_share_the_prefix(iris_model):
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    SklearnBatchScoring(
        stack,
        "Batch",
        model_path=str(iris_model),
        input_bucket=s3.Bucket.from_bucket_name(stack, "In", "my-input"),
        input_prefix="data/",
        output_bucket=s3.Bucket.from_bucket_name(stack, "Out", "my-output"),
        output_prefix="data/",
    )


def test_every_setting_has_one_home_in_the_props():
    from dataclasses import fields

    from cdk_sklearn.batch import BatchProps, BatchSettings
    from cdk_sklearn.batch.props import OWN_FUNCTION_SETTINGS

    own = {f.name for f in fields(BatchProps)} - {"function"}
    assert set(BatchSettings.__annotations__) == own | set(OWN_FUNCTION_SETTINGS)
    assert not own & set(OWN_FUNCTION_SETTINGS)


def test_own_function_is_built_by_the_model_function_core(iris_model):
    stack, _ = build(iris_model, metrics_namespace="team-b", memory_size=3008)
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "MemorySize": 3008,
            "Environment": {
                "Variables": Match.object_like({"METRICS_NAMESPACE": "team-b", "OMP_NUM_THREADS": "2"})
            },
        },
    )


def test_fails_on_a_function_setting_with_an_endpoint(iris_model):
    from cdk_sklearn.endpoint import SklearnLambdaEndpoint

    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    endpoint = SklearnLambdaEndpoint(stack, "Iris", model_path=str(iris_model))
    with pytest.raises(PropsError, match="engine='onnx' is invalid; allowed: not set with endpoint="):
        SklearnBatchScoring(
            stack,
            "Batch",
            endpoint=endpoint,
            engine="onnx",
            input_bucket=s3.Bucket.from_bucket_name(stack, "In", "my-input"),
            input_prefix="in/",
            output_prefix="out/",
        )


def test_fails_when_the_function_and_the_job_disagree_on_log_retention(iris_model):
    from cdk_sklearn.batch import BatchProps
    from cdk_sklearn.model_function import ModelFunctionProps

    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    with pytest.raises(PropsError, match=r"function.log_retention_days=30 is invalid"):
        BatchProps(
            input_bucket=s3.Bucket.from_bucket_name(stack, "In", "input-data"),
            input_prefix="in/",
            output_prefix="out/",
            log_retention_days=3,
            function=ModelFunctionProps(model_path=iris_model, tracing=True),
        )
