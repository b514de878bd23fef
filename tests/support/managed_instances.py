"""One execution environment of a function on Lambda Managed Instances, as awslambdaric runs it.

On managed instances the platform sets ``AWS_LAMBDA_MAX_CONCURRENCY`` and AWS's runtime interface client
switches to its multi-concurrent mode (``awslambdaric`` 4.2.2, ``__main__.py``,
``lambda_multi_concurrent_utils.py``): the process started as ``python -m awslambdaric HANDLER`` forks
that many worker processes, each of which connects its stdout and stderr to the socket named by
``_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET``, imports the handler on its own and polls the Runtime API
on its own connection. This module boots the synthesized assets that way, on top of
:class:`~tests.support.lambda_environment.ExecutionEnvironment` (same userland, same read-only
``/var/task``, ``/opt`` and ``/var/runtime``, one ``/tmp`` the workers share):

- the environment is the function's as synthesized, plus ``AWS_LAMBDA_MAX_CONCURRENCY`` and the log
  socket, served here (:class:`LogSocket`), which tells each worker's lines apart by the process id the
  kernel gives for the connection (``SO_PEERCRED``). ``OMP_NUM_THREADS`` is left as the template sets
  it (1 on managed instances; on demand its vCPUs), so the runtime's own one-thread rule is what a
  worker's thread count shows;
- INIT ends when every worker holds a ``next`` call, and must end within the larger of 130 s and the
  function's timeout (managed instances' rule; the on-demand 10 s does not apply);
- the memory limit is the function's memory size for all the processes together (one cgroup; or the
  watcher adding up their resident sets);
- events are sent together (:meth:`ManagedEnvironment.invoke_all`), more than the workers, so they wait
  for a free worker as they would for a free slot.

What this is not: the managed-instances platform. Its scaling, placement, routing and log delivery
never run here; awslambdaric's multi-concurrent mode against a Runtime API on loopback does.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from tests.support.deploy_proof import elapsed, read_deployment, s3_server, upload
from tests.support.lambda_environment import ExecutionEnvironment, exit_error, timeout_error
from tests.support.memory_limit import child_pids
from tests.support.userland import make_userland

INIT_FLOOR_SECONDS = 130
"""INIT on managed instances may take the larger of this and the function's timeout."""
MAX_CONCURRENCY_ENV = "AWS_LAMBDA_MAX_CONCURRENCY"
LOG_SOCKET_ENV = "_LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET"
"""awslambdaric's name for the socket each worker connects its stdout and stderr to."""
TELEMETRY_DIR = "/var/telemetry"
"""Where the log socket appears inside the userland (outside ``/tmp``, which belongs to the function)."""


def init_limit_seconds(timeout: int) -> int:
    """How long INIT may take on managed instances for a function of ``timeout`` seconds."""
    return max(INIT_FLOOR_SECONDS, timeout)


@dataclass
class LogStream:
    """What one connection to the log socket carried: its process, its order among that process's
    connections (awslambdaric connects stdout first, then stderr) and its bytes."""

    pid: int
    index: int
    data: bytearray = field(default_factory=bytearray)

    @property
    def name(self) -> str:
        """``stdout`` or ``stderr``."""
        return "stdout" if self.index == 0 else "stderr"

    def lines(self) -> list[str]:
        """The non-empty lines written so far."""
        return [line for line in self.data.decode(errors="replace").splitlines() if line.strip()]


class LogSocket:
    """The log socket of one environment: a UNIX stream socket whose every connection is recorded."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.streams: list[LogStream] = []
        self._lock = threading.Lock()
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(64)
        self._threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:  # closed
                return
            credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            pid = struct.unpack("3i", credentials)[0]
            with self._lock:
                stream = LogStream(pid, sum(1 for s in self.streams if s.pid == pid))
                self.streams.append(stream)
            thread = threading.Thread(target=self._read, args=(connection, stream), daemon=True)
            thread.start()
            self._threads.append(thread)

    @staticmethod
    def _read(connection: socket.socket, stream: LogStream) -> None:
        with connection:
            while chunk := connection.recv(65536):
                stream.data += chunk

    def by_worker(self) -> dict[int, dict[str, list[str]]]:
        """Each worker's lines, by process id, then ``stdout`` / ``stderr``."""
        with self._lock:
            streams = list(self.streams)
        found: dict[int, dict[str, list[str]]] = {}
        for stream in streams:
            found.setdefault(stream.pid, {})[stream.name] = stream.lines()
        return found

    def close(self) -> None:
        """Stop accepting, and wait for the readers (the workers have ended) to drain."""
        self._server.close()
        for thread in self._threads:
            thread.join(5)


