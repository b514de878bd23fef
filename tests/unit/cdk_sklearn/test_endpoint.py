"""SklearnLambdaEndpoint: what the synthesized template must contain, and what props it refuses."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from cdk_sklearn.endpoint import SklearnLambdaEndpoint
from tests.conftest import SKIP_BUNDLING
from tests.helpers.routes import ROUTE_KEYS as ROUTES


def synth(model: Path, **props: Any) -> tuple[SklearnLambdaEndpoint, Template]:
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    endpoint = SklearnLambdaEndpoint(stack, "Iris", model_path=str(model), **props)
    return endpoint, Template.from_stack(stack)


@pytest.fixture(scope="module")
def default(iris_model: Path) -> tuple[SklearnLambdaEndpoint, Template]:
    return synth(iris_model)


def only(template: Template, type_: str) -> tuple[str, dict[str, Any]]:
    resources = template.find_resources(type_)
    assert len(resources) == 1, f"expected one {type_}, found {list(resources)}"
    return next(iter(resources.items()))


def test_function_defaults(default):
    _, template = default
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.13",
            "Architectures": ["arm64"],
            "MemorySize": 1024,
            "Timeout": 30,
            "Handler": "lambda_runtime.handler.handler",
            "Layers": Match.any_value(),
        },
    )


def test_model_sha256_is_the_files_hash(default, iris_model):
    _, template = default
    _, function = only(template, "AWS::Lambda::Function")
    env = function["Properties"]["Environment"]["Variables"]
    assert env["MODEL_SHA256"] == hashlib.sha256(iris_model.read_bytes()).hexdigest()


def test_model_uri_points_at_the_asset(default):
    _endpoint, template = default
    _, function = only(template, "AWS::Lambda::Function")
    uri = function["Properties"]["Environment"]["Variables"]["MODEL_URI"]
    parts = uri["Fn::Join"][1]
    assert parts[0] == "s3://"
    assert any(isinstance(p, str) and p.endswith(".joblib") for p in parts), parts


def test_model_training_version_is_passed(default):
    endpoint, template = default
    _, function = only(template, "AWS::Lambda::Function")
    env = function["Properties"]["Environment"]["Variables"]
    assert env["MODEL_SKLEARN_VERSION"] == endpoint.model.sklearn_version


def test_s3_read_is_exactly_the_model_object(default):
    endpoint, template = default
    s3_statements = [
        statement
        for _, policy in template.find_resources("AWS::IAM::Policy").items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(str(a).startswith("s3:") for a in _as_list(statement["Action"]))
    ]
    assert len(s3_statements) == 1, s3_statements
    statement = s3_statements[0]
    assert _as_list(statement["Action"]) == ["s3:GetObject"]
    resource = statement["Resource"]
    assert not isinstance(resource, list), "one object, not several"
    joined = resource["Fn::Join"][1]
    key = endpoint.model_asset.s3_object_key
    assert joined[-1] == f"/{key}", "the resource ends with the model's object key, no wildcard"
    assert "*" not in str(joined)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_alias_live_on_current_version(default):
    _, template = default
    template.has_resource_properties(
        "AWS::Lambda::Alias",
        {"Name": "live", "FunctionVersion": Match.object_like({"Fn::GetAtt": Match.any_value()})},
    )


def test_no_provisioned_concurrency_by_default(default):
    _, template = default
    _, alias = only(template, "AWS::Lambda::Alias")
    assert "ProvisionedConcurrencyConfig" not in alias["Properties"]


def test_provisioned_concurrency_on_alias(iris_model):
    _, template = synth(iris_model, provisioned_concurrency=3)
    template.has_resource_properties(
        "AWS::Lambda::Alias",
        {"Name": "live", "ProvisionedConcurrencyConfig": {"ProvisionedConcurrentExecutions": 3}},
    )


def test_routes(default):
    _, template = default
    keys = {r["Properties"]["RouteKey"] for r in template.find_resources("AWS::ApiGatewayV2::Route").values()}
    assert keys == {f"{method} {path}" for method, path in ROUTES}
    assert {"POST /predict", "GET /health", "GET /metadata"} <= keys


def test_every_integration_targets_the_alias(default):
    _, template = default
    alias_id, _ = only(template, "AWS::Lambda::Alias")
    integrations = template.find_resources("AWS::ApiGatewayV2::Integration")
    assert integrations
    for integration in integrations.values():
        assert integration["Properties"]["IntegrationUri"] == {"Ref": alias_id}


def test_every_invoke_permission_targets_the_alias(default):
    _, template = default
    alias_id, _ = only(template, "AWS::Lambda::Alias")
    permissions = template.find_resources("AWS::Lambda::Permission")
    assert len(permissions) >= len(ROUTES)
    for permission in permissions.values():
        assert permission["Properties"]["FunctionName"] == {"Ref": alias_id}


def test_endpoint_url_output(default):
    _, template = default
    outputs = template.find_outputs("*")
    assert any(name.startswith("IrisEndpointUrl") for name in outputs), list(outputs)


def _logical_id(construct: Any) -> str:
    return cdk.Stack.of(construct).get_logical_id(construct.node.default_child)


@pytest.mark.parametrize(
    ("attribute", "resource_type"),
    [
        ("function", "AWS::Lambda::Function"),
        ("alias", "AWS::Lambda::Alias"),
        ("log_group", "AWS::Logs::LogGroup"),
        ("http_api", "AWS::ApiGatewayV2::Api"),
    ],
)
def test_attribute_is_the_resource_in_the_template(default, attribute, resource_type):
    endpoint, template = default
    ids = [
        logical_id
        for logical_id, resource in template.to_json()["Resources"].items()
        if resource["Type"] == resource_type
    ]
    assert _logical_id(getattr(endpoint, attribute)) in ids


def test_layer_attribute_is_the_functions_layer(default):
    endpoint, template = default
    _, function = only(template, "AWS::Lambda::Function")
    assert function["Properties"]["Layers"] == [{"Ref": _logical_id(endpoint.layer)}]


def test_url_attribute_is_the_stages_url(default):
    endpoint, _ = default
    resolved = json.dumps(cdk.Stack.of(endpoint).resolve(endpoint.url))
    assert _logical_id(endpoint.http_api) in resolved


def test_model_asset_attribute_is_the_model_uri(default):
    endpoint, template = default
    _, function = only(template, "AWS::Lambda::Function")
    uri = json.dumps(function["Properties"]["Environment"]["Variables"]["MODEL_URI"])
    assert endpoint.model_asset.asset_hash in uri


def test_overrides(iris_model):
    _, template = synth(
        iris_model, runtime="python3.12", architecture="x86_64", memory_size=2048, timeout_seconds=10
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Runtime": "python3.12", "Architectures": ["x86_64"], "MemorySize": 2048, "Timeout": 10},
    )


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"memory_size": 64}, "memory_size=64 is invalid; allowed: an integer from 128 to 10240"),
        ({"memory_size": 20000}, "memory_size=20000 is invalid"),
        ({"memory_size": "1024"}, "memory_size='1024' is invalid"),
        ({"memory_size": True}, "memory_size=True is invalid"),
        ({"timeout_seconds": 0}, "timeout_seconds=0 is invalid; allowed: an integer from 1 to 900"),
        ({"provisioned_concurrency": -1}, "provisioned_concurrency=-1 is invalid; allowed: an integer >= 0"),
        ({"runtime": "python3.9"}, "runtime='python3.9' is invalid; allowed: python3.11, python3.12"),
        ({"architecture": "arm"}, "architecture='arm' is invalid; allowed: x86_64, arm64"),
        ({"max_body_bytes": 7_000_000}, "max_body_bytes=7000000 is invalid"),
        ({"extra_requirements": "lightgbm"}, "extra_requirements='lightgbm' is invalid"),
        ({"model_name": "my model"}, "model_name='my model' is invalid"),
        # Names the runtime refuses must fail at synth, not as a 503 after deploy (one rule, the contract's).
        ({"model_name": "_model"}, "model_name='_model' is invalid; allowed: 1 to 128 characters"),
        ({"model_name": "-x"}, "model_name='-x' is invalid"),
        (
            {"latency_p99_threshold_ms": float("nan")},
            "SklearnLambdaEndpoint: latency_p99_threshold_ms=nan is invalid",
        ),
        ({"layer_slim": "yes"}, "SklearnLambdaEndpoint: layer_slim='yes' is invalid; allowed: True or False"),
        (
            {"cold_start": {"strategy": "provisioned", "min": 0}},
            "SklearnLambdaEndpoint: cold_start.min=0 is invalid",
        ),
        ({"environment": {"MODEL_FORMAT": "skops"}}, "set MODEL_FORMAT with the prop model_path"),
        ({"extra_requirements": ["Scikit_Learn==1.0.0"]}, "conflict"),
        ({"environment": {"MODEL_URI": "x"}}, "set MODEL_URI with the prop model_path"),
        # The metrics would go to a namespace no alarm watches: the prop feeds both.
        (
            {"environment": {"METRICS_NAMESPACE": "team-a"}},
            "set METRICS_NAMESPACE with the prop metrics_namespace",
        ),
        ({"metrics_namespace": "AWS/Lambda"}, "metrics_namespace='AWS/Lambda' is invalid"),
        ({"monitoring": {"metrics_namespace": "x"}}, "set metrics_namespace on the endpoint"),
        ({"front_door": {"auth": "nope"}}, "front_door.auth='nope' is invalid"),
        ({"front_door": {"auth": "iam"}, "auth": "iam"}, "not both"),
        (
            {"monitoring": {"latency_p99": 5}},
            "monitoring.latency_p99=5 is invalid; allowed: the keys",
        ),
        ({"layer": {"slim": "yes"}}, "layer.slim='yes' is invalid"),
        ({"rollout": {"strategy": "big_bang"}}, "rollout.strategy='big_bang' is invalid"),
    ],
)
def test_fails_on_bad_prop(iris_model, props, message):
    with pytest.raises(ValueError) as excinfo:
        synth(iris_model, **props)
    assert message in str(excinfo.value)


def test_fails_on_missing_model_file(tmp_path):
    with pytest.raises(
        ValueError, match=r"model_path='.*missing.joblib' is invalid; allowed: an existing model file"
    ):
        synth(tmp_path / "missing.joblib")


def test_fails_on_model_path_directory(tmp_path):
    with pytest.raises(ValueError, match="allowed: a file, not a directory"):
        synth(tmp_path)


@pytest.mark.parametrize(
    "props",
    [
        {"memory_size": 1},
        {"latency_p99_threshold_ms": float("nan")},
        {"rollout": "blue_green"},
        {"auth": "api_key"},
        {"cold_start": {"strategy": "snapstart"}, "ephemeral_storage_mb": 1024},
    ],
)
def test_fails_before_creating_anything(iris_model, props):
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    with pytest.raises(ValueError):
        SklearnLambdaEndpoint(stack, "Iris", model_path=str(iris_model), **props)
    assert stack.node.try_find_child("Iris") is None
    assert not [child for child in stack.node.find_all() if child is not stack]


def test_unknown_prop_error_lists_every_prop(iris_model):
    from cdk_sklearn.endpoint_props import SETTINGS

    with pytest.raises(TypeError) as excinfo:
        synth(iris_model, memory=1024)
    assert all(name in str(excinfo.value) for name in SETTINGS)


def test_accepts_runtime_and_architecture_objects(iris_model):
    endpoint, template = synth(
        iris_model, runtime=lambda_.Runtime.PYTHON_3_12, architecture=lambda_.Architecture.X86_64
    )
    assert (endpoint.props.function.runtime, endpoint.props.function.architecture) == ("python3.12", "x86_64")
    _, function = only(template, "AWS::Lambda::Function")
    assert function["Properties"]["Runtime"] == "python3.12"
    assert function["Properties"]["Architectures"] == ["x86_64"]


def test_passes_the_detected_model_format_to_the_function(default):
    _, template = default
    _, function = only(template, "AWS::Lambda::Function")
    assert function["Properties"]["Environment"]["Variables"]["MODEL_FORMAT"] == "joblib"


def test_fails_on_unknown_prop(iris_model):
    with pytest.raises(TypeError, match="memory"):
        synth(iris_model, memory=1024)


def test_role_allows_only_its_logs_and_its_model(default):
    _, template = default
    _, function = only(template, "AWS::Lambda::Function")
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    assert not template.find_resources("AWS::IAM::Role")[role_id]["Properties"].get("ManagedPolicyArns")
    actions = sorted(
        action
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        for action in _as_list(statement["Action"])
    )
    assert actions == ["logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject"]


def test_monitoring_and_canary_rollout_by_default(default):
    _, template = default
    template.resource_count_is("AWS::CloudWatch::Dashboard", 1)
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) >= 3
    template.has_resource_properties(
        "AWS::CodeDeploy::DeploymentGroup",
        {
            "DeploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
            "AlarmConfiguration": Match.object_like({"Enabled": True, "Alarms": Match.any_value()}),
            "AutoRollbackConfiguration": Match.object_like(
                {"Enabled": True, "Events": Match.array_with(["DEPLOYMENT_STOP_ON_ALARM"])}
            ),
        },
    )
    _, alias = only(template, "AWS::Lambda::Alias")
    assert "CodeDeployLambdaAliasUpdate" in alias["UpdatePolicy"]


def test_no_monitoring_no_rollout(iris_model):
    endpoint, template = synth(iris_model, monitoring=False, rollout="none")
    assert endpoint.monitoring is None and endpoint.rollout is None
    template.resource_count_is("AWS::CloudWatch::Dashboard", 0)
    template.resource_count_is("AWS::CloudWatch::Alarm", 0)
    template.resource_count_is("AWS::CodeDeploy::DeploymentGroup", 0)


def test_alarm_topic_is_encrypted_with_the_stacks_key_by_default(default):
    _, template = default
    template.resource_count_is("AWS::KMS::Key", 1)
    template.has_resource_properties(
        "AWS::SNS::Topic",
        {"KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("AlarmTopicKey"), "Arn"]}},
    )


def test_encrypt_alarm_topic_false_leaves_no_key(iris_model):
    _, template = synth(iris_model, encrypt_alarm_topic=False)
    template.resource_count_is("AWS::KMS::Key", 0)
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.absent()})


def test_alarm_email_subscribes(iris_model):
    _, template = synth(iris_model, alarm_email="ops@example.com")
    template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )


@pytest.mark.parametrize(
    ("props", "message"),
    [
        (
            {"rollout": "blue_green"},
            "rollout='blue_green' is invalid; allowed: all_at_once, canary, linear, none",
        ),
        ({"alarm_email": "ops"}, "alarm_email='ops' is invalid; allowed: an e-mail address"),
        ({"alarm_email": "a@b.co", "monitoring": False}, "not set when monitoring is off"),
        ({"latency_p99_threshold_ms": 0}, "latency_p99_threshold_ms=0 is invalid"),
        ({"server_error_rate_percent": 150}, "server_error_rate_percent=150 is invalid"),
        ({"monitoring": "yes"}, "monitoring='yes' is invalid; allowed: True or False, or"),
    ],
)
def test_fails_on_bad_operations_prop(iris_model, props, message):
    with pytest.raises(ValueError) as excinfo:
        synth(iris_model, **props)
    assert message in str(excinfo.value)


def test_layer_slim_reaches_the_layer_and_keeps_the_default_layer_id(iris_model, default):
    slim, _ = synth(iris_model, layer_slim=True)
    full, _ = default
    assert slim.sklearn_layer.slim and not full.sklearn_layer.slim
    # The default layer's construct ID is unchanged by the new prop; only the slim one differs.
    assert slim.sklearn_layer.node.id != full.sklearn_layer.node.id


def test_fails_on_a_file_that_is_not_a_model_before_creating_anything(tmp_path):
    junk = tmp_path / "model.joblib"
    junk.write_text("not a model")
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    with pytest.raises(ValueError, match=r"model file .*model.joblib is not a readable pickle stream"):
        SklearnLambdaEndpoint(stack, "Iris", model_path=str(junk))
    assert stack.node.try_find_child("Iris") is None


def test_outputs_the_alarm_topic_every_alarm_notifies(default):
    _, template = default
    (topic_id,) = template.find_resources("AWS::SNS::Topic")
    outputs = template.find_outputs("*")
    (arn,) = [value for key, value in outputs.items() if key.startswith("IrisAlarmTopicArn")]
    assert arn["Value"] == {"Ref": topic_id}
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]


def test_says_once_per_app_that_no_one_hears_the_alarms(iris_model, capsys):
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    SklearnLambdaEndpoint(stack, "A", model_path=str(iris_model), model_name="a")
    SklearnLambdaEndpoint(stack, "B", model_path=str(iris_model), model_name="b")
    SklearnLambdaEndpoint(stack, "C", model_path=str(iris_model), model_name="c", alarm_email="o@example.com")
    lines = [line for line in capsys.readouterr().err.splitlines() if "nobody subscribes" in line]
    assert len(lines) == 1
    assert "alarm_email" in lines[0]


def test_says_nothing_when_the_alarms_reach_an_email(iris_model, capsys):
    synth(iris_model, alarm_email="ops@example.com")
    assert "nobody subscribes" not in capsys.readouterr().err


def test_tracing_turns_on_active_tracing_for_the_function_and_the_rest_stage(iris_model):
    _, template = synth(iris_model, tracing=True, front_door="rest_api")
    template.has_resource_properties("AWS::Lambda::Function", {"TracingConfig": {"Mode": "Active"}})
    template.has_resource_properties("AWS::ApiGateway::Stage", {"TracingEnabled": True})


def test_no_tracing_by_default(default):
    _, template = default
    _, function = only(template, "AWS::Lambda::Function")
    assert "TracingConfig" not in function["Properties"]


def test_rest_api_outputs_its_url_once_and_its_key_id(iris_model):
    _, template = synth(iris_model, front_door="rest_api", auth="api_key")
    outputs = template.find_outputs("*")
    urls = [key for key, value in outputs.items() if "execute-api" in json.dumps(value)]
    assert len(urls) == 1
    (key_id,) = [value for key, value in outputs.items() if key.startswith("IrisApiKeyId")]
    (api_key_id,) = template.find_resources("AWS::ApiGateway::ApiKey")
    assert key_id["Value"] == {"Ref": api_key_id}


def test_fails_when_a_skops_model_holds_types_not_listed_as_trusted(tmp_path):
    import skops.io

    from cdk_sklearn.model.skops_trust import UntrustedTypesError
    from tests.helpers import models

    path = tmp_path / "custom.skops"
    skops.io.dump(models.custom_function_pipeline(), path)
    with pytest.raises(UntrustedTypesError, match=r"skops_trusted_types=\['tests\.helpers\.models\.shift'\]"):
        synth(path)


def test_trusted_skops_types_reach_the_function_environment(tmp_path):
    import skops.io

    from tests.helpers import models

    path = tmp_path / "custom.skops"
    skops.io.dump(models.custom_function_pipeline(), path)
    _, template = synth(path, skops_trusted_types=["tests.helpers.models.shift"])
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like({"SKOPS_TRUSTED_TYPES": "tests.helpers.models.shift"})
            }
        },
    )


def test_fails_on_code_paths_that_do_not_exist(iris_model, tmp_path):
    with pytest.raises(
        ValueError, match=r"code_paths=.* is invalid; allowed: code_paths entry .*missing\.py"
    ):
        synth(iris_model, code_paths=[str(tmp_path / "missing.py")])


@pytest.mark.parametrize(("memory_size", "threads"), [(1024, "1"), (1769, "1"), (1770, "2"), (10240, "6")])
def test_sizes_openmp_to_the_functions_vcpus(iris_model, memory_size, threads):
    # Lambda gives one vCPU per 1,769 MB, at most 6 (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
    _, template = synth(iris_model, memory_size=memory_size)
    _, function = only(template, "AWS::Lambda::Function")
    assert function["Properties"]["Environment"]["Variables"]["OMP_NUM_THREADS"] == threads


def test_metrics_namespace_reaches_the_function(iris_model):
    _, template = synth(iris_model, metrics_namespace="team-a")
    _, function = only(template, "AWS::Lambda::Function")
    assert function["Properties"]["Environment"]["Variables"]["METRICS_NAMESPACE"] == "team-a"


def test_metrics_namespace_reaches_every_alarm_on_a_runtime_metric(iris_model):
    _, template = synth(iris_model, metrics_namespace="team-a")
    namespaces = {
        metric["MetricStat"]["Metric"]["Namespace"]
        for alarm in template.find_resources("AWS::CloudWatch::Alarm").values()
        for metric in alarm["Properties"].get("Metrics", [])
        if "MetricStat" in metric
    } | {
        alarm["Properties"]["Namespace"]
        for alarm in template.find_resources("AWS::CloudWatch::Alarm").values()
        if "Namespace" in alarm["Properties"]
    }
    assert "team-a" in namespaces
    assert "cdk-sklearn" not in namespaces


def test_default_metrics_namespace_leaves_the_runtime_default(default):
    _, template = default
    _, function = only(template, "AWS::Lambda::Function")
    assert "METRICS_NAMESPACE" not in function["Properties"]["Environment"]["Variables"]


@pytest.mark.parametrize(
    ("flat", "nested"),
    [
        (
            {"auth": "none", "throttle_rate_limit": 5},
            {"front_door": {"auth": "none", "throttle_rate_limit": 5}},
        ),
        ({"front_door": "rest_api"}, {"front_door": {"front_door": "rest_api"}}),
        ({"alarm_email": "ops@example.com"}, {"monitoring": {"alarm_email": "ops@example.com"}}),
        ({"encrypt_alarm_topic": False}, {"monitoring": {"encrypt_alarm_topic": False}}),
        ({"layer_slim": True}, {"layer": {"slim": True}}),
        ({"rollout": "linear"}, {"rollout": {"strategy": "linear"}}),
    ],
)
def test_a_nested_section_means_what_its_flat_props_mean(iris_model, flat, nested):
    from cdk_sklearn.endpoint_props import EndpointProps

    assert EndpointProps.from_settings(model_path=iris_model, **nested) == EndpointProps.from_settings(
        model_path=iris_model, **flat
    )


def test_every_setting_has_one_home_in_the_props():
    # Each keyword setting is a field of the endpoint's props, of its function's props, or a flat
    # shorthand of one part's field; and every such field can be set.
    from dataclasses import fields

    from cdk_sklearn.endpoint_props import FLAT_PART_SETTINGS, SETTINGS, EndpointProps
    from cdk_sklearn.model_function import ModelFunctionProps

    own = {f.name for f in fields(EndpointProps)} - {"function"}
    # A function field the composition derives from an endpoint setting: set through that setting.
    derived = {"on_managed_instances": "compute"}
    assert set(derived.values()) <= own
    function = {f.name for f in fields(ModelFunctionProps)} - {"owner", *derived}
    flat = {name for names in FLAT_PART_SETTINGS.values() for name in names}
    shorthands = {"provisioned_concurrency"}  # cold_start={"strategy": "provisioned", "min": N}
    homes = [own, function, flat, shorthands]
    assert all(sum(name in home for home in homes) == 1 for name in SETTINGS)
    assert own | function <= set(SETTINGS)


@pytest.mark.parametrize(
    ("props", "message"),
    [
        # A part that is off takes no settings: they would be dropped without a word.
        (
            {"monitoring": False, "latency_p99_threshold_ms": 50},
            "latency_p99_threshold_ms=50 is invalid; allowed: not set when monitoring is off",
        ),
        ({"monitoring": False, "encrypt_alarm_topic": "yes"}, "encrypt_alarm_topic='yes' is invalid"),
        (
            {"rollout": "none", "monitoring": {"alarm_email": "ops@example.com"}, "alarm_email": "a@b.co"},
            "not both",
        ),
        ({"log_retention_days": True}, "log_retention_days=True is invalid"),
        ({"environment": {"AWS_REGION": "eu-west-1"}}, "names Lambda does not reserve for itself"),
        ({"environment": {"_HANDLER": "x"}}, "names of a letter then letters, digits, _"),
        ({"environment": {"AWS_LAMBDA_EXEC_WRAPPER": "/x"}}, "names Lambda does not reserve for itself"),
        ({"environment": {"MY-VAR": "x"}}, "names of a letter then letters, digits, _"),
        ({"environment": {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/x"}}, "would redirect where the"),
        ({"environment": {"AWS_ENDPOINT_URL_S3": "http://x"}}, "would redirect where the"),
        ({"environment": {"BIG": "x" * 5000}}, "at most 4096 bytes"),
        ({"metrics_namespace": "team-a\n"}, "metrics_namespace='team-a\\n' is invalid"),
    ],
)
def test_fails_on_a_setting_that_would_be_dropped_or_refused_at_deploy(iris_model, props, message):
    with pytest.raises((ValueError, TypeError)) as excinfo:
        synth(iris_model, **props)
    assert message in str(excinfo.value)


def test_fails_on_a_monitoring_props_object_with_flat_monitoring_settings(iris_model):
    from cdk_sklearn.monitoring import MonitoringProps

    with pytest.raises(ValueError, match="not both"):
        synth(iris_model, monitoring=MonitoringProps(), alarm_email="ops@example.com")


def test_a_monitoring_props_object_takes_the_endpoints_namespace(iris_model):
    from cdk_sklearn.endpoint_props import EndpointProps
    from cdk_sklearn.monitoring import MonitoringProps

    props = EndpointProps.from_settings(
        model_path=iris_model, metrics_namespace="team-a", monitoring=MonitoringProps()
    )
    assert props.monitoring is not None and props.monitoring.metrics_namespace == "team-a"


def test_a_rollout_section_can_say_none(iris_model):
    from cdk_sklearn.endpoint_props import EndpointProps

    assert EndpointProps.from_settings(model_path=iris_model, rollout={"strategy": "none"}).rollout is None


@pytest.mark.parametrize(
    "front_door", [{"auth": "none"}, {"throttle_rate_limit": 5}, {"front_door": {"auth": "jwt"}}]
)
def test_fails_on_a_front_door_setting_with_a_shared_api(iris_model, front_door):
    from cdk_sklearn.front_door import SharedHttpApi

    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Test")
    api = SharedHttpApi(stack, "Api")
    with pytest.raises(ValueError, match="not set with shared_api"):
        SklearnLambdaEndpoint(stack, "Iris", model_path=str(iris_model), shared_api=api, **front_door)
