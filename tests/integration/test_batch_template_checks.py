"""The batch job's template through third-party checkers: asl-validator, cfn-lint and cdk-nag (AwsSolutions
and the NIST 800-53 R5, HIPAA Security and PCI DSS 3.2.1 packs).

One app holds both shapes: a job with a function of its own on a bucket of the app (upload trigger
on), and a job on an endpoint's alias reading an imported bucket.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from cdk_sklearn.batch import SklearnBatchScoring
from cdk_sklearn.endpoint import SklearnLambdaEndpoint
from cdk_sklearn.nag import acknowledge
from devtools.checks import lint_findings, nag_findings
from tests.conftest import PROJECT_DIR, SKIP_BUNDLING

ASL_VALIDATOR = PROJECT_DIR / "node_modules" / "asl-validator" / "dist" / "bin" / "asl-validator.js"


COMPLIANCE_PACK_PREFIXES = ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")


def acknowledge_in_packs(bucket: s3.Bucket, rule: str, reason: str) -> None:
    for prefix in COMPLIANCE_PACK_PREFIXES:
        acknowledge(bucket, f"{prefix}-{rule}", reason)


def data_bucket(stack: cdk.Stack) -> s3.Bucket:
    """A bucket as cdk-nag wants one: encrypted, versioned, TLS only, access logs to a log bucket.

    The user's buckets, not the library's: their replication and key are the owner's choice, which the
    compliance packs' findings on them are acknowledged as.
    """
    logs = s3.Bucket(
        stack,
        "AccessLogs",
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        versioned=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
    )
    acknowledge(logs, "AwsSolutions-S1", "This is the access-log bucket; logging it would recurse.")
    acknowledge_in_packs(
        logs, "S3DefaultEncryptionKMS", "Server access logs are delivered only to SSE-S3 buckets."
    )
    data = s3.Bucket(
        stack,
        "Data",
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        versioned=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        server_access_logs_bucket=logs,
        server_access_logs_prefix="data/",
    )
    acknowledge_in_packs(data, "S3DefaultEncryptionKMS", "The user's bucket: its key is the owner's choice.")
    for bucket in (logs, data):
        acknowledge_in_packs(
            bucket, "S3BucketReplicationEnabled", "The user's bucket: replication is the owner's choice."
        )
    return data


@pytest.fixture(scope="module")
def app(iris_model: Path) -> cdk.App:
    # Access-log delivery by bucket policy rather than the legacy ACL (cfn-lint W3045).
    app = cdk.App(context={**SKIP_BUNDLING, "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True})
    stack = cdk.Stack(app, "BatchChecks")
    SklearnBatchScoring(
        stack,
        "Own",
        model_path=str(iris_model),
        input_bucket=data_bucket(stack),
        input_prefix="scoring/in/",
        output_prefix="scoring/out/",
        id_column="id",
        trigger_on_upload=True,
    )
    endpoint = SklearnLambdaEndpoint(stack, "Iris", model_path=str(iris_model), timeout_seconds=900)
    SklearnBatchScoring(
        stack,
        "OnEndpoint",
        endpoint=endpoint,
        input_bucket=s3.Bucket.from_bucket_name(stack, "Imported", "shared-data"),
        input_prefix="in/",
        output_prefix="out/",
        input_format="jsonl",
    )
    return app


@pytest.fixture(scope="module")
def template_path(app: cdk.App) -> Path:
    assembly = app.synth()
    return Path(assembly.directory) / assembly.get_stack_by_name("BatchChecks").template_file


def rendered(part: Any, before: str) -> str:
    """A CloudFormation reference inside a definition, as a well-formed placeholder.

    A reference right after ``"Resource":"`` is the function's ARN (GetAtt) or its alias's (Ref);
    ``AWS::Partition`` is ``aws``; anything else (a bucket's name) a plain word.
    """
    if isinstance(part, str):
        return part
    if part.get("Ref") == "AWS::Partition":
        return "aws"
    if before.endswith('"Resource":"'):
        name = part.get("Ref") or part["Fn::GetAtt"][0]
        return f"arn:aws:lambda:us-east-1:123456789012:function:{name}" + (":live" if "Ref" in part else "")
    return "placeholder"


def definitions(template_path: Path) -> list[str]:
    template = json.loads(template_path.read_text())
    found = []
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            text = ""
            for part in resource["Properties"]["DefinitionString"]["Fn::Join"][1]:
                text += rendered(part, text)
            found.append(text)
    return found


def test_state_machines_pass_asl_validator(template_path, tmp_path):
    found = definitions(template_path)
    assert len(found) == 2
    for i, text in enumerate(found):
        path = tmp_path / f"definition-{i}.json"
        path.write_text(text)
        result = subprocess.run(
            ["node", str(ASL_VALIDATOR), "--json-path", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_template_passes_cfn_lint(template_path):
    assert lint_findings([template_path]) == []


def test_no_unacknowledged_cdk_nag_findings(app):
    assert nag_findings(app) == []
