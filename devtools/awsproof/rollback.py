"""The rollback proof: a new version that refuses its model is rolled back by CodeDeploy on alarm.

The steps, on the rollback environment's ``Iris`` endpoint:

1. ``cdk deploy --method prepare-change-set`` with another model file: CDK uploads the new model object
   and creates (without executing) a change set whose function has a new version;
2. the new model object is overwritten in S3 with other bytes, so the new version's SHA-256 check
   fails and it answers every request 503 — before any traffic reaches it;
3. the change set is executed; CloudFormation hands the alias update to CodeDeploy, which shifts
   traffic (canary: 10 %) while this module sends signed ``/predict`` requests through the front door;
4. the error-rate alarm fires, CodeDeploy stops the deployment and puts the alias back on the
   previous version, and CloudFormation rolls the stack update back.

The overwritten object stays in the CDK assets bucket under the key CDK derives from the model's
content, where a later deploy of the same file would find it "already uploaded": teardown deletes it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from devtools.awsproof.calls import Response
from devtools.awsproof.clock import Clock
from devtools.awsproof.deploy import S3Object, wait_for_stack

CORRUPT_MODEL: Final = b"cdk-sklearn aws-proof: these bytes replaced the model to prove the rollback\n"
FINAL_STATUSES: Final = ("Succeeded", "Failed", "Stopped")
ROLLED_BACK_STATUSES: Final = ("Failed", "Stopped")
TRAFFIC_PER_SECOND: Final = 2.0
DEPLOYMENT_POLL_SECONDS: Final = 15.0
ROLLBACK_TIMEOUT_SECONDS: Final = 1800.0
STACK_ROLLBACK_TIMEOUT_SECONDS: Final = 1800.0


@dataclass(frozen=True)
class RollbackTarget:
    """What the rollback acts on, read from the deployed stack."""

    stack_name: str
    change_set_name: str
    function_name: str
    application_name: str
    deployment_group_name: str
    alarm_names: Sequence[str]
    predict_url: str
    predict_body: Any
    model_object: S3Object


@dataclass(frozen=True)
class RollbackResult:
    """What happened, and whether it is the rollback the proof expects."""

    previous_version: str
    deployment_id: str | None
    deployment_status: str | None
    rollback_info: dict[str, Any] | None
    error_code: str | None
    alarms_fired: list[str]
    alias_version: str | None
    alias_weights: dict[str, float]
    answers: dict[int, int]
    stack_status: str | None
    seconds_to_stop: float | None
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every expectation held (``problems`` is empty)."""
        return not self.problems


def overwrite_model(s3: Any, target: S3Object) -> None:
    """Replace the new version's model object with :data:`CORRUPT_MODEL`."""
    s3.put_object(Bucket=target.bucket, Key=target.key, Body=CORRUPT_MODEL)


def alias_state(lambda_client: Any, function_name: str) -> tuple[str, dict[str, float]]:
    """The ``live`` alias's version and its additional version weights (empty when not shifting)."""
    alias = lambda_client.get_alias(FunctionName=function_name, Name="live")
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return str(alias["FunctionVersion"]), {str(k): float(v) for k, v in weights.items()}


def find_deployment(codedeploy: Any, application: str, group: str, since: dt.datetime) -> str | None:
    """The id of the deployment the group started since ``since``, if any yet."""
    answer = codedeploy.list_deployments(
        applicationName=application, deploymentGroupName=group, createTimeRange={"start": since}
    )
    ids = answer.get("deployments", [])
    return str(ids[0]) if ids else None


def alarms_fired(cloudwatch: Any, names: Sequence[str], since: dt.datetime) -> list[str]:
    """The alarms among ``names`` that went into ALARM since ``since`` (alarm history)."""
    fired = []
    for name in names:
        history = cloudwatch.describe_alarm_history(
            AlarmName=name, HistoryItemType="StateUpdate", StartDate=since, MaxRecords=100
        )
        for item in history.get("AlarmHistoryItems", []):
            data = json.loads(item.get("HistoryData") or "{}")
            if data.get("newState", {}).get("stateValue") == "ALARM":
                fired.append(name)
                break
    return fired


