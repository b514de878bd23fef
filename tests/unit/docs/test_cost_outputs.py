"""The `cdk-sklearn cost` outputs the guides show are what the command prints today."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import PROJECT_DIR

SHOWN = {
    "cost.md": "cdk-sklearn cost",
    "managed-instances.md": "cdk-sklearn cost --env prod-mi",
}


def _shown(page: str, command: str) -> str:
    text = (PROJECT_DIR / "docs" / "readme" / page).read_text()
    start = text.index(f"$ {command}\n") + len(f"$ {command}\n")
    return text[start : text.index("```", start)]


@pytest.mark.parametrize("page", SHOWN)
def test_the_guide_shows_what_cost_prints(page: str) -> None:
    command = SHOWN[page]
    # Run from the repository: `--env` reads its cdk.json, as a user's run reads theirs.
    printed = subprocess.run(
        [sys.executable, "-m", "cdk_sklearn.cli", *command.split()[1:]],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert _shown(page, command) == printed, f"paste the output of `{command}` into docs/readme/{page}"
