"""The ONNX engine writes nothing on disk: onnxruntime's telemetry (a device id and an SQLite queue under
XDG_CACHE_HOME, ~/.cache or /tmp, uploads to Microsoft) stays off, in a fresh process as on Lambda."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import models, onnx_models

REPO = Path(__file__).resolve().parents[3]
LOAD = """
import json, os, sys
from lambda_runtime.config import Settings
from lambda_runtime.store import load_model
model = load_model(Settings.from_environ(os.environ))
print(json.dumps({"sha256": model.sha256, "switch": os.environ.get("ORT_DISABLE_TELEMETRY")}))
"""


def _load_in_fresh_process(tmp_path: Path, **extra: str) -> tuple[dict[str, str], list[Path]]:
    _, data = onnx_models.forest()
    (tmp_path / "model.onnx").write_bytes(data)
    home = tmp_path / "home"
    home.mkdir()
    environ = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(REPO),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "TMPDIR": str(home / "tmp"),
        "MODEL_URI": str(tmp_path / "model.onnx"),
        "MODEL_SHA256": models.sha256(data),
        "MODEL_FORMAT": "onnx",
        **extra,
    }
    completed = subprocess.run(
        [sys.executable, "-c", LOAD], env=environ, capture_output=True, text=True, check=False, cwd=home
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.splitlines()[-1]), sorted(home.rglob("*"))


def test_loading_an_onnx_model_writes_nothing(tmp_path: Path) -> None:
    report, written = _load_in_fresh_process(tmp_path)
    assert written == []
    assert report["switch"] == "1"


def test_the_functions_own_telemetry_setting_is_kept(tmp_path: Path) -> None:
    report, _ = _load_in_fresh_process(tmp_path, ORT_DISABLE_TELEMETRY="0")
    assert report["switch"] == "0"