def drive_rollback(
    target: RollbackTarget,
    *,
    cloudformation: Any,
    codedeploy: Any,
    cloudwatch: Any,
    lambda_client: Any,
    s3: Any,
    caller: Callable[[str, str, Any], Response],
    clock: Clock,
    timeout: float = ROLLBACK_TIMEOUT_SECONDS,
) -> RollbackResult:
    """Overwrite the model, execute the prepared change set, send traffic, and judge the rollback.

    The change set must already exist (prepared by ``cdk deploy --method prepare-change-set``).

    Returns
    -------
    RollbackResult
        ``problems`` lists every expectation that did not hold: a deployment that succeeded, no
        alarm, no 503, the alias left on the new version, the stack not rolled back.
    """
    previous, _ = alias_state(lambda_client, target.function_name)
    overwrite_model(s3, target.model_object)
    since = clock.now()
    cloudformation.execute_change_set(ChangeSetName=target.change_set_name, StackName=target.stack_name)
    traffic = _send_until_stopped(target, codedeploy, caller, clock, since, timeout)
    info = traffic.info
    stack = None
    if traffic.stopped_after is not None:
        stack = wait_for_stack(
            cloudformation,
            target.stack_name,
            done=("UPDATE_ROLLBACK_COMPLETE", "UPDATE_COMPLETE"),
            failed=("UPDATE_ROLLBACK_FAILED",),
            clock=clock,
            timeout=STACK_ROLLBACK_TIMEOUT_SECONDS,
        )
    fired = alarms_fired(cloudwatch, target.alarm_names, since)
    version, weights = alias_state(lambda_client, target.function_name)
    result = RollbackResult(
        previous_version=previous,
        deployment_id=traffic.deployment_id,
        deployment_status=info.get("status"),
        rollback_info=info.get("rollbackInfo"),
        error_code=(info.get("errorInformation") or {}).get("code"),
        alarms_fired=fired,
        alias_version=version,
        alias_weights=weights,
        answers=dict(traffic.answers),
        stack_status=stack,
        seconds_to_stop=traffic.stopped_after,
    )
    result.problems.extend(_problems(result, target, timeout))
    return result


@dataclass
class _Traffic:
    """What the traffic step saw: the answers, and the deployment until it stopped (if it did)."""

    answers: Counter[int] = field(default_factory=Counter)
    deployment_id: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    stopped_after: float | None = None


def _send_until_stopped(
    target: RollbackTarget,
    codedeploy: Any,
    caller: Callable[[str, str, Any], Response],
    clock: Clock,
    since: dt.datetime,
    timeout: float,
) -> _Traffic:
    # Traffic is what makes the alarm fire; the deployment is polled less often than requests are sent.
    traffic = _Traffic()
    started = clock.monotonic()
    next_poll = started
    while clock.monotonic() - started < timeout:
        traffic.answers[caller("POST", target.predict_url, target.predict_body).status] += 1
        if clock.monotonic() >= next_poll:
            next_poll = clock.monotonic() + DEPLOYMENT_POLL_SECONDS
            traffic.deployment_id = traffic.deployment_id or find_deployment(
                codedeploy, target.application_name, target.deployment_group_name, since
            )
            if traffic.deployment_id is not None:
                traffic.info = codedeploy.get_deployment(deploymentId=traffic.deployment_id)["deploymentInfo"]
                if traffic.info.get("status") in FINAL_STATUSES:
                    traffic.stopped_after = clock.monotonic() - started
                    break
        clock.sleep(1.0 / TRAFFIC_PER_SECOND)
    return traffic


def _problems(result: RollbackResult, target: RollbackTarget, timeout: float) -> list[str]:
    problems: list[str] = []
    status = result.deployment_status
    stopped = result.seconds_to_stop is not None
    if not stopped:
        problems.append(
            f"no deployment reached {'/'.join(FINAL_STATUSES)} within {timeout:g} s (last: {status})"
        )
    if status not in ROLLED_BACK_STATUSES:
        problems.append(f"deployment status is {status}, not {' or '.join(ROLLED_BACK_STATUSES)}")
    if not result.rollback_info:
        problems.append("the deployment has no rollbackInfo: CodeDeploy did not roll back")
    if not result.alarms_fired:
        problems.append(f"none of the rollback alarms went into ALARM: {', '.join(target.alarm_names)}")
    if result.answers.get(503, 0) == 0:
        problems.append(f"the new version never answered 503 (answers: {result.answers})")
    if result.alias_version != result.previous_version or result.alias_weights:
        problems.append(
            f"alias live is on version {result.alias_version} with weights {result.alias_weights}, "
            f"not back on {result.previous_version}"
        )
    if stopped and result.stack_status != "UPDATE_ROLLBACK_COMPLETE":
        problems.append(f"stack {target.stack_name} is {result.stack_status}, not UPDATE_ROLLBACK_COMPLETE")
    return problems
