"""A whole run against recorded AWS answers: three deploys, calls, cold starts, metrics, rollback,
teardown and the report, with the CDK CLI played by a fake and every AWS client a stubbed boto3 one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from devtools.awsproof import models
from devtools.awsproof.calls import Response
from devtools.awsproof.metrics import MAY_BE_ABSENT, alarm_metrics, runtime_metrics
from devtools.awsproof.plan import ENVIRONMENTS, build_plan, read_environments
from devtools.awsproof.rollback import CORRUPT_MODEL
from devtools.awsproof.run import ProofRun, Services, Settings
from lambda_runtime.contract import ROUTES
from tests.conftest import PROJECT_DIR
from tests.unit.devtools.awsproof.fakes import ACCOUNT, REGION, START, FakeClock, report_line, stubbed

RUN = "ap2611300945c0de"
PLAN = build_plan(RUN, REGION, ACCOUNT, read_environments(PROJECT_DIR / "cdk.json"))
CALLS = sum(len(route.verbs) for route in ROUTES) * 3
BUCKET = f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}"


def function(env, cid):
    return f"SklearnProof-{env}-{RUN}-{cid}Function1A2B3C4D-AbCdEf"


def url(env, key):
    return f"https://{key}{env}0001.execute-api.{REGION}.amazonaws.com/"


def alarms(env_plan):
    """The alarms of a monitored environment, as describe_alarms answers them."""
    found = {}
    for model in env_plan.models:
        fn = function(env_plan.name, model.construct_id)
        alias = [{"Name": "FunctionName", "Value": fn}, {"Name": "Resource", "Value": f"{fn}:live"}]
        emf = [{"Name": "ModelName", "Value": model.model_name}]

        def stat(id_, namespace, name, dims):
            return {
                "Id": id_,
                "MetricStat": {
                    "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dims},
                    "Period": 60,
                    "Stat": "Sum",
                },
                "ReturnData": False,
            }

        prefix = f"SklearnProof-{env_plan.name}-{RUN}-{model.construct_id}Monitoring"
        common = {
            "EvaluationPeriods": 3,
            "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanThreshold",
            "StateValue": "OK",
        }
        items = [
            {
                **common,
                "AlarmName": f"{prefix}ServerErrorRateAlarm-A1",
                "Metrics": [
                    {
                        "Id": "expr",
                        "Expression": "100 * (FILL(serverErrors, 0) + FILL(functionErrors, 0)) / invocations",
                        "ReturnData": True,
                    },
                    stat("serverErrors", "cdk-sklearn", "5xx", emf),
                    stat("functionErrors", "AWS/Lambda", "Errors", alias),
                    stat("invocations", "AWS/Lambda", "Invocations", alias),
                ],
            },
            {
                **common,
                "AlarmName": f"{prefix}LatencyP99Alarm-B2",
                "Namespace": "cdk-sklearn",
                "MetricName": "PredictionLatency",
                "Dimensions": emf,
                "ExtendedStatistic": "p99",
                "Period": 60,
            },
            {
                **common,
                "AlarmName": f"{prefix}ThrottlesAlarm-C3",
                "Namespace": "AWS/Lambda",
                "MetricName": "Throttles",
                "Dimensions": alias,
                "Statistic": "Sum",
                "Period": 60,
            },
        ]
        if env_plan.cold_start == "provisioned":
            items.append(
                {
                    **common,
                    "AlarmName": f"{prefix}ProvisionedSpilloverAlarm-D4",
                    "Namespace": "AWS/Lambda",
                    "MetricName": "ProvisionedConcurrencySpilloverInvocations",
                    "Dimensions": alias,
                    "Statistic": "Sum",
                    "Period": 60,
                }
            )
        found[model.construct_id] = items
    return found


def resources(env_plan):
    items = []
    for model in env_plan.models:
        cid = model.construct_id
        items.append((f"{cid}Function1A2B3C4D", function(env_plan.name, cid), "AWS::Lambda::Function"))
        items.append(
            (
                f"{cid}FunctionLogs5E6F7A8B",
                f"/aws/lambda/{function(env_plan.name, cid)}",
                "AWS::Logs::LogGroup",
            )
        )
        if env_plan.monitoring:
            for alarm in alarms(env_plan)[cid]:
                stem = alarm["AlarmName"].split("Monitoring")[1].split("-")[0]
                items.append((f"{cid}Monitoring{stem}12345678", alarm["AlarmName"], "AWS::CloudWatch::Alarm"))
        if env_plan.rollout != "none":
            items.append(
                (
                    f"{cid}RolloutDeploymentGroupApplication1A2B",
                    f"{cid}-app-{env_plan.name}",
                    "AWS::CodeDeploy::Application",
                )
            )
            items.append(
                (
                    f"{cid}RolloutDeploymentGroup3C4D5E6F",
                    f"{cid}-group-{env_plan.name}",
                    "AWS::CodeDeploy::DeploymentGroup",
                )
            )
    return {
        "StackResourceSummaries": [
            {
                "LogicalResourceId": lid,
                "PhysicalResourceId": pid,
                "ResourceType": type_,
                "LastUpdatedTimestamp": START,
                "ResourceStatus": "CREATE_COMPLETE",
            }
            for lid, pid, type_ in items
        ]
    }


class Cdk:
    """The CDK CLI: deploys write the outputs file; prepare-change-set writes the assets manifest."""

    def __init__(self, rollback_model: Path) -> None:
        self.rollback_model = rollback_model

    def __call__(self, argv, cwd):
        if argv[1] == "--version":
            return 0, "2.1148.1 (build fcf5e34)\n"
        stack, env = argv[2], argv[2].split("-")[1]
        if "prepare-change-set" in argv:
            out = Path(argv[argv.index("-o") + 1])
            out.mkdir(parents=True, exist_ok=True)
            shutil.copy(self.rollback_model, out / "asset.9999.joblib")
            destination = {
                "bucketName": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}",
                "objectKey": "9999.joblib",
            }
            manifest = {
                "version": "48.0.0",
                "files": {
                    "9999": {
                        "source": {"path": "asset.9999.joblib", "packaging": "file"},
                        "destinations": {"current": destination},
                    }
                },
            }
            (out / f"{stack}.assets.json").write_text(json.dumps(manifest))
            return 0, "Changeset created\n"
        outputs = Path(argv[argv.index("--outputs-file") + 1])
        outputs.write_text(
            json.dumps(
                {
                    stack: {
                        "IrisEndpointUrl5E8D2C1A": url(env, "iris"),
                        "FrameEndpointUrl0F1E2D3C": url(env, "frame"),
                    }
                }
            )
        )
        return 0, "deployed\n"


class Endpoints:
    """Answers signed calls as the deployed runtime would, with scikit-learn's predictions."""

    def __init__(self, files) -> None:
        self.truth = {
            "iris": (
                models.local_predictions(files["iris"], models.IRIS_ROWS),
                models.sha256_file(files["iris"]),
            ),
            "frame": (
                models.local_predictions(files["frame"], models.FRAME_ROWS),
                models.sha256_file(files["frame"]),
            ),
        }

    def __call__(self, method, address, body):
        parts = urlsplit(address)
        key = "iris" if parts.hostname.startswith("iris") else "frame"
        predictions, sha = self.truth[key]
        path = parts.path
        if path in ("/health", "/metadata"):
            return Response(200, {}, json.dumps({"status": "ok", "sha256": sha}).encode())
        if path == "/predict":
            return Response(200, {}, json.dumps({"predictions": predictions}).encode())
        if path.endswith("/infer"):
            return Response(
                200, {}, json.dumps({"outputs": [{"name": "predict", "data": predictions}]}).encode()
            )
        if path.startswith("/v2/models/") and path.count("/") == 3:
            return Response(200, {}, json.dumps({"name": path.rsplit("/", 1)[1]}).encode())
        return Response(200, {}, b"{}")


