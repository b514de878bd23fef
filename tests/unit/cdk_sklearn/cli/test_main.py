"""The CLI entry point: a closed pipe, and no aws_cdk (no jsii, no Node) for the light commands."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import PROJECT_DIR

COST = ["cost", "--requests-per-month", "2M", "--memory-mb", "1024", "--duration-ms", "5"]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cdk_sklearn.cli", *args]


def test_a_closed_pipe_ends_quietly_with_141() -> None:
    child = subprocess.Popen(_cli(*COST), cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None
    child.stdout.close()  # the reader is gone before the report is written, as after `| head -1`
    _, err = child.communicate(timeout=60)
    assert (child.returncode, err) == (141, b"")


def test_piped_into_head_prints_the_first_line_and_nothing_on_stderr() -> None:
    command = " ".join(_cli(*COST)) + " | head -1"
    done = subprocess.run(command, shell=True, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60)
    assert (done.stdout.startswith("This endpoint (the construct's defaults"), done.stderr) == (True, "")


@pytest.mark.parametrize(
    "argv",
    [
        COST,
        ["doctor", "--json"],
        ["cache", "list"],
        ["serve", "--model", "/nonexistent.joblib"],
        ["convert", "--model", "/nonexistent.joblib", "--sample", "/no.csv", "--output", "/no.onnx"],
    ],
    ids=["cost", "doctor", "cache", "serve", "convert"],
)
def test_light_commands_never_import_aws_cdk(argv: list[str]) -> None:
    script = (
        "import importlib, sys\n"
        "main = importlib.import_module('cdk_sklearn.cli.main')\n"
        "main.build_parser()\n"
        f"main.main({argv!r})\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'jsii', 'constructs')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
