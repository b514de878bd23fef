"""Where the probe runs: the host interpreter, or CPython 3.13 in a Debian trixie userland (chroot).

A target starts ``python -I -S -B`` on the probe with only the paths it is given. For the trixie
userland the files are hard-linked (or copied) into a scratch folder inside the root once, and the
child enters the root with ``os.chroot`` in ``preexec_fn``: no extra program runs between the
parent's clock and the interpreter, so "interpreter start" stays the interpreter's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

PROBE = Path(__file__).with_name("probe.py")
# What a Lambda Python runtime's environment looks like, minus credentials: the probe and the handlers
# must not depend on anything of the parent's.
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "TZ": ":UTC",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass
class Target:
    """A Python interpreter to benchmark under.

    Parameters
    ----------
    name
        ``host`` or ``trixie``.
    python
        The interpreter's path, as seen from inside ``root``.
    version
        ``major.minor``, e.g. ``3.13``.
    root
        The userland to chroot into, or None for the host.
    """

    name: str
    python: str
    version: str
    root: Path | None = None
    _staged: dict[Path, str] = field(default_factory=dict)

    @property
    def runtime(self) -> str:
        """The Lambda runtime name of this interpreter, e.g. ``python3.13``."""
        return f"python{self.version}"

    def stage(self, path: Path) -> str:
        """Return ``path`` as the child sees it, linking it into the root first if needed."""
        path = path.resolve()
        if self.root is None:
            return str(path)
        if path not in self._staged:
            inside = Path("/tmp/cdk-sklearn-bench") / str(len(self._staged)) / path.name
            destination = self.root / inside.relative_to("/")
            if destination.exists() or destination.is_symlink():
                if destination.is_dir():
                    shutil.rmtree(destination)
                else:
                    destination.unlink()
            destination.parent.mkdir(parents=True, exist_ok=True)
            _link_tree(path, destination)
            self._staged[path] = str(inside)
        return self._staged[path]

    def command(self, args: list[str], importtime: bool = False) -> list[str]:
        """Return the argv that runs the probe with ``args``."""
        flags = ["-I", "-S", "-B"] + (["-X", "importtime"] if importtime else [])
        return [self.python, *flags, self.stage(PROBE), *args]

    def popen(
        self,
        args: list[str],
        env: dict[str, str],
        stdout: IO[bytes],
        stderr: IO[bytes],
        importtime: bool = False,
    ) -> subprocess.Popen[bytes]:
        """Start the probe writing to files (a full pipe would stall it); read the clock just before."""
        root = self.root

        def enter_root() -> None:
            if root is not None:
                os.chroot(root)
                os.chdir("/")

        return subprocess.Popen(
            self.command(args, importtime),
            env={**BASE_ENV, **env},
            stdout=stdout,
            stderr=stderr,
            cwd="/" if root is not None else None,
            preexec_fn=enter_root if root is not None else None,
        )

    def compile(self, path: Path) -> None:
        """Write ``.pyc`` for this interpreter into ``path`` as the child sees it (the runtime's boto3)."""
        root = self.root

        def enter_root() -> None:
            if root is not None:
                os.chroot(root)
                os.chdir("/")

        subprocess.run(
            [self.python, "-I", "-m", "compileall", "-q", "-j", "0", self.stage(path)],
            check=True,
            env=BASE_ENV,
            cwd="/" if root is not None else None,
            preexec_fn=enter_root if root is not None else None,
        )

    def compile_stdlib(self) -> None:
        """Make sure the userland's standard library has ``.pyc``, as a Lambda runtime's does.

        Debian compiles it when its packages are configured, but a minimal debootstrap leaves part
        of ``libpython3.X-stdlib`` uncompiled; under ``-B`` every probe would compile it again and
        both handlers would pay for it. compileall skips what is already compiled.
        """
        if self.root is not None:
            root = self.root

            def enter_root() -> None:
                os.chroot(root)
                os.chdir("/")

            stdlib = f"/usr/lib/python{self.version}"
            command = [self.python, "-I", "-m", "compileall", "-q", "-j", "0", stdlib]
            subprocess.run(command, check=True, env=BASE_ENV, cwd="/", preexec_fn=enter_root)

    def cleanup(self) -> None:
        """Remove what ``stage`` linked into the root."""
        if self.root is not None:
            shutil.rmtree(self.root / "tmp/cdk-sklearn-bench", ignore_errors=True)
            self._staged.clear()


def _link_tree(source: Path, destination: Path) -> None:
    # Hard links cost nothing when source and root share a file system; copy otherwise.
    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    if source.is_dir():
        shutil.copytree(source, destination, copy_function=link_or_copy, symlinks=True)
    else:
        link_or_copy(str(source), str(destination))


def host_target() -> Target:
    """The interpreter running the benchmark (its base interpreter, outside any virtual environment)."""
    executable = getattr(sys, "_base_executable", sys.executable)
    return Target("host", executable, f"{sys.version_info.major}.{sys.version_info.minor}")


def trixie_target(root: Path, version: str = "3.13") -> Target:
    """CPython ``version`` inside the Debian trixie userland at ``root``.

    Raises
    ------
    ValueError
        When ``root`` holds no such interpreter, or this process cannot chroot (needs root).
    """
    python = f"/usr/bin/python{version}"
    if not (root / python.lstrip("/")).exists():
        raise ValueError(
            f"no {python} in the userland {root}; build it with the layer boot test "
            "(cdk_sklearn.packaging) or pass --target host"
        )
    if os.geteuid() != 0:
        raise ValueError("--target trixie needs root (chroot); run as root or pass --target host")
    return Target("trixie", python, version, root=root.resolve())