class RollbackTraffic(Endpoints):
    """After the change set is executed, one /predict in ten reaches the new version: 503."""

    def __init__(self, files) -> None:
        super().__init__(files)
        self.shifting = False
        self.sent = 0

    def __call__(self, method, address, body):
        if self.shifting and urlsplit(address).path == "/predict":
            self.sent += 1
            if self.sent % 10 == 0:
                return Response(503, {}, b'{"error": "sha256 mismatch"}')
        return super().__call__(method, address, body)


def stub_aws():
    cfn, cfn_stub = stubbed("cloudformation")
    cw, cw_stub = stubbed("cloudwatch")
    logs, logs_stub = stubbed("logs")
    lam, lam_stub = stubbed("lambda")
    cd, cd_stub = stubbed("codedeploy")
    s3, s3_stub = stubbed("s3")
    for env in PLAN.environments:
        cfn_stub.add_response("list_stack_resources", resources(env), {"StackName": env.stack_name})
    # cold starts: two functions per environment, REPORT lines as each strategy writes them
    for env in PLAN.environments:
        for model in env.models:
            fn = function(env.name, model.construct_id)
            group = f"/aws/lambda/{fn}"
            lam_stub.add_response(
                "get_function_configuration",
                {"FunctionName": fn, "LoggingConfig": {"LogGroup": group, "LogFormat": "Text"}},
                {"FunctionName": fn},
            )
            first = {"none": {"init": 1543.2}, "snapstart": {"restore": 612.4}, "provisioned": {}}[
                env.cold_start
            ]
            lines = [
                report_line(f"r-{i}", 20.0 if i else 80.0, **(first if i == 0 else {})) for i in range(CALLS)
            ]
            events = {
                "events": [
                    {"logStreamName": "s", "timestamp": 1, "message": m, "eventId": str(i)}
                    for i, m in enumerate(lines)
                ]
            }
            logs_stub.add_response(
                "filter_log_events",
                events,
                {
                    "logGroupName": group,
                    "startTime": int(START.timestamp() * 1000),
                    "filterPattern": '"REPORT RequestId"',
                },
            )
    # metrics of the monitored environments: every metric published except spillover and throttles
    for env in PLAN.environments:
        if not env.monitoring:
            continue
        readers = []
        for model in env.models:
            described = alarms(env)[model.construct_id]
            cw_stub.add_response(
                "describe_alarms",
                {"MetricAlarms": described},
                {"AlarmNames": [a["AlarmName"] for a in described], "AlarmTypes": ["MetricAlarm"]},
            )
            readers += [m for a in described for m in alarm_metrics(a)] + runtime_metrics(model.model_name)
        wanted = sorted(set(readers), key=str)
        for metric in wanted:
            present = metric.name not in MAY_BE_ABSENT
            listed = (
                [
                    {
                        "Namespace": metric.namespace,
                        "MetricName": metric.name,
                        "Dimensions": metric.api_dimensions(),
                    }
                ]
                if present
                else []
            )
            cw_stub.add_response(
                "list_metrics",
                {"Metrics": listed},
                {
                    "Namespace": metric.namespace,
                    "MetricName": metric.name,
                    "Dimensions": metric.api_dimensions(),
                },
            )
        for metric in wanted:
            if metric.name not in MAY_BE_ABSENT:
                cw_stub.add_response(
                    "get_metric_statistics",
                    {"Label": metric.name, "Datapoints": [{"Timestamp": START, "Sum": 27.0}]},
                )
    # rollback on prod's Iris
    iris_fn = function("prod", "Iris")
    lam_stub.add_response(
        "get_alias", {"Name": "live", "FunctionVersion": "1"}, {"FunctionName": iris_fn, "Name": "live"}
    )
    s3_stub.add_response("put_object", {}, {"Bucket": BUCKET, "Key": "9999.joblib", "Body": CORRUPT_MODEL})
    cfn_stub.add_response(
        "execute_change_set",
        {},
        {"ChangeSetName": f"aws-proof-rollback-{RUN}", "StackName": f"SklearnProof-prod-{RUN}"},
    )
    cd_stub.add_response("list_deployments", {"deployments": ["d-ABC"]})
    cd_stub.add_response(
        "get_deployment", {"deploymentInfo": {"deploymentId": "d-ABC", "status": "InProgress"}}
    )
    cd_stub.add_response(
        "get_deployment",
        {
            "deploymentInfo": {
                "deploymentId": "d-ABC",
                "status": "Stopped",
                "errorInformation": {"code": "ALARM_ACTIVE"},
                "rollbackInfo": {"rollbackDeploymentId": "d-RB"},
            }
        },
    )
    cfn_stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": f"SklearnProof-prod-{RUN}",
                    "StackStatus": "UPDATE_ROLLBACK_COMPLETE",
                    "CreationTime": START,
                }
            ]
        },
    )
    fired = {
        "AlarmHistoryItems": [
            {
                "AlarmName": "x",
                "Timestamp": START,
                "HistoryItemType": "StateUpdate",
                "HistorySummary": "OK to ALARM",
                "HistoryData": json.dumps({"newState": {"stateValue": "ALARM"}}),
            }
        ]
    }
    cw_stub.add_response("describe_alarm_history", fired)
    cw_stub.add_response("describe_alarm_history", {"AlarmHistoryItems": []})
    lam_stub.add_response(
        "get_alias", {"Name": "live", "FunctionVersion": "1"}, {"FunctionName": iris_fn, "Name": "live"}
    )
    # teardown, newest stack first
    for env in reversed(PLAN.environments):
        cfn_stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": env.stack_name,
                        "StackStatus": "UPDATE_ROLLBACK_COMPLETE"
                        if env.name == "prod"
                        else "CREATE_COMPLETE",
                        "CreationTime": START,
                    }
                ]
            },
            {"StackName": env.stack_name},
        )
        cfn_stub.add_response("delete_stack", {}, {"StackName": env.stack_name})
        cfn_stub.add_client_error(
            "describe_stacks", "ValidationError", f"Stack with id {env.stack_name} does not exist", 400
        )
    s3_stub.add_response("delete_object", {}, {"Bucket": BUCKET, "Key": "9999.joblib"})
    services = Services(cloudformation=cfn, cloudwatch=cw, logs=logs, lambda_=lam, codedeploy=cd, s3=s3)
    return services, (cfn_stub, cw_stub, logs_stub, lam_stub, cd_stub, s3_stub)


