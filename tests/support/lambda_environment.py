"""One execution environment of a deployed function, booted by AWS's own runtime interface client.

The assets of the cloud assembly (:mod:`tests.support.deploy_proof`) are laid out as Lambda lays them
out, in a Debian trixie userland with CPython 3.13 (:mod:`tests.support.userland`; arm64 under
qemu-user) in a private mount namespace: the userland is the lower layer of an overlay (never changed;
each boot has its own upper folder), and ``/var/task``, ``/opt`` and ``/var/runtime`` are read-only bind
mounts. ``/var/runtime`` holds what Lambda's python3.13 runtime holds: boto3 and ``awslambdaric``, the
runtime interface client of the Lambda Python base images, which is started as they start it
(``python3.13 -m awslambdaric HANDLER`` in ``/var/task``) against a Runtime API on loopback
(:mod:`tests.support.runtime_api`). Handler resolution, event and response marshalling, error shapes and
JSON logging are then AWS's code.

Lambda's limits are enforced, not printed: ``memory_size`` by a memory cgroup
(:mod:`tests.support.memory_limit`; a process over it is killed, and an invoke then ends as Lambda's
does, ``Runtime exited with error: signal: killed``), the function's ``Timeout`` by killing the process
at the invocation's deadline, the 6 MB response limit by the Runtime API. INIT (process start to the
first ``next`` call, as Lambda counts it) and the peak memory are measured for every boot.

Two differences from Lambda's command line, both for the proof's checks: ``-S``, because the
userland's ``site`` would add Debian's ``dist-packages``, which Lambda does not have; and ``-v``, with
which the interpreter names every module it imports and the file it came from on stderr (kept apart
from the function's logs, which are stdout), so the proof knows where each import came from without
running code of its own in the function's process. The process environment, command line, mounts and
memory maps are read from ``/proc``.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, ClassVar

from tests.support.deploy_proof import (
    ACCOUNT,
    LAMBDA_PYTHONPATH,
    LAYER_ROOT,
    PYTHON_VERSION,
    REGION,
    RUNTIME_DIR,
    TASK_ROOT,
    Deployment,
    elapsed,
    read_deployment,
    runtime_folder,
    s3_server,
    unpacked,
    upload,
)
from tests.support.memory_limit import MIB, MemoryLimit, memory_limit, process_peak_bytes
from tests.support.runtime_api import RuntimeApi
from tests.support.userland import Userland, make_userland

ON_DEMAND_INIT_LIMIT_SECONDS = 10
"""Lambda's INIT limit on demand; past it, Lambda retries INIT inside the first invoke, under the timeout."""
ORIGIN_ROOTS = (TASK_ROOT, f"{LAYER_ROOT}/python", RUNTIME_DIR)
# A cached .pyc is quoted, a source compiled on the spot is not.
_CODE_FROM = re.compile(r"^# code object from '?([^']+?)'?$")
_EXTENSION_FROM = re.compile(r"^# extension module '[^']+' (?:loaded|executed) from '([^']+)'$")
_IMPORTED = re.compile(r"^import '([^']+)' # ")


def lambda_environment(deployment: Deployment, s3_endpoint: str, runtime_api: str) -> dict[str, str]:
    """The environment the Lambda Python runtime gives the function, plus the template's variables.

    Credentials are fake; ``AWS_ENDPOINT_URL_S3`` sends boto3 to the loopback S3 server and
    ``AWS_LAMBDA_RUNTIME_API`` the runtime interface client to the loopback Runtime API.
    """
    name = f"DeployProof-{deployment.function_id}"
    task_and_runtime = f"{RUNTIME_DIR}:{RUNTIME_DIR}/lib:{TASK_ROOT}:{TASK_ROOT}/lib"
    return {
        "PATH": "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
        "LD_LIBRARY_PATH": f"/var/lang/lib:/lib64:/usr/lib64:{task_and_runtime}:{LAYER_ROOT}/lib",
        "PYTHONPATH": ":".join(LAMBDA_PYTHONPATH),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "_HANDLER": deployment.handler,
        "LAMBDA_TASK_ROOT": TASK_ROOT,
        "LAMBDA_RUNTIME_DIR": RUNTIME_DIR,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{deployment.runtime}",
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "INFO",  # Lambda's default application log level with JSON logs
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(deployment.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[1]0123456789abcdef",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "ASIAPROOFPROOFPROOF0",
        "AWS_SECRET_ACCESS_KEY": "proof-secret-access-key",
        "AWS_SESSION_TOKEN": "proof-session-token",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL_S3": s3_endpoint,
        **deployment.environment,
    }


def exit_error(request_id: str, returncode: int) -> dict[str, str]:
    """What Lambda returns to the caller when the runtime process ended during the invoke."""
    if returncode < 0:
        how = f"signal: {signal.Signals(-returncode).name.removeprefix('SIG').lower()}"
        how = how.replace("signal: kill", "signal: killed")
    else:
        how = f"exit status {returncode}"
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {how}",
    }


