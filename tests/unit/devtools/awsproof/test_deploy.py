"""Deploy steps: the cdk command line, the outputs file, stack resources, teardown polling, assets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devtools.awsproof.clock import ProofTimeout
from devtools.awsproof.deploy import (
    DeployError,
    S3Object,
    cdk_deploy_argv,
    delete_stack,
    model_object,
    parse_outputs,
    resource_of,
    run_cdk,
    stack_resources,
)
from devtools.awsproof.plan import build_plan, read_environments
from tests.conftest import PROJECT_DIR
from tests.unit.devtools.awsproof.fakes import ACCOUNT, REGION, FakeClock, stubbed

RUN = "ap2611300945c0de"
STACK = f"SklearnProof-prod-{RUN}"
# What `cdk deploy --outputs-file` writes (output logical ids: construct path + 8-hex hash).
OUTPUTS = {
    STACK: {
        "IrisEndpointUrl5E8D2C1A": "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/",
        "IrisAlarmTopicArnB7A1C2D3": f"arn:aws:sns:eu-west-1:{ACCOUNT}:{STACK}-IrisTopic-AbC",
        "FrameEndpointUrl0F1E2D3C": "https://f6g7h8i9j0.execute-api.eu-west-1.amazonaws.com/",
        "FrameAlarmTopicArn9A8B7C6D": f"arn:aws:sns:eu-west-1:{ACCOUNT}:{STACK}-FrameTopic-DeF",
        "ExportsOutputRefSomething12345678": "ignored",
    }
}


@pytest.fixture(scope="module")
def prod():
    return build_plan(RUN, REGION, ACCOUNT, read_environments(PROJECT_DIR / "cdk.json")).rollback_environment


def argv(prod, **kwargs):
    return cdk_deploy_argv(
        prod,
        RUN,
        cdk="node_modules/.bin/cdk",
        python="/venv/bin/python",
        outputs_file=Path("out.json"),
        out_dir=Path("cdk.out-prod"),
        model_paths={"iris": Path("models/iris.joblib"), "frame": Path("frame.joblib")},
        **kwargs,
    )


def test_deploy_uses_the_pinned_cli_without_approval(prod):
    command = argv(prod)
    assert command[:3] == ["node_modules/.bin/cdk", "deploy", STACK]
    assert command[command.index("--require-approval") + 1] == "never"


def test_deploy_tags_the_stack_with_the_run(prod):
    command = argv(prod)
    assert command[command.index("--tags") + 1] == f"cdk-sklearn:aws-proof-run={RUN}"


def test_deploy_passes_environment_run_and_models_as_context(prod):
    command = argv(prod)
    context = {command[i + 1] for i, arg in enumerate(command) if arg == "-c"}
    assert context == {
        "env=prod",
        f"aws_proof_run={RUN}",
        "aws_proof_model_iris=models/iris.joblib",
        "aws_proof_model_frame=frame.joblib",
    }


def test_rollback_prepares_a_named_change_set(prod):
    command = argv(prod, method="prepare-change-set", change_set_name="rb")
    assert command[command.index("--method") + 1 :][:3] == ["prepare-change-set", "--change-set-name", "rb"]


def test_outputs_give_each_endpoints_url(tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(OUTPUTS))
    endpoints = parse_outputs(path, STACK)
    assert {k: v.url for k, v in endpoints.items()} == {
        "Iris": OUTPUTS[STACK]["IrisEndpointUrl5E8D2C1A"],
        "Frame": OUTPUTS[STACK]["FrameEndpointUrl0F1E2D3C"],
    }


def test_outputs_give_each_endpoints_alarm_topic(tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(OUTPUTS))
    assert parse_outputs(path, STACK)["Frame"].alarm_topic_arn == OUTPUTS[STACK]["FrameAlarmTopicArn9A8B7C6D"]


def test_fails_when_the_outputs_file_lacks_the_stack(tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"OtherStack": {}}))
    with pytest.raises(DeployError, match=f"no outputs for stack {STACK}"):
        parse_outputs(path, STACK)


def test_fails_when_the_outputs_file_is_missing(tmp_path):
    with pytest.raises(DeployError, match="cannot read the outputs file"):
        parse_outputs(tmp_path / "missing.json", STACK)


def test_fails_when_the_cdk_cli_fails_showing_its_last_lines(tmp_path):
    with pytest.raises(DeployError, match=r"exit 1.*\n.*is in ROLLBACK_COMPLETE"):
        run_cdk(
            ["cdk"], lambda argv, cwd: (1, f"Stack {STACK} is in ROLLBACK_COMPLETE\n"), tmp_path, "cdk deploy"
        )


def summary(logical, physical, type_):
    return {
        "LogicalResourceId": logical,
        "PhysicalResourceId": physical,
        "ResourceType": type_,
        "LastUpdatedTimestamp": "2026-11-30T09:50:00Z",
        "ResourceStatus": "CREATE_COMPLETE",
    }


def test_stack_resources_reads_every_page():
    cfn, stub = stubbed("cloudformation")
    stub.add_response(
        "list_stack_resources",
        {
            "StackResourceSummaries": [summary("IrisFunction1A2B3C4D", "fn-iris", "AWS::Lambda::Function")],
            "NextToken": "t",
        },
        {"StackName": STACK},
    )
    stub.add_response(
        "list_stack_resources",
        {"StackResourceSummaries": [summary("FrameFunction5E6F7A8B", "fn-frame", "AWS::Lambda::Function")]},
        {"StackName": STACK, "NextToken": "t"},
    )
    assert [r.physical_id for r in stack_resources(cfn, STACK)] == ["fn-iris", "fn-frame"]


def test_fails_when_a_resource_is_ambiguous():
    from devtools.awsproof.deploy import StackResource

    resources = [StackResource(f"IrisFunction{i}", f"fn{i}", "AWS::Lambda::Function") for i in range(2)]
    with pytest.raises(DeployError, match="expected one AWS::Lambda::Function named IrisFunction"):
        resource_of(resources, "Iris", "AWS::Lambda::Function", "Function")


def stack(status):
    return {"Stacks": [{"StackName": STACK, "StackStatus": status, "CreationTime": "2026-11-30T09:50:00Z"}]}


def gone(stub):
    stub.add_client_error(
        "describe_stacks",
        "ValidationError",
        f"Stack with id {STACK} does not exist",
        400,
        expected_params={"StackName": STACK},
    )


def test_delete_waits_until_the_stack_is_gone():
    cfn, stub = stubbed("cloudformation")
    stub.add_response("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"), {"StackName": STACK})
    stub.add_response("delete_stack", {}, {"StackName": STACK})
    stub.add_response("describe_stacks", stack("DELETE_IN_PROGRESS"), {"StackName": STACK})
    gone(stub)
    clock = FakeClock()
    assert delete_stack(cfn, STACK, clock=clock) == "deleted"
    stub.assert_no_pending_responses()


def test_delete_polls_on_the_injected_clock():
    cfn, stub = stubbed("cloudformation")
    stub.add_response("describe_stacks", stack("CREATE_COMPLETE"), {"StackName": STACK})
    stub.add_response("delete_stack", {}, {"StackName": STACK})
    stub.add_response("describe_stacks", stack("DELETE_IN_PROGRESS"), {"StackName": STACK})
    gone(stub)
    clock = FakeClock()
    delete_stack(cfn, STACK, clock=clock)
    assert clock.sleeps == [15.0]


def test_delete_cancels_an_update_in_progress_and_waits_for_its_rollback():
    cfn, stub = stubbed("cloudformation")
    stub.add_response("describe_stacks", stack("UPDATE_IN_PROGRESS"), {"StackName": STACK})
    stub.add_response("cancel_update_stack", {}, {"StackName": STACK})
    stub.add_response("describe_stacks", stack("UPDATE_ROLLBACK_IN_PROGRESS"), {"StackName": STACK})
    stub.add_response("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"), {"StackName": STACK})
    stub.add_response("delete_stack", {}, {"StackName": STACK})
    gone(stub)
    assert delete_stack(cfn, STACK, clock=FakeClock()) == "deleted"
    stub.assert_no_pending_responses()


def test_delete_waits_for_a_creation_in_progress_to_end():
    cfn, stub = stubbed("cloudformation")
    stub.add_response("describe_stacks", stack("CREATE_IN_PROGRESS"), {"StackName": STACK})
    stub.add_response("describe_stacks", stack("CREATE_IN_PROGRESS"), {"StackName": STACK})
    stub.add_response("describe_stacks", stack("CREATE_COMPLETE"), {"StackName": STACK})
    stub.add_response("delete_stack", {}, {"StackName": STACK})
    gone(stub)
    clock = FakeClock()
    delete_stack(cfn, STACK, clock=clock)
    assert clock.sleeps == [15.0]


def test_delete_of_a_stack_already_being_deleted_only_waits():
    cfn, stub = stubbed("cloudformation")
    stub.add_response("describe_stacks", stack("DELETE_IN_PROGRESS"), {"StackName": STACK})
    gone(stub)
    assert delete_stack(cfn, STACK, clock=FakeClock()) == "deleted"
    stub.assert_no_pending_responses()


def test_delete_of_a_stack_never_created_is_absent():
    cfn, stub = stubbed("cloudformation")
    gone(stub)
    assert delete_stack(cfn, STACK, clock=FakeClock()) == "absent"


def test_fails_when_deletion_fails():
    cfn, stub = stubbed("cloudformation")
    stub.add_response("describe_stacks", stack("CREATE_COMPLETE"), {"StackName": STACK})
    stub.add_response("delete_stack", {}, {"StackName": STACK})
    stub.add_response("describe_stacks", stack("DELETE_FAILED"), {"StackName": STACK})
    with pytest.raises(DeployError, match="is DELETE_FAILED"):
        delete_stack(cfn, STACK, clock=FakeClock())


def test_fails_when_deletion_outlasts_the_timeout():
    cfn, stub = stubbed("cloudformation")
    stub.add_response("describe_stacks", stack("CREATE_COMPLETE"), {"StackName": STACK})
    stub.add_response("delete_stack", {}, {"StackName": STACK})
    for _ in range(3):
        stub.add_response("describe_stacks", stack("DELETE_IN_PROGRESS"), {"StackName": STACK})
    with pytest.raises(ProofTimeout, match=r"gave up after 40 s .* last seen: DELETE_IN_PROGRESS"):
        delete_stack(cfn, STACK, clock=FakeClock(), timeout=40)


def assets_manifest(directory: Path, model: bytes) -> Path:
    """A cloud assembly's <stack>.assets.json with the model and another file asset."""
    (directory / "asset.1111.joblib").write_bytes(model)
    (directory / "asset.2222.joblib").write_bytes(b"another model")
    destination = {
        "bucketName": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}",
        "assumeRoleArn": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-file-publishing",
    }
    manifest = {
        "version": "48.0.0",
        "files": {
            "2222": {
                "source": {"path": "asset.2222.joblib", "packaging": "file"},
                "destinations": {"current": {**destination, "objectKey": "2222.joblib"}},
            },
            "1111": {
                "source": {"path": "asset.1111.joblib", "packaging": "file"},
                "destinations": {"current": {**destination, "objectKey": "1111.joblib"}},
            },
        },
        "dockerImages": {},
    }
    path = directory / f"{STACK}.assets.json"
    path.write_text(json.dumps(manifest))
    return path


def test_model_object_is_found_by_content(tmp_path):
    model = tmp_path / "rollback.joblib"
    model.write_bytes(b"the rollback model")
    found = model_object(assets_manifest(tmp_path, model.read_bytes()), model, account=ACCOUNT, region=REGION)
    assert found == S3Object(f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}", "1111.joblib")


def test_fails_when_no_asset_has_the_models_bytes(tmp_path):
    model = tmp_path / "rollback.joblib"
    model.write_bytes(b"the rollback model")
    manifest = assets_manifest(tmp_path, b"something else")
    with pytest.raises(DeployError, match="no file asset has the bytes of"):
        model_object(manifest, model, account=ACCOUNT, region=REGION)