@pytest.fixture(scope="module")
def outcome(iris_model, tmp_path_factory):
    work = tmp_path_factory.mktemp("run")
    files = {
        "iris": iris_model,
        "frame": models.train_frame(work / "frame.joblib"),
        "rollback": models.train_rollback(work / "rollback.joblib", RUN),
    }
    traffic = RollbackTraffic(files)
    services, stubs = stub_aws()
    clock = FakeClock()  # calls take no fake time: every step's `since` is START
    original = services.cloudformation.execute_change_set

    def execute_change_set(**kwargs):
        traffic.shifting = True
        return original(**kwargs)

    services.cloudformation.execute_change_set = execute_change_set
    settings = Settings(project_dir=work, work_dir=work, report_dir=work / "docs", cdk="cdk")
    run = ProofRun(
        PLAN,
        services,
        settings,
        runner=Cdk(files["rollback"]),
        caller=traffic,
        transport=lambda *a: Response(403, {}, b'{"message":"Forbidden"}'),
        clock=clock,
        say=lambda line: None,
        model_files=files,
    )
    record, paths = run.execute()
    return record, paths, stubs


def test_a_run_where_aws_behaves_passes(outcome):
    record, _, _ = outcome
    assert [c for c in record.checks if not c.passed] == [] and record.result == "passed"


