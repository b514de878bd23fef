"""The run: a failed or interrupted step still tears everything down, and the report is written."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from devtools.awsproof.plan import build_plan, read_environments
from devtools.awsproof.run import ProofRun, Services, Settings
from tests.conftest import PROJECT_DIR
from tests.unit.devtools.awsproof.fakes import ACCOUNT, REGION, START, FakeClock, stubbed

RUN = "ap2611300945c0de"
DEV, STAGING = f"SklearnProof-dev-{RUN}", f"SklearnProof-staging-{RUN}"


class Runner:
    """Plays the CDK CLI: --version, then deploys that write an outputs file, or fail on `fail_on`."""

    def __init__(self, fail_on: str | None = None, interrupt_on: str | None = None) -> None:
        self.fail_on = fail_on
        self.interrupt_on = interrupt_on
        self.commands: list[list[str]] = []

    def __call__(self, argv, cwd):
        self.commands.append(list(argv))
        if argv[1] == "--version":
            return 0, "2.1148.1 (build fcf5e34)\n"
        stack = argv[2]
        if stack == self.interrupt_on:
            os.kill(os.getpid(), signal.SIGINT)
        if stack == self.fail_on:
            return 1, f"{stack} | CREATE_FAILED | AWS::Lambda::LayerVersion | Layer\n"
        outputs = Path(argv[argv.index("--outputs-file") + 1])
        url = "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/"
        outputs.write_text(
            json.dumps({stack: {"IrisEndpointUrl5E8D2C1A": url, "FrameEndpointUrl0F1E2D3C": url}})
        )
        return 0, "done\n"


def stack_answer(name, status):
    return {"Stacks": [{"StackName": name, "StackStatus": status, "CreationTime": START}]}


def gone(stub, name):
    stub.add_client_error(
        "describe_stacks",
        "ValidationError",
        f"Stack with id {name} does not exist",
        400,
        expected_params={"StackName": name},
    )


def services(cfn):
    return Services(cloudformation=cfn, cloudwatch=None, logs=None, lambda_=None, codedeploy=None, s3=None)


def proof(tmp_path, runner, cfn, keep=False):
    plan = build_plan(RUN, REGION, ACCOUNT, read_environments(PROJECT_DIR / "cdk.json"))
    settings = Settings(
        project_dir=tmp_path, work_dir=tmp_path, report_dir=tmp_path / "docs", cdk="cdk", keep=keep
    )
    said: list[str] = []
    run = ProofRun(
        plan,
        services(cfn),
        settings,
        runner=runner,
        caller=lambda *a: pytest.fail("no call expected"),
        transport=lambda *a: pytest.fail("no call expected"),
        clock=FakeClock(),
        say=said.append,
        model_files={
            "iris": tmp_path / "iris.joblib",
            "frame": tmp_path / "frame.joblib",
            "rollback": tmp_path / "rb.joblib",
        },
    )
    return run, said


def failed_staging_deploy(tmp_path):
    """dev deploys, staging fails: teardown deletes staging (absent) and dev."""
    cfn, stub = stubbed("cloudformation")
    stub.add_response("list_stack_resources", {"StackResourceSummaries": []}, {"StackName": DEV})
    gone(stub, STAGING)
    stub.add_response("describe_stacks", stack_answer(DEV, "CREATE_COMPLETE"), {"StackName": DEV})
    stub.add_response("delete_stack", {}, {"StackName": DEV})
    gone(stub, DEV)
    run, said = proof(tmp_path, Runner(fail_on=STAGING), cfn)
    record, paths = run.execute()
    return record, paths, stub, said


def test_a_failed_deploy_still_deletes_every_stack_created(tmp_path):
    _, _, stub, _ = failed_staging_deploy(tmp_path)
    stub.assert_no_pending_responses()


def test_a_failed_deploy_is_recorded_as_the_error(tmp_path):
    record, _, _, _ = failed_staging_deploy(tmp_path)
    assert record.result == "failed" and record.error.startswith(f"DeployError: cdk deploy {STAGING} failed")


def test_teardown_is_recorded_stack_by_stack(tmp_path):
    record, _, _, _ = failed_staging_deploy(tmp_path)
    teardown = [(c.subject, c.figure) for c in record.checks if c.step == "teardown"]
    assert teardown == [(STAGING, "absent"), (DEV, "deleted")]


def test_the_report_is_written_after_a_failure(tmp_path):
    _, (json_path, md_path), _, _ = failed_staging_deploy(tmp_path)
    assert json.loads(json_path.read_text())["result"] == "failed" and md_path.read_text().startswith(
        f"# AWS proof {RUN}: failed"
    )


def test_the_report_masks_the_account(tmp_path):
    _, (json_path, _), _, _ = failed_staging_deploy(tmp_path)
    assert json.loads(json_path.read_text())["account"] == "********9012"


def test_an_interrupt_during_a_deploy_still_tears_down(tmp_path):
    cfn, stub = stubbed("cloudformation")
    stub.add_response("describe_stacks", stack_answer(DEV, "CREATE_IN_PROGRESS"), {"StackName": DEV})
    stub.add_response("describe_stacks", stack_answer(DEV, "CREATE_COMPLETE"), {"StackName": DEV})
    stub.add_response("delete_stack", {}, {"StackName": DEV})
    gone(stub, DEV)
    run, _ = proof(tmp_path, Runner(interrupt_on=DEV), cfn)
    record, _ = run.execute()
    stub.assert_no_pending_responses()
    assert record.error == "Interrupted: interrupted by SIGINT"


def test_keep_leaves_the_stacks_and_says_so(tmp_path):
    cfn, _ = stubbed("cloudformation")  # no answer stubbed: any AWS call would fail the test
    run, said = proof(tmp_path, Runner(fail_on=DEV), cfn, keep=True)
    record, _ = run.execute()
    assert record.kept and any(f"left in place: {DEV}" in line for line in said)


def test_signal_handlers_are_restored_after_the_run(tmp_path):
    before = signal.getsignal(signal.SIGINT)
    failed_staging_deploy(tmp_path)
    assert signal.getsignal(signal.SIGINT) is before
