"""The rollback step against recorded AWS answers: overwrite, execute, traffic, poll, judge."""

from __future__ import annotations

import json

from botocore.stub import ANY

from devtools.awsproof.calls import Response
from devtools.awsproof.deploy import S3Object
from devtools.awsproof.rollback import CORRUPT_MODEL, RollbackTarget, drive_rollback
from tests.unit.devtools.awsproof.fakes import START, FakeClock, stubbed

STACK = "SklearnProof-prod-ap1"
FUNCTION = "SklearnProof-prod-ap1-IrisFunction1A2B3C4D-AbCdEf"
ALARM = "SklearnProof-prod-ap1-IrisMonitoringServerErrorRateAlarm-1A2B"
TARGET = RollbackTarget(
    stack_name=STACK,
    change_set_name="aws-proof-rollback-ap1",
    function_name=FUNCTION,
    application_name="SklearnProof-prod-ap1-IrisRolloutDeploymentGroupApplication-XyZ",
    deployment_group_name="SklearnProof-prod-ap1-IrisRolloutDeploymentGroup-AbC",
    alarm_names=[ALARM],
    predict_url="https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/predict",
    predict_body={"instances": [[5.1, 3.5, 1.4, 0.2]]},
    model_object=S3Object("cdk-hnb659fds-assets-123456789012-eu-west-1", "1111.joblib"),
)


def alias(version, weights=None):
    answer = {
        "AliasArn": f"arn:aws:lambda:eu-west-1:123456789012:function:{FUNCTION}:live",
        "Name": "live",
        "FunctionVersion": version,
    }
    if weights:
        answer["RoutingConfig"] = {"AdditionalVersionWeights": weights}
    return answer


def deployment(status, rollback=True):
    info = {
        "deploymentId": "d-ABCDEF123",
        "status": status,
        "createTime": START,
        "errorInformation": {
            "code": "ALARM_ACTIVE",
            "message": f"One or more alarms have been activated: {ALARM}",
        },
    }
    if rollback:
        info["rollbackInfo"] = {
            "rollbackDeploymentId": "d-ROLLBACK1",
            "rollbackMessage": "Deployment d-ABCDEF123 rolled back",
        }
    return {"deploymentInfo": info}


def history(state):
    data = {
        "version": "1.0",
        "oldState": {"stateValue": "OK"},
        "newState": {"stateValue": state, "stateReason": "Threshold Crossed"},
    }
    return {
        "AlarmHistoryItems": [
            {
                "AlarmName": ALARM,
                "Timestamp": START,
                "HistoryItemType": "StateUpdate",
                "HistorySummary": f"Alarm updated from OK to {state}",
                "HistoryData": json.dumps(data),
            }
        ]
    }


class Traffic:
    """Answers 503 to one request in ten (the canary's share), 200 otherwise; counts requests."""

    def __init__(self, broken_share: int = 10) -> None:
        self.sent = 0
        self.broken_share = broken_share

    def __call__(self, method, url, body):
        self.sent += 1
        status = 503 if self.broken_share and self.sent % self.broken_share == 0 else 200
        return Response(status, {}, b"{}")


