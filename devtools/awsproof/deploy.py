"""Deploying and deleting the proof's stacks: ``cdk deploy`` command lines, the outputs file, stack
resources, the model object's S3 location, and teardown.

Deploys go through the pinned CDK CLI (``node_modules/.bin/cdk``), exactly as a user deploys;
teardown goes through CloudFormation's API directly, because it must work when synthesis is what
failed, and after an interrupt.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from botocore.exceptions import ClientError

from devtools.awsproof.clock import Clock, wait_for
from devtools.awsproof.plan import RUN_TAG, EnvironmentPlan

PROOF_APP_MODULE: Final = "devtools.awsproof.proof_app"
CONTEXT_RUN: Final = "aws_proof_run"
CONTEXT_MODEL: Final = "aws_proof_model_{key}"
"""Context key of a model file's path (``aws_proof_model_iris``, ``aws_proof_model_frame``)."""
CDK_FLAGS: Final = ("--no-notices", "--no-version-reporting")
# CfnOutput logical ids are the construct path plus an 8-hex-digit hash: IrisEndpointUrl1A2B3C4D.
_OUTPUT_KEY = re.compile(
    r"^(?P<construct>[A-Z][A-Za-z0-9]*?)(?P<output>EndpointUrl|AlarmTopicArn)[0-9A-F]{8}$"
)
DELETE_TIMEOUT_SECONDS: Final = 1800.0
STACK_POLL_SECONDS: Final = 15.0
OUTPUT_TAIL_LINES: Final = 40


class DeployError(Exception):
    """A deploy or teardown step failed; the message says which and the CLI's last lines."""


@dataclass(frozen=True)
class DeployedEndpoint:
    """One endpoint's outputs."""

    construct_id: str
    url: str
    alarm_topic_arn: str | None


@dataclass(frozen=True)
class StackResource:
    """A resource of a deployed stack."""

    logical_id: str
    physical_id: str
    type: str


def cdk_deploy_argv(
    env: EnvironmentPlan,
    run_id: str,
    *,
    cdk: str,
    python: str,
    outputs_file: Path,
    out_dir: Path,
    model_paths: Mapping[str, Path],
    method: str = "change-set",
    change_set_name: str | None = None,
) -> list[str]:
    """The ``cdk deploy`` command line that deploys ``env``'s proof stack.

    Parameters
    ----------
    env, run_id
        What to deploy.
    cdk, python
        The pinned CDK CLI and the interpreter that runs the proof app.
    outputs_file, out_dir
        ``--outputs-file`` and the cloud assembly directory (``-o``), one per environment.
    model_paths
        Model file per model key (``iris``, ``frame``), passed as context.
    method
        ``change-set`` (deploy) or ``prepare-change-set`` (the rollback: create, do not execute).
    change_set_name
        With ``prepare-change-set``: the change set's name, to execute it later.
    """
    argv = [
        cdk,
        "deploy",
        env.stack_name,
        "--app",
        f"{python} -m {PROOF_APP_MODULE}",
        "--require-approval",
        "never",
        "--outputs-file",
        str(outputs_file),
        "-o",
        str(out_dir),
        "--tags",
        f"{RUN_TAG}={run_id}",
        "-c",
        f"env={env.name}",
        "-c",
        f"{CONTEXT_RUN}={run_id}",
    ]
    for key in sorted(model_paths):
        argv += ["-c", f"{CONTEXT_MODEL.format(key=key)}={model_paths[key]}"]
    argv += ["--method", method]
    if change_set_name is not None:
        argv += ["--change-set-name", change_set_name]
    return argv + list(CDK_FLAGS)


class CommandRunner(Protocol):
    """Runs a command; returns its exit code and its combined output."""

    def __call__(self, argv: Sequence[str], cwd: Path) -> tuple[int, str]: ...


