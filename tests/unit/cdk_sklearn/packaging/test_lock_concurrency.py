"""Two synths writing the lock at once: both entries land, and no temporary file is left behind.

Real processes (``python -c``) against a local package index (pip, no network); each resolves its own
layer, which takes pip about a second, so their read-resolve-write cycles overlap.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from cdk_sklearn.packaging.lock import LayerSpec, Lock
from cdk_sklearn.packaging.target import LambdaTarget
from tests.conftest import PROJECT_DIR
from tests.helpers.wheels import make_wheel, use_local_index

ARM64 = LambdaTarget("python3.13", "arm64")
# Both processes start resolving at the same instant (a shared start time), as two synths would.
SYNTH = """
import sys, time
from pathlib import Path
from cdk_sklearn.packaging.lock import LayerSpec, locked_entry
from cdk_sklearn.packaging.target import LambdaTarget
time.sleep(max(0.0, float(sys.argv[3]) - time.time()))
locked_entry(LayerSpec.of([sys.argv[2]], LambdaTarget("python3.13", "arm64")), Path(sys.argv[1]), None, print)
"""


def _synths_at_once(path, *requirements: str) -> None:
    start = time.time() + 3  # after both interpreters have imported cdk_sklearn
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SYNTH, str(path), requirement, str(start)],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for requirement in requirements
    ]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err


def test_two_synths_adding_entries_at_once_both_land(tmp_path, monkeypatch):
    make_wheel(tmp_path / "index", "tinypkg", "1.0")
    make_wheel(tmp_path / "index", "otherpkg", "0.1")
    use_local_index(monkeypatch, tmp_path / "index")
    path = tmp_path / "app" / "pylock.cdk-sklearn.toml"
    path.parent.mkdir()
    _synths_at_once(path, "tinypkg", "otherpkg")
    keys = {LayerSpec.of([name], ARM64).key for name in ("tinypkg", "otherpkg")}
    assert set(Lock.read(path).entries) == keys
    assert sorted(p.name for p in path.parent.iterdir()) == [".pylock.cdk-sklearn.toml.lock", path.name]