@dataclass
class ManagedEnvironment(ExecutionEnvironment):
    """An :class:`ExecutionEnvironment` with ``workers`` runtime worker processes (awslambdaric's
    multi-concurrent mode). Boot it, send events with :meth:`invoke_all`, read each worker's logs from
    :attr:`log_socket` and what the workers left in ``/tmp`` from :meth:`tmp_files`."""

    workers: int = 4
    watch_tree: ClassVar[bool] = True
    log_socket: LogSocket | None = field(init=False, default=None)
    worker_pids: tuple[int, ...] = field(init=False, default=())
    """The worker processes awslambdaric forked (read at the end of INIT)."""

    def _mounts(self) -> tuple[Path, str]:
        merged, lines = super()._mounts()
        folder = self.workdir / "telemetry"
        folder.mkdir()
        (self.workdir / "upper" / TELEMETRY_DIR.lstrip("/")).mkdir(parents=True)
        (self.workdir / "upper" / "proc").mkdir(exist_ok=True)
        self.log_socket = LogSocket(folder / "logs.sock")
        self._stack.callback(self.log_socket.close)
        # /proc as Lambda has it: without it onnxruntime's CPU probe writes a plain-text complaint to
        # stderr, which is a worker's log stream here.
        return merged, lines + (
            f"mount --bind {folder} {merged / TELEMETRY_DIR.lstrip('/')}\n"
            f"mount -t proc proc {merged / 'proc'}\n"
        )

    def command(self) -> list[str]:
        """``python3.13 -S -m awslambdaric HANDLER``: without ``-v``, whose import trace would go to the
        workers' log streams here."""
        return self.userland.python("-S", "-m", "awslambdaric", self.deployment.handler)[2:]

    def environment(self, runtime_api: str) -> dict[str, str]:
        """The function's environment, plus what managed instances set (see the module docstring)."""
        return {
            **super().environment(runtime_api),
            MAX_CONCURRENCY_ENV: str(self.workers),
            LOG_SOCKET_ENV: f"{TELEMETRY_DIR}/logs.sock",
        }

    def _init_done(self, wait: float) -> bool:
        assert self._api is not None
        if self._api.init_error is not None:
            return True
        done = self._api.wait_polling(self.workers, wait) is not None
        if done and self._process is not None:
            self.worker_pids = tuple(child_pids(self._process.pid))
        return done

    def _init_ended_at(self) -> float | None:
        assert self._api is not None
        return self._api.polling_peak_at.get(self.workers)

    def boot(self, timeout: float | None = None) -> dict[str, Any]:
        """Start the runtime; INIT must end within :func:`init_limit_seconds` (else AssertionError)."""
        limit = init_limit_seconds(self.deployment.timeout) if timeout is None else timeout
        return super().boot(limit)

    def _stop(self) -> None:
        """Kill the workers, then the process that forked them (killed first, it would orphan them)."""
        if self._process is not None and self._process.poll() is None:
            for pid in child_pids(self._process.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        super()._stop()

    def invoke_all(self, events: list[Any]) -> list[dict[str, Any]]:
        """Send every event at once, as concurrent synchronous ``Invoke`` calls; return each outcome in
        order, as :meth:`ExecutionEnvironment.invoke` does, with the worker connection that answered."""
        assert self._api is not None and self._process is not None, "boot() first"
        started = time.perf_counter()
        invocations = [self._api.submit(event, self.deployment.timeout) for event in events]
        errors: dict[str, dict[str, Any]] = {}
        while not all(i.done.is_set() or i.request_id in errors for i in invocations):
            time.sleep(0.02)
            code = self._process.poll()
            alive = len(child_pids(self._process.pid)) if code is None else 0
            late = [
                i for i in invocations if i.deadline_ms is not None and time.time() * 1000 > i.deadline_ms
            ]
            if code is None and alive == self.workers and not any(not i.done.is_set() for i in late):
                continue
            # A worker ended, the runtime ended, or a timeout passed: Lambda ends the environment.
            timed_out = {i.request_id for i in late if not i.done.is_set()}
            self._stop()
            ended = self._process.returncode
            for invocation in invocations:
                if invocation.done.is_set():
                    continue
                if invocation.request_id in timed_out:
                    errors[invocation.request_id] = timeout_error(
                        invocation.request_id, self.deployment.timeout
                    )
                else:
                    errors[invocation.request_id] = exit_error(invocation.request_id, ended or -9)
        seconds = elapsed(started)
        return [self._outcome(i, errors.get(i.request_id), seconds) for i in invocations]

    @staticmethod
    def _outcome(invocation: Any, error: dict[str, Any] | None, seconds: float) -> dict[str, Any]:
        base = {
            "handed_to": invocation.handed_to,
            "answered_from": invocation.answered_from,
            "seconds": seconds,
        }
        if error is not None:
            return {"response": None, "error": error, **base}
        document = json.loads(invocation.body) if invocation.body else None
        if invocation.outcome == "response":
            return {"response": document, "error": None, **base}
        return {"response": None, "error": document, **base}

    def worker_threads(self) -> dict[int, int]:
        """How many threads each worker process runs now (native pools included)."""
        counts = {}
        for pid in self.worker_pids:
            with contextlib.suppress(OSError):
                counts[pid] = len(os.listdir(f"/proc/{pid}/task"))
        return counts

    def tmp_files(self) -> list[str]:
        """What the function's processes left in ``/tmp`` (the overlay's upper layer records every write)."""
        tmp = self.workdir / "upper" / "tmp"
        return sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*"))


@contextlib.contextmanager
def deployed_on_managed_instances(
    cdk_out: Path,
    workdir: Path,
    assets_dir: Path,
    *,
    workers: int,
    stack_name: str = "DeployProof",
    **overrides: Any,
) -> Iterator[tuple[Any, ManagedEnvironment]]:
    """Publish the assembly's model to a loopback S3 server and boot its function with ``workers``
    worker processes; close both after. ``overrides`` replace fields of the deployment read."""
    deployment = replace(read_deployment(cdk_out, stack_name), **overrides)
    userland = make_userland(deployment.architecture)
    with s3_server() as endpoint:
        upload(endpoint, deployment.model)
        environment = ManagedEnvironment(deployment, userland, workdir, endpoint, assets_dir, workers=workers)
        try:
            yield deployment, environment
        finally:
            environment.close()
