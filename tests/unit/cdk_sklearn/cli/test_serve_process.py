"""serve_process: a real `cdk-sklearn serve` child for the length of a with-block."""

from __future__ import annotations

import urllib.request

import pytest

from cdk_sklearn.cli.serve_process import serve_process
from tests.conftest import PROJECT_DIR


def test_yields_a_ready_server_and_stops_it(iris_model):
    with serve_process(iris_model, cwd=PROJECT_DIR) as server:
        with urllib.request.urlopen(f"{server.url}/health", timeout=10) as response:
            assert response.status == 200
        url = server.url
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/health", timeout=2)


def test_fails_with_the_servers_output(tmp_path):
    junk = tmp_path / "junk.joblib"
    junk.write_bytes(b"junk")
    with (
        pytest.raises(RuntimeError, match=r"exited with code 2:\n.*not a readable pickle stream"),
        serve_process(junk, cwd=PROJECT_DIR, timeout=30),
    ):
        pass
