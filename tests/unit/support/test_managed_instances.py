"""The pieces of the multi-worker boot proof that run without a userland: INIT's limit, the log socket,
finding the worker processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.managed_instances import LogSocket, init_limit_seconds
from tests.support.memory_limit import child_pids


def test_init_may_take_130_s_or_the_timeout_if_longer() -> None:
    assert init_limit_seconds(30) == 130
    assert init_limit_seconds(900) == 900


def test_the_log_socket_tells_each_process_and_stream_apart(tmp_path: Path) -> None:
    logs = LogSocket(tmp_path / "logs.sock")
    try:
        # As awslambdaric's worker does: stdout's connection first, then stderr's.
        out, err = (socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(2))
        out.connect(str(tmp_path / "logs.sock"))
        time.sleep(0.1)
        err.connect(str(tmp_path / "logs.sock"))
        out.sendall(b'{"a": 1}\n{"a": 2}\n')
        err.sendall(b"warning\n")
        out.close()
        err.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(logs.by_worker().get(os.getpid(), {})) < 2:
            time.sleep(0.02)
    finally:
        logs.close()
    assert logs.by_worker() == {os.getpid(): {"stdout": ['{"a": 1}', '{"a": 2}'], "stderr": ["warning"]}}


def test_child_pids_are_the_processes_a_process_started() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in child_pids(os.getpid())
        assert child_pids(child.pid) == []
    finally:
        child.kill()
        child.wait()
