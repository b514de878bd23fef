"""A function's ``memory_size`` enforced on its process, as Lambda enforces it, and its peak measured.

Lambda stops the function's process when its memory use reaches the configured size (the log then
says ``Runtime exited with error: signal: killed``). Here a memory cgroup does the same: cgroup v2
(``memory.max``, ``memory.swap.max = 0``, peak in ``memory.peak``) where this process may create a
child cgroup with the memory controller, else cgroup v1 (``memory.limit_in_bytes`` and
``memory.memsw.limit_in_bytes``, peak in ``memory.max_usage_in_bytes``), as on this project's machines
and CI. Where neither can be written, a watcher polls the process's resident set (``VmRSS``) and kills
it with SIGKILL once over the limit; the peak is then the process's ``VmHWM``.

A cgroup counts the page cache of the files the process reads (the layer's libraries) as well as its
resident memory; the kernel reclaims that cache before it kills, so the limit bites where Lambda's does,
but the cgroup's peak reads higher than the process's ``VmHWM``. Both are recorded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
MIB = 1024 * 1024


def _own_cgroup(controller: str | None) -> str | None:
    # /proc/self/cgroup: "0::/path" on v2, "N:memory:/path" for the v1 memory controller.
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if (controller is None and controllers == "") or (
            controller is not None and controller in controllers.split(",")
        ):
            return path
    return None


def _write(path: Path, value: str) -> None:
    path.write_text(value)


@dataclass
class MemoryLimit:
    """The limit of one process: how it is enforced, and what it measured.

    Attributes
    ----------
    megabytes
        The function's ``memory_size`` (Lambda's MB are MiB).
    mechanism
        ``"cgroup-v2"``, ``"cgroup-v1"`` or ``"rss-watch"``.
    cgroup
        The cgroup folder (``None`` for ``rss-watch``).
    """

    megabytes: int
    mechanism: str
    cgroup: Path | None = None
    _watcher: threading.Thread | None = field(default=None, init=False)
    _watched_peak: int = field(default=0, init=False)
    _watch_killed: bool = field(default=False, init=False)

    @property
    def limit_bytes(self) -> int:
        """The limit in bytes."""
        return self.megabytes * MIB

    def join_command(self) -> str:
        """A shell line that moves the shell running it (then its ``exec``) into the cgroup."""
        if self.cgroup is None:
            return ""
        return f"echo $$ > {self.cgroup / 'cgroup.procs'}\n"

    def watch(self, pid: int, *, tree: bool = False) -> None:
        """For ``rss-watch``: kill ``pid`` with SIGKILL once its resident set exceeds the limit.

        With ``tree``, the resident sets of ``pid`` and its child processes are added up (worker
        processes forked by the runtime share the limit, as a cgroup shares it), and all are killed.
        """
        if self.mechanism != "rss-watch":
            return

        def poll() -> None:
            while True:
                members = [pid, *child_pids(pid)] if tree else [pid]
                sizes = [_status_bytes(member, "VmRSS") for member in members]
                if sizes[0] is None:
                    return
                resident = sum(size or 0 for size in sizes)
                if resident is None:
                    return
                self._watched_peak = max(self._watched_peak, resident)
                if resident > self.limit_bytes:
                    self._watch_killed = True
                    for member in reversed(members):
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(member, signal.SIGKILL)
                    return
                time.sleep(0.02)

        self._watcher = threading.Thread(target=poll, daemon=True)
        self._watcher.start()

    def peak_bytes(self) -> int | None:
        """The cgroup's peak usage (``None`` for ``rss-watch``, whose peak is the process's VmHWM)."""
        if self.cgroup is None:
            return None
        name = "memory.peak" if self.mechanism == "cgroup-v2" else "memory.max_usage_in_bytes"
        with contextlib.suppress(OSError, ValueError):
            return int((self.cgroup / name).read_text().split()[0])
        return None

    def killed_for_memory(self) -> bool:
        """True when the kernel (or the watcher) killed a process of this limit for memory."""
        if self.cgroup is None:
            return self._watch_killed
        name = "memory.events" if self.mechanism == "cgroup-v2" else "memory.oom_control"
        with contextlib.suppress(OSError):
            for line in (self.cgroup / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        return False

    def watched_peak_bytes(self) -> int:
        """The largest ``VmRSS`` the watcher saw (``rss-watch`` only)."""
        return self._watched_peak

    def remove(self) -> None:
        """Remove the cgroup (its process has ended)."""
        if self.cgroup is not None:
            for _ in range(50):  # the kernel frees a killed process's cgroup a moment after it exits
                try:
                    self.cgroup.rmdir()
                    return
                except FileNotFoundError:
                    return
                except OSError:
                    time.sleep(0.05)


def _status_bytes(pid: int, key: str) -> int | None:
    """A ``kB`` field of ``/proc/<pid>/status`` in bytes (``None`` once the process is gone)."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    return None


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from each process's ``/proc/<pid>/stat``)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) is in parentheses and may hold spaces: fields count from its end.
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            children.append(int(entry.name))
    return sorted(children)


def process_peak_bytes(pid: int) -> int | None:
    """The process's resident high-water mark (``VmHWM``), while it runs."""
    return _status_bytes(pid, "VmHWM")


def _v2(name: str, megabytes: int) -> MemoryLimit | None:
    own = _own_cgroup(None)
    if own is None or not (CGROUP_ROOT / "cgroup.controllers").is_file():
        return None
    parent = CGROUP_ROOT / own.lstrip("/")
    try:
        if "memory" not in (parent / "cgroup.subtree_control").read_text().split():
            _write(parent / "cgroup.subtree_control", "+memory")
        folder = parent / name
        folder.mkdir()
    except OSError:  # e.g. this process sits in the parent: v2 lets no process live beside children
        return None
    try:
        _write(folder / "memory.max", str(megabytes * MIB))
        with contextlib.suppress(FileNotFoundError):  # no swap accounting: nothing to swap to
            _write(folder / "memory.swap.max", "0")
    except OSError:
        folder.rmdir()
        return None
    return MemoryLimit(megabytes, "cgroup-v2", folder)


def _v1(name: str, megabytes: int) -> MemoryLimit | None:
    own = _own_cgroup("memory")
    parent = CGROUP_ROOT / "memory" / (own or "/").lstrip("/")
    if own is None or not (parent / "memory.limit_in_bytes").is_file():
        return None
    folder = parent / name
    try:
        folder.mkdir()
    except OSError:
        return None
    try:
        _write(folder / "memory.limit_in_bytes", str(megabytes * MIB))
        memsw = folder / "memory.memsw.limit_in_bytes"
        if memsw.is_file():  # memory plus swap: no swapping around the limit, as on Lambda
            _write(memsw, str(megabytes * MIB))
    except OSError:
        folder.rmdir()
        return None
    return MemoryLimit(megabytes, "cgroup-v1", folder)


def memory_limit(megabytes: int, *, prefer: str | None = None) -> MemoryLimit:
    """A fresh limit of ``megabytes`` MiB: a cgroup v2 or v1 child where one can be written, else a watch.

    ``prefer="rss-watch"`` skips the cgroups (to exercise the fallback where cgroups work).
    """
    name = f"deploy-proof-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    if prefer != "rss-watch":
        for make in (_v2, _v1):
            found = make(name, megabytes)
            if found is not None:
                return found
    return MemoryLimit(megabytes, "rss-watch")
