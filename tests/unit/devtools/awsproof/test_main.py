"""``python -m devtools.awsproof``: the dry run needs nothing; a real run without what it needs exits 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cdk_sklearn.cli.main import build_parser as cli_parser
from devtools.awsproof.__main__ import main
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
    assert main(["--dry-run", "--run-id", RUN, "--project-dir", str(PROJECT_DIR)]) == 0
    out = capsys.readouterr().out
    assert all(f"stack SklearnProof-{env}-{RUN}" in out for env in ("dev", "staging", "prod"))


def test_dry_run_shows_each_cdk_deploy_command(no_aws, capsys):
    main(["--dry-run", "--run-id", RUN, "--project-dir", str(PROJECT_DIR)])
    out = capsys.readouterr().out
    assert out.count("$ node_modules/.bin/cdk deploy SklearnProof-") == 3


def test_fails_without_credentials_with_exit_2(no_aws):
    assert main(["--project-dir", str(PROJECT_DIR)]) == 2


def test_fails_without_credentials_saying_what_is_needed_in_one_paragraph(no_aws, capsys):
    main(["--project-dir", str(PROJECT_DIR)])
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert all(need in err for need in ("AWS credentials", "AWS_PROOF_ACCOUNT", "a region", "--dry-run"))


def test_dry_run_as_a_module_prints_the_plan_offline(no_aws):
    argv = [sys.executable, "-m", "devtools.awsproof", "--dry-run", "--run-id", RUN]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=PROJECT_DIR)
    assert f"stack SklearnProof-prod-{RUN}" in out.stdout and "dry run: nothing created" in out.stdout


def test_fails_on_a_bad_run_id_with_exit_2(no_aws, capsys):
    assert main(["--dry-run", "--run-id", "Not A Run", "--project-dir", str(PROJECT_DIR)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_fails_as_a_cdk_sklearn_subcommand(capsys):
    with pytest.raises(SystemExit):
        cli_parser().parse_args(["aws-proof", "--dry-run"])
    assert "invalid choice: 'aws-proof'" in capsys.readouterr().err


def test_dry_run_imports_no_jsii():
    code = (
        "import sys; from devtools.awsproof.__main__ import main; "
        f"main(['--dry-run', '--run-id', '{RUN}']); "
        "print(sorted(m for m in ('aws_cdk', 'jsii') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_DIR
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