def timeout_error(request_id: str, seconds: int) -> dict[str, str]:
    """What Lambda returns to the caller when the invocation overran the function's timeout."""
    return {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {request_id} Error: Task timed out after {seconds:.2f} seconds",
    }


@dataclass(frozen=True)
class Measurement:
    """What one execution environment used, against the function's limits.

    Attributes
    ----------
    memory_size
        The function's ``memory_size`` (MB), the limit enforced.
    mechanism
        How it was enforced: ``cgroup-v2``, ``cgroup-v1`` or ``rss-watch``.
    init_seconds
        Process start to the first ``next`` call (``None`` if INIT never ended).
    peak_mb
        The cgroup's peak usage (resident memory plus the page cache of the files read), or the
        largest resident set the watcher saw.
    rss_peak_mb
        The process's resident high-water mark (``VmHWM``), when it was still running to be read.
    killed_for_memory
        The kernel (or the watcher) killed the process for memory.
    emulated
        The process ran under qemu-user: its time and memory are qemu's, not the target CPU's.
    """

    memory_size: int
    mechanism: str
    init_seconds: float | None
    peak_mb: float | None
    rss_peak_mb: float | None
    killed_for_memory: bool
    emulated: bool

    @property
    def init_over_limit(self) -> bool:
        """INIT took longer than Lambda's 10 s on demand."""
        return self.init_seconds is not None and self.init_seconds > ON_DEMAND_INIT_LIMIT_SECONDS