def subprocess_runner(argv: Sequence[str], cwd: Path) -> tuple[int, str]:
    """Run ``argv`` in ``cwd``, echoing its output to stderr as it comes and keeping the last lines."""
    tail: deque[str] = deque(maxlen=OUTPUT_TAIL_LINES)
    with subprocess.Popen(
        list(argv), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stderr.write(line)
            tail.append(line)
    return process.returncode, "".join(tail)


def run_cdk(argv: Sequence[str], runner: CommandRunner, cwd: Path, what: str) -> None:
    """Run a CDK command; raise :class:`DeployError` with its last lines when it fails."""
    code, output = runner(argv, cwd)
    if code != 0:
        raise DeployError(f"{what} failed (exit {code}); last lines of its output:\n{output.rstrip()}")


def parse_outputs(outputs_file: Path, stack_name: str) -> dict[str, DeployedEndpoint]:
    """Read the endpoints of ``stack_name`` from a ``cdk deploy --outputs-file`` file.

    Returns
    -------
    dict[str, DeployedEndpoint]
        Keyed by the endpoint's construct id (``Iris``, ``Frame``).

    Raises
    ------
    DeployError
        When the file, the stack or an endpoint's ``EndpointUrl`` is missing.
    """
    try:
        outputs = json.loads(outputs_file.read_text())
    except (OSError, ValueError) as exc:
        raise DeployError(f"cannot read the outputs file {outputs_file}: {exc}") from None
    stack = outputs.get(stack_name)
    if not isinstance(stack, dict):
        raise DeployError(f"{outputs_file} has no outputs for stack {stack_name} (has: {', '.join(outputs)})")
    found: dict[str, dict[str, str]] = {}
    for key, value in stack.items():
        match = _OUTPUT_KEY.match(key)
        if match:
            found.setdefault(match["construct"], {})[match["output"]] = str(value)
    endpoints = {}
    for construct, values in found.items():
        if "EndpointUrl" not in values:
            raise DeployError(f"{stack_name}: endpoint {construct} has no EndpointUrl output")
        endpoints[construct] = DeployedEndpoint(construct, values["EndpointUrl"], values.get("AlarmTopicArn"))
    if not endpoints:
        raise DeployError(f"{stack_name}: no EndpointUrl output in {outputs_file}")
    return endpoints


def stack_resources(cloudformation: Any, stack_name: str) -> list[StackResource]:
    """Every resource of ``stack_name`` (``list_stack_resources``, all pages)."""
    resources: list[StackResource] = []
    kwargs: dict[str, str] = {"StackName": stack_name}
    while True:
        page = cloudformation.list_stack_resources(**kwargs)
        for item in page["StackResourceSummaries"]:
            resources.append(
                StackResource(
                    item["LogicalResourceId"], item.get("PhysicalResourceId", ""), item["ResourceType"]
                )
            )
        if not page.get("NextToken"):
            return resources
        kwargs["NextToken"] = page["NextToken"]


def resource_of(resources: Sequence[StackResource], construct_id: str, type_: str, stem: str = "") -> str:
    """The physical id of the one ``type_`` resource under ``construct_id`` whose logical id starts with
    ``construct_id + stem``.

    Raises
    ------
    DeployError
        When there is none, or more than one.
    """
    prefix = construct_id + stem
    matches = [r.physical_id for r in resources if r.type == type_ and r.logical_id.startswith(prefix)]
    if len(matches) != 1:
        raise DeployError(f"expected one {type_} named {prefix}*, found {len(matches)}: {matches}")
    return matches[0]


def resources_of(resources: Sequence[StackResource], construct_id: str, type_: str) -> list[str]:
    """Physical ids of every ``type_`` resource under ``construct_id``."""
    return [r.physical_id for r in resources if r.type == type_ and r.logical_id.startswith(construct_id)]


def stack_status(cloudformation: Any, stack_name: str) -> str | None:
    """The stack's status, or None when it does not exist (never created, or deleted)."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    return str(stacks[0]["StackStatus"]) if stacks else None


def wait_for_stack(
    cloudformation: Any,
    stack_name: str,
    *,
    done: Sequence[str],
    failed: Sequence[str] = (),
    clock: Clock,
    timeout: float,
    interval: float = STACK_POLL_SECONDS,
) -> str:
    """Poll until the stack's status is one of ``done``; ``failed`` (or a ``*_FAILED``) raises.

    A stack that no longer exists counts as ``"DELETE_COMPLETE"``.
    """
    seen: list[str] = []

    def probe() -> str | None:
        status = stack_status(cloudformation, stack_name) or "DELETE_COMPLETE"
        seen.append(status)
        if status in done:
            return status
        if status in failed or status.endswith("_FAILED"):
            raise DeployError(f"stack {stack_name} is {status}")
        return None

    return wait_for(
        probe,
        what=f"stack {stack_name} to reach {' or '.join(done)}",
        timeout=timeout,
        interval=interval,
        clock=clock,
        last_seen=lambda: seen[-1] if seen else "nothing",
    )


def delete_stack(
    cloudformation: Any, stack_name: str, *, clock: Clock, timeout: float = DELETE_TIMEOUT_SECONDS
) -> str:
    """Delete ``stack_name`` and wait until it is gone.

    A stack still being created or updated (an interrupted deploy or rollback) is first let settle:
    an update is cancelled (CloudFormation rolls it back), anything else in progress is waited for,
    and then the stack is deleted.

    Returns
    -------
    str
        ``"deleted"``, or ``"absent"`` when there was no such stack.

    Raises
    ------
    DeployError
        On ``DELETE_FAILED`` (the message names the stack, to delete it by hand).
    ProofTimeout
        When it is not gone after ``timeout`` seconds.
    """
    status = stack_status(cloudformation, stack_name)
    if status is None:
        return "absent"
    if status == "UPDATE_IN_PROGRESS":
        cloudformation.cancel_update_stack(StackName=stack_name)
    if status.endswith("_IN_PROGRESS") and status not in _DELETABLE_IN_PROGRESS:
        seen: list[str] = []

        def settled() -> str | None:
            now = stack_status(cloudformation, stack_name) or "DELETE_COMPLETE"
            seen.append(now)
            return None if now.endswith("_IN_PROGRESS") else now

        status = wait_for(
            settled,
            what=f"stack {stack_name} to settle before deleting it",
            timeout=timeout,
            interval=STACK_POLL_SECONDS,
            clock=clock,
            last_seen=lambda: seen[-1] if seen else "nothing",
        )
        if status == "DELETE_COMPLETE":
            return "absent"
    if status != "DELETE_IN_PROGRESS":
        cloudformation.delete_stack(StackName=stack_name)
    wait_for_stack(cloudformation, stack_name, done=("DELETE_COMPLETE",), clock=clock, timeout=timeout)
    return "deleted"


# A stack created from a change set that was never executed, or already being deleted.
_DELETABLE_IN_PROGRESS: Final = ("REVIEW_IN_PROGRESS", "DELETE_IN_PROGRESS")


@dataclass(frozen=True)
class S3Object:
    """A bucket and key."""

    bucket: str
    key: str

    @property
    def uri(self) -> str:
        """``s3://bucket/key``."""
        return f"s3://{self.bucket}/{self.key}"


def model_object(assets_manifest: Path, model_file: Path, *, account: str, region: str) -> S3Object:
    """Where CDK uploads ``model_file``: the file asset of ``<stack>.assets.json`` with its bytes.

    Parameters
    ----------
    assets_manifest
        ``<cloud assembly>/<stack>.assets.json`` from the synth that deployed (or prepared) the stack.
    model_file
        The model file; matched by content (SHA-256), not by name.
    account, region
        Substituted for ``${AWS::AccountId}`` and ``${AWS::Region}`` in the destination.

    Raises
    ------
    DeployError
        When no file asset of the manifest has the model's bytes.
    """
    digest = hashlib.sha256(model_file.read_bytes()).hexdigest()
    manifest = json.loads(assets_manifest.read_text())
    for asset in manifest.get("files", {}).values():
        source = asset.get("source", {})
        path = assets_manifest.parent / str(source.get("path", ""))
        if source.get("packaging", "file") != "file" or not path.is_file():
            continue
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            continue
        destination = next(iter(asset["destinations"].values()))

        def resolve(text: str) -> str:
            return text.replace("${AWS::AccountId}", account).replace("${AWS::Region}", region)

        return S3Object(resolve(destination["bucketName"]), resolve(destination["objectKey"]))
    raise DeployError(f"{assets_manifest}: no file asset has the bytes of {model_file}")
