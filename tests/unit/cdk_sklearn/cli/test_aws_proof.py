"""``cdk-sklearn aws-proof``: the dry run needs nothing; a real run without what it needs exits 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cdk_sklearn.cli.main import main
from tests.conftest import PROJECT_DIR

RUN = "ap2611300945c0de"
AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROOF_ACCOUNT",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


@pytest.fixture
def no_aws(monkeypatch, tmp_path):
    """No credentials anywhere boto3 looks, and no instance metadata."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_dry_run_prints_the_three_stacks(no_aws, capsys):
    assert main(["aws-proof", "--dry-run", "--run-id", RUN, "--project-dir", str(PROJECT_DIR)]) == 0
    out = capsys.readouterr().out
    assert all(f"stack SklearnProof-{env}-{RUN}" in out for env in ("dev", "staging", "prod"))


def test_dry_run_shows_each_cdk_deploy_command(no_aws, capsys):
    main(["aws-proof", "--dry-run", "--run-id", RUN, "--project-dir", str(PROJECT_DIR)])
    out = capsys.readouterr().out
    assert out.count("$ node_modules/.bin/cdk deploy SklearnProof-") == 3


def test_fails_without_credentials_with_exit_2(no_aws):
    assert main(["aws-proof", "--project-dir", str(PROJECT_DIR)]) == 2


def test_fails_without_credentials_saying_what_is_needed_in_one_paragraph(no_aws, capsys):
    main(["aws-proof", "--project-dir", str(PROJECT_DIR)])
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert all(need in err for need in ("AWS credentials", "AWS_PROOF_ACCOUNT", "a region", "--dry-run"))


def test_cli_imports_neither_aws_cdk_nor_botocore():
    code = (
        "import sys; from cdk_sklearn.cli.main import build_parser; build_parser(); "
        "print(sorted(m for m in ('aws_cdk', 'jsii', 'botocore', 'boto3') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_DIR
    )
    assert out.stdout.strip() == "[]"