@dataclass
class ExecutionEnvironment:
    """One execution environment of the deployed function: a runtime process answering events one by one.

    Use :meth:`boot` to start it (returns what was observed of INIT), :meth:`invoke` per event,
    :meth:`close` at the end (returns where the imported modules came from; sets :attr:`measurement`).
    The function's logs (stdout) are in ``log_path``, the interpreter's import trace and anything else
    on stderr in ``stderr_path``.
    """

    deployment: Deployment
    userland: Userland
    workdir: Path
    s3_endpoint: str
    assets_dir: Path
    memory_mechanism: str | None = None
    """``"rss-watch"`` to enforce ``memory_size`` by the watcher even where a cgroup could be made."""
    watch_tree: ClassVar[bool] = False
    """Whether the watcher adds up the runtime's child processes (one process here)."""
    log_path: Path = field(init=False)
    stderr_path: Path = field(init=False)
    timings: dict[str, float] = field(init=False, default_factory=dict)
    boot_report: dict[str, Any] = field(init=False, default_factory=dict)
    """What :meth:`boot` returned."""
    imported: tuple[str, ...] = field(init=False, default=())
    """Top-level packages the process imported (set by :meth:`close`)."""
    imported_from: dict[str, set[str]] = field(init=False, default_factory=dict)
    """The top-level packages imported from each of ``/var/task``, ``/opt/python``, ``/var/runtime``."""
    measurement: Measurement | None = field(init=False, default=None)
    _api: RuntimeApi | None = field(init=False, default=None)
    _process: subprocess.Popen[bytes] | None = field(init=False, default=None)
    _limit: MemoryLimit | None = field(init=False, default=None)
    _started: float = field(init=False, default=0.0)
    _rss_peak: int | None = field(init=False, default=None)
    _files: list[IO[bytes]] = field(init=False, default_factory=list)
    _stack: contextlib.ExitStack = field(init=False, default_factory=contextlib.ExitStack)

    def __post_init__(self) -> None:
        self.log_path = self.workdir / "function.log"
        self.stderr_path = self.workdir / "stderr.log"

    def _mounts(self) -> tuple[Path, str]:
        """Unpack the assets; return the merged root and the shell lines that mount it."""
        if self.deployment.runtime != f"python{PYTHON_VERSION}":
            raise AssertionError(
                f"the userlands have CPython {PYTHON_VERSION}, not {self.deployment.runtime}"
            )
        if self.deployment.architecture != self.userland.architecture:
            raise AssertionError(
                f"the function is {self.deployment.architecture}, the userland {self.userland.architecture}"
            )
        started = time.perf_counter()
        task = unpacked(self.deployment.code, self.assets_dir)
        if len(self.deployment.layers) != 1:
            # Lambda merges several layers into /opt in order; one bind mount cannot.
            raise AssertionError(f"expected one layer, found {len(self.deployment.layers)}")
        opt = unpacked(self.deployment.layers[0], self.assets_dir)
        runtime = runtime_folder(self.deployment.architecture)
        self.timings["unpack"] = elapsed(started)
        self.workdir.mkdir(parents=True, exist_ok=True)
        upper, overlay_work, merged = (self.workdir / n for n in ("upper", "overlay-work", "root"))
        for folder in (upper, overlay_work, merged):
            folder.mkdir()
        for inside in (TASK_ROOT, LAYER_ROOT, RUNTIME_DIR, "/tmp"):
            (upper / inside.lstrip("/")).mkdir(parents=True, exist_ok=True)
        (upper / "tmp").chmod(0o1777)
        mount = shutil.which("mount") or "mount"
        options = f"lowerdir={self.userland.root},upperdir={upper},workdir={overlay_work}"
        lines = [f"{mount} -t overlay overlay -o {shlex.quote(options)} {shlex.quote(str(merged))}"]
        for source, inside in ((task, TASK_ROOT), (opt, LAYER_ROOT), (runtime, RUNTIME_DIR)):
            target = shlex.quote(str(merged / inside.lstrip("/")))
            lines += [
                f"{mount} --bind {shlex.quote(str(source))} {target}",
                f"{mount} -o remount,bind,ro {target}",
            ]
        return merged, "\n".join(lines) + "\n"

    def command(self) -> list[str]:
        """The runtime's command line inside the userland (qemu-user first, for a foreign CPU)."""
        inside = self.userland.python("-S", "-v", "-m", "awslambdaric", self.deployment.handler)
        return inside[2:]  # without "chroot ROOT": unshare enters the root and /var/task itself

    def boot(self, timeout: float = 900) -> dict[str, Any]:
        """Start the runtime and wait for the end of INIT; return what was observed of it.

        The report has ``init_seconds``, ``init_error`` (the document the runtime posted to
        ``init/error``, else ``None``), ``exit`` (Lambda's error text if the process ended during INIT),
        ``user_agent``, ``python``, ``machine``, ``command``, ``environment`` and ``writable`` (each of
        Lambda's folders, from the process's mounts).
        """
        merged, mounts = self._mounts()
        self._limit = memory_limit(self.deployment.memory_size, prefer=self.memory_mechanism)
        unshare = shutil.which("unshare") or "unshare"
        runtime = [unshare, f"--root={merged}", f"--wd={TASK_ROOT}", *self.command()]
        script = mounts + self._limit.join_command() + f"exec {shlex.join(runtime)}\n"
        (self.workdir / "boot.sh").write_text(script)
        region_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:DeployProof-{self.deployment.function_id}"
        self._api = self._stack.enter_context(RuntimeApi(region_arn).serve())
        self._files = [self.log_path.open("wb"), self.stderr_path.open("wb")]
        self._started = time.perf_counter()
        self._process = subprocess.Popen(
            [unshare, "--mount", "--propagation", "private", "/bin/sh", "-eu", str(self.workdir / "boot.sh")],
            stdin=subprocess.DEVNULL,
            stdout=self._files[0],
            stderr=self._files[1],
            env=self.environment(self._api.address),
        )
        self._limit.watch(self._process.pid, tree=self.watch_tree)
        deadline = time.monotonic() + timeout
        while not self._init_done(0.05) and self._process.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"INIT did not end within {timeout} s; logs:\n{self.logs_excerpt()}")
        self.timings["start"] = elapsed(self._started)
        self.boot_report = self._boot_report()
        return self.boot_report

    def environment(self, runtime_api: str) -> dict[str, str]:
        """The runtime process's environment (:func:`lambda_environment`)."""
        return lambda_environment(self.deployment, self.s3_endpoint, runtime_api)

    def _init_done(self, wait: float) -> bool:
        """Whether INIT has ended (the first ``next`` call or ``init/error``), waiting up to ``wait`` s."""
        assert self._api is not None
        return self._api.init_ended.wait(wait)

    def _init_ended_at(self) -> float | None:
        """``time.perf_counter()`` at the end of INIT."""
        assert self._api is not None
        return self._api.init_ended_at

    def _boot_report(self) -> dict[str, Any]:
        assert self._api is not None and self._process is not None
        ended = self._init_ended_at()
        init_seconds = None if ended is None else round(ended - self._started, 2)
        self.timings["init"] = init_seconds if init_seconds is not None else float("nan")
        agent = self._api.user_agent or ""
        code = self._process.poll()
        return {
            "init_seconds": init_seconds,
            "init_error": self._api.init_error,
            "init_error_type": self._api.init_error_type,
            "exit": None if code is None else exit_error("init", code)["errorMessage"],
            "user_agent": agent,
            "python": agent.partition("/")[2].partition("-")[0],
            **(self._process_view(self._process.pid) if code is None else {}),
        }

    def _process_view(self, pid: int) -> dict[str, Any]:
        """The running process as ``/proc`` shows it: command, environment, mounts, CPU of its libraries."""
        proc = Path(f"/proc/{pid}")
        environment = dict(
            entry.partition("=")[::2] for entry in proc.joinpath("environ").read_text().split("\0") if entry
        )
        mounts: dict[str, bool] = {}  # mount point (inside the process's root) -> read-only
        for line in proc.joinpath("mountinfo").read_text().splitlines():
            fields = line.split()
            mounts[fields[4]] = "ro" in fields[5].split(",")
        maps = proc.joinpath("maps").read_text()
        machines = {
            m for m in ("x86_64", "aarch64") if f"/{m}-linux-gnu/" in maps or f"-{m}-linux-gnu.so" in maps
        }

        def writable(path: str) -> bool:
            mount_point = max(
                (m for m in mounts if path == m or path.startswith(m.rstrip("/") + "/")), key=len
            )
            return not mounts[mount_point]

        return {
            "command": proc.joinpath("cmdline").read_text().split("\0")[:-1],
            "environment": environment,
            "machine": machines.pop() if len(machines) == 1 else sorted(machines),
            "writable": {p: writable(p) for p in (*ORIGIN_ROOTS, LAYER_ROOT, "/tmp")},
        }

    def invoke(self, event: Any) -> dict[str, Any]:
        """Send one event as a synchronous ``Invoke``; return ``{"response", "error", "seconds"}``.

        ``error`` is the error document the caller of ``Invoke`` would get: the one the runtime posted
        (``errorType``, ``errorMessage``, ``stackTrace``), or Lambda's own when the response is too
        large, the process was killed or ended, or the function's timeout passed (the process is then
        killed, as Lambda ends the execution environment).
        """
        assert self._api is not None and self._process is not None, "boot() first"
        started = time.perf_counter()
        invocation = self._api.submit(event, self.deployment.timeout)
        error: dict[str, Any] | None = None
        while not invocation.done.wait(0.02):
            code = self._process.poll()
            if code is not None:
                error = exit_error(invocation.request_id, code)
                break
            if invocation.deadline_ms is not None and time.time() * 1000 > invocation.deadline_ms:
                self._stop()
                error = timeout_error(invocation.request_id, self.deployment.timeout)
                break
        seconds = elapsed(started)
        if error is not None:
            return {"response": None, "error": error, "seconds": seconds}
        document = json.loads(invocation.body) if invocation.body else None
        if invocation.outcome == "response":
            return {"response": document, "error": None, "seconds": seconds}
        return {"response": None, "error": document, "seconds": seconds}

    def _stop(self) -> None:
        """Read the process's peak, then kill it (Lambda's shutdown of the environment)."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            self._rss_peak = process_peak_bytes(process.pid)
            process.kill()
        process.wait()

    def close(self) -> dict[str, int]:
        """End the environment; return how many imported modules came from each folder."""
        if self._process is None:
            return {}
        try:
            self._stop()
            origins = self._read_imports()
            self.measurement = self._measure()
            return origins
        finally:
            self._process = None
            self._stack.close()
            for handle in self._files:
                handle.close()
            if self._limit is not None:
                self._limit.remove()

    def _measure(self) -> Measurement:
        assert self._limit is not None and self._api is not None
        peak = self._limit.peak_bytes()
        if peak is None:
            peak = self._limit.watched_peak_bytes() or None
        ended = self._init_ended_at()
        return Measurement(
            memory_size=self.deployment.memory_size,
            mechanism=self._limit.mechanism,
            init_seconds=None if ended is None else round(ended - self._started, 2),
            peak_mb=None if peak is None else round(peak / MIB, 1),
            rss_peak_mb=None if self._rss_peak is None else round(self._rss_peak / MIB, 1),
            killed_for_memory=self._limit.killed_for_memory(),
            emulated=self.userland.emulated,
        )

    def _read_imports(self) -> dict[str, int]:
        """Where each imported module came from, from the interpreter's ``-v`` trace on stderr."""
        for handle in self._files:
            handle.flush()
        stdlib = f"/usr/lib/python{PYTHON_VERSION}"
        origins: dict[str, int] = {}
        names: set[str] = set()
        from_root: dict[str, set[str]] = {}
        for line in self.stderr_path.read_text(errors="replace").splitlines():
            imported = _IMPORTED.match(line)
            if imported:
                names.add(imported[1].split(".")[0])
                continue
            found = _CODE_FROM.match(line) or _EXTENSION_FROM.match(line)
            if not found:
                continue
            path = found[1]
            root = next((r for r in (*ORIGIN_ROOTS, stdlib) if path.startswith(r + "/")), path)
            origins[root] = origins.get(root, 0) + 1
            if root in ORIGIN_ROOTS:
                first = path.removeprefix(root + "/").split("/")
                top = first[1] if first[0] == "__pycache__" and len(first) > 1 else first[0]
                from_root.setdefault(root, set()).add(top.split(".")[0])
        self.imported = tuple(sorted(names))
        self.imported_from = from_root
        return origins

    def json_logs(self) -> list[dict[str, Any]]:
        """The function's log lines that are JSON documents (``AWS_LAMBDA_LOG_FORMAT=JSON``)."""
        documents = []
        for line in self.logs_stdout().splitlines():
            with contextlib.suppress(ValueError):
                document = json.loads(line)
                if isinstance(document, dict):
                    documents.append(document)
        return documents

    def logs_stdout(self) -> str:
        """What the function wrote to stdout (its CloudWatch Logs, with awslambdaric's)."""
        for handle in self._files:
            if not handle.closed:
                handle.flush()
        return self.log_path.read_text(errors="replace") if self.log_path.is_file() else ""

    def logs(self) -> str:
        """The function's logs, then what reached stderr besides the import trace."""
        stderr = self.stderr_path.read_text(errors="replace") if self.stderr_path.is_file() else ""
        other = [line for line in stderr.splitlines() if not line.startswith(("# ", "import '"))]
        return self.logs_stdout() + "\n".join(other)

    def logs_excerpt(self, limit: int = 3000) -> str:
        """The start (init errors) and the end (the latest requests) of :meth:`logs`."""
        text = self.logs()
        if len(text) <= limit:
            return text
        return f"{text[: limit // 2]}\n[...]\n{text[-limit // 2 :]}"


@contextlib.contextmanager
def deployed(
    cdk_out: Path,
    workdir: Path,
    assets_dir: Path,
    *,
    stack_name: str = "DeployProof",
    **overrides: Any,
) -> Iterator[tuple[Deployment, ExecutionEnvironment]]:
    """Publish the assembly's model to a loopback S3 server and boot its function; close both after.

    ``overrides`` replace fields of the :class:`~tests.support.deploy_proof.Deployment` read from the
    template (e.g. ``memory_size=256``: the function as if synthesized with that size).
    """
    deployment = replace(read_deployment(cdk_out, stack_name), **overrides)
    userland = make_userland(deployment.architecture)
    with s3_server() as endpoint:
        upload(endpoint, deployment.model)
        environment = ExecutionEnvironment(deployment, userland, workdir, endpoint, assets_dir)
        try:
            yield deployment, environment
        finally:
            environment.close()