def clients(
    *, final="Stopped", rollback=True, fired="ALARM", back_to="3", stack_after="UPDATE_ROLLBACK_COMPLETE"
):
    """Stubbed clients answering a canary that an alarm stops after 30 s (two polls)."""
    cfn, cfn_stub = stubbed("cloudformation")
    codedeploy, cd_stub = stubbed("codedeploy")
    cloudwatch, cw_stub = stubbed("cloudwatch")
    lambda_, l_stub = stubbed("lambda")
    s3, s3_stub = stubbed("s3")
    l_stub.add_response("get_alias", alias("3"), {"FunctionName": FUNCTION, "Name": "live"})
    s3_stub.add_response(
        "put_object", {}, {"Bucket": TARGET.model_object.bucket, "Key": "1111.joblib", "Body": CORRUPT_MODEL}
    )
    cfn_stub.add_response(
        "execute_change_set", {}, {"ChangeSetName": TARGET.change_set_name, "StackName": STACK}
    )
    group = {
        "applicationName": TARGET.application_name,
        "deploymentGroupName": TARGET.deployment_group_name,
        "createTimeRange": {"start": START},
    }
    cd_stub.add_response("list_deployments", {"deployments": []}, group)
    cd_stub.add_response("list_deployments", {"deployments": ["d-ABCDEF123"]}, group)
    cd_stub.add_response(
        "get_deployment", deployment("InProgress", rollback=False), {"deploymentId": "d-ABCDEF123"}
    )
    cd_stub.add_response(
        "get_deployment", deployment(final, rollback=rollback), {"deploymentId": "d-ABCDEF123"}
    )
    cfn_stub.add_response(
        "describe_stacks",
        {"Stacks": [{"StackName": STACK, "StackStatus": stack_after, "CreationTime": START}]},
        {"StackName": STACK},
    )
    cw_stub.add_response(
        "describe_alarm_history",
        history(fired),
        {"AlarmName": ALARM, "HistoryItemType": "StateUpdate", "StartDate": START, "MaxRecords": 100},
    )
    l_stub.add_response(
        "get_alias",
        alias(back_to, None if back_to == "3" else {"3": 0.9}),
        {"FunctionName": FUNCTION, "Name": "live"},
    )
    stubs = (cfn_stub, cd_stub, cw_stub, l_stub, s3_stub)
    return dict(
        cloudformation=cfn, codedeploy=codedeploy, cloudwatch=cloudwatch, lambda_client=lambda_, s3=s3
    ), stubs


def run(traffic=None, **answers):
    aws, stubs = clients(**answers)
    result = drive_rollback(TARGET, caller=traffic or Traffic(), clock=FakeClock(), **aws)
    for stub in stubs:
        stub.assert_no_pending_responses()
    return result


def test_a_stopped_deployment_rolled_back_on_alarm_passes():
    assert run().problems == []


def test_the_deployment_and_its_rollback_are_recorded():
    result = run()
    assert (result.deployment_status, result.error_code, result.rollback_info["rollbackDeploymentId"]) == (
        "Stopped",
        "ALARM_ACTIVE",
        "d-ROLLBACK1",
    )


def test_traffic_is_sent_until_the_deployment_stops():
    traffic = Traffic()
    result = run(traffic)
    assert result.seconds_to_stop == 30.0 and traffic.sent == 61


def test_the_new_versions_503s_are_counted():
    assert run().answers == {200: 55, 503: 6}


def test_fails_when_the_deployment_succeeds():
    result = run(final="Succeeded", rollback=False)
    assert any("not Failed or Stopped" in p for p in result.problems)


def test_fails_when_no_alarm_fired():
    result = run(fired="OK")
    assert any("none of the rollback alarms" in p for p in result.problems)


def test_fails_when_the_alias_stays_on_the_new_version():
    result = run(back_to="4")
    assert any("alias live is on version 4" in p for p in result.problems)


def test_fails_when_the_new_version_never_answered_503():
    result = run(Traffic(broken_share=0))
    assert any("never answered 503" in p for p in result.problems)


def test_fails_when_no_deployment_finishes_in_time():
    aws, _ = clients()
    # The deployment never leaves InProgress: the loop stops at the timeout.
    codedeploy, cd_stub = stubbed("codedeploy")
    group = {
        "applicationName": TARGET.application_name,
        "deploymentGroupName": TARGET.deployment_group_name,
        "createTimeRange": {"start": START},
    }
    cd_stub.add_response("list_deployments", {"deployments": ["d-ABCDEF123"]}, group)
    for _ in range(4):
        cd_stub.add_response(
            "get_deployment", deployment("InProgress", rollback=False), {"deploymentId": ANY}
        )
    aws["codedeploy"] = codedeploy
    aws["cloudformation"], cfn_stub = stubbed("cloudformation")
    cfn_stub.add_response(
        "execute_change_set", {}, {"ChangeSetName": TARGET.change_set_name, "StackName": STACK}
    )
    result = drive_rollback(TARGET, caller=Traffic(), clock=FakeClock(), timeout=60, **aws)
    assert any("no deployment reached" in p for p in result.problems)