def test_every_recorded_aws_answer_was_asked_for(outcome):
    _, _, stubs = outcome
    for stub in stubs:
        stub.assert_no_pending_responses()


def test_each_environment_is_deployed_called_and_torn_down(outcome):
    record, _, _ = outcome
    steps = {(c.step, c.environment) for c in record.checks}
    assert all(
        (step, env) in steps for env in ENVIRONMENTS for step in ("deploy", "call", "cold start", "teardown")
    )


def test_every_route_is_checked_on_every_endpoint_plus_an_unsigned_call(outcome):
    record, _, _ = outcome
    calls = [c for c in record.checks if c.step == "call"]
    assert len(calls) == len(ENVIRONMENTS) * 2 * (sum(len(r.verbs) for r in ROUTES) + 1)


def test_cold_start_figures_are_the_report_lines(outcome):
    record, _, _ = outcome
    figures = {
        c.environment: c.figure for c in record.checks if c.step == "cold start" and "Iris" in c.subject
    }
    assert figures == {
        "dev": "Init Duration 1543 ms",
        "staging": "Restore Duration 612 ms",
        "prod": f"no init in {CALLS} calls, median Duration 20.0 ms",
    }


def test_absent_spillover_is_reported_not_failed(outcome):
    record, _, _ = outcome
    spill = [c for c in record.checks if "ProvisionedConcurrencySpilloverInvocations" in c.subject]
    assert spill and all(c.passed and c.figure == "absent" for c in spill)


def test_the_rollback_is_recorded_with_its_deployment(outcome):
    record, _, _ = outcome
    (rollback,) = [c for c in record.checks if c.step == "rollback"]
    assert rollback.passed and rollback.figure.startswith("deployment Stopped after ")


def test_the_overwritten_object_is_deleted(outcome):
    record, _, _ = outcome
    assert any(c.subject == "overwritten model object" and c.figure == "deleted" for c in record.checks)


def test_the_report_is_written(outcome):
    _, (json_path, md_path), _ = outcome
    assert (
        json.loads(json_path.read_text())["result"] == "passed"
        and "| rollback | prod |" in md_path.read_text()
    )
