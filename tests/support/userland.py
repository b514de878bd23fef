"""Debian trixie userlands (CPython 3.13) in a folder, to boot a layer under the target interpreter.

Lambda's python3.13 is CPython 3.13 on glibc 2.34; trixie ships CPython 3.13 on a newer glibc, so a
layer that imports there with nothing else on ``sys.path`` proves the wheels, the pruning and the .pyc
are right for the runtime. Made with ``debootstrap --foreign`` (download and unpack only, so the same
steps work for a foreign architecture) plus an unpack of every downloaded package; the arm64 one runs
its interpreter through ``qemu-aarch64-static`` named explicitly, so no binfmt registration is needed.

Needs root (debootstrap, chroot). ``python -m tests.support.userland x86_64 arm64`` (``make
userlands``) prepares them under ``.cache/userlands/``; a prepared userland is reused.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SUITE = "trixie"
PYTHON = "/usr/bin/python3.13"
ROOT = Path(__file__).resolve().parents[2] / ".cache" / "userlands"
_DEBIAN_ARCH = {"x86_64": "amd64", "arm64": "arm64"}
_QEMU = {"x86_64": "qemu-x86_64-static", "arm64": "qemu-aarch64-static"}
# Lambda's arm64 is Graviton2 (Neoverse N1, no SVE). qemu's default "max" CPU adds SVE, which OpenBLAS
# then uses, and qemu emulates about five times slower.
_QEMU_CPU = {"x86_64": (), "arm64": ("-cpu", "neoverse-n1")}
_HOST = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
_LOADER = {
    "x86_64": ("usr/lib64/ld-linux-x86-64.so.2", "x86_64-linux-gnu"),
    "arm64": ("lib/ld-linux-aarch64.so.1", "aarch64-linux-gnu"),
}
_COMPLETE = ".cdk-sklearn-userland-complete"


def host_architecture() -> str:
    """The Lambda name of this machine's CPU (``x86_64`` or ``arm64``)."""
    return _HOST.get(platform.machine(), platform.machine())


def missing_tools(architecture: str) -> list[str]:
    """What this machine lacks to make and run the ``architecture`` userland (empty when ready)."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (debootstrap and chroot need it)")
    for tool in ("debootstrap", "dpkg-deb", "chroot"):
        if shutil.which(tool) is None:
            missing.append(tool)
    if architecture != host_architecture() and shutil.which(_QEMU[architecture]) is None:
        missing.append(f"{_QEMU[architecture]} (package qemu-user-static)")
    return missing


@dataclass(frozen=True)
class Userland:
    """A prepared trixie root folder for one architecture."""

    architecture: str
    root: Path

    @property
    def emulated(self) -> bool:
        """True when the interpreter runs through qemu-user."""
        return self.architecture != host_architecture()

    def python(self, *arguments: str) -> list[str]:
        """The command that runs the userland's ``python3.13 ARGUMENTS`` chrooted (paths are inside)."""
        prefix = (
            [f"/usr/bin/{_QEMU[self.architecture]}", *_QEMU_CPU[self.architecture]] if self.emulated else []
        )
        return ["chroot", str(self.root), *prefix, PYTHON, *arguments]

    def host_python(self) -> Path:
        """A launcher running this userland's CPython 3.13 on the host, for compiling bytecode.

        Only for the host's architecture: it starts the userland's own loader and libraries, so the
        host's older glibc is not used. Host paths stay valid (no chroot).
        """
        if self.emulated:
            raise ValueError(f"the {self.architecture} userland cannot run natively on this machine")
        loader, triplet = _LOADER[self.architecture]
        launcher = self.root.parent / f"python3.13-{self.architecture}"
        launcher.write_text(
            "#!/bin/sh\n"
            f'export PYTHONHOME="{self.root}/usr"\n'
            f'exec "{self.root / loader}" --library-path "{self.root}/usr/lib/{triplet}" '
            f'"{self.root}{PYTHON}" "$@"\n'
        )
        launcher.chmod(0o755)
        return launcher


def make_userland(architecture: str, root: Path = ROOT) -> Userland:
    """Return the ``architecture`` userland under ``root``, making it first if needed (a minute or two).

    Raises
    ------
    RuntimeError
        When a tool is missing or debootstrap fails; the message says which and how to get it.
    """
    target = root / f"{SUITE}-{architecture}"
    userland = Userland(architecture, target)
    if (target / _COMPLETE).is_file():
        return userland
    missing = missing_tools(architecture)
    if missing:
        raise RuntimeError(
            f"cannot make the {architecture} userland: missing {', '.join(missing)}; "
            "run as root after apt-get install debootstrap qemu-user-static"
        )
    staging = root / f".{SUITE}-{architecture}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    command = [
        "debootstrap",
        "--foreign",  # download and unpack only: the second stage would need to run target binaries
        "--variant=minbase",
        f"--arch={_DEBIAN_ARCH[architecture]}",
        "--include=python3.13",
        SUITE,
        str(staging),
    ]
    mirror = os.environ.get("DEBOOTSTRAP_MIRROR")
    if mirror:
        command.append(mirror)
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        log = staging / "debootstrap" / "debootstrap.log"
        detail = log.read_text()[-2000:] if log.is_file() else completed.stderr[-2000:]
        raise RuntimeError(f"debootstrap {SUITE} {architecture} failed:\n{detail}")
    archives = staging / "var" / "cache" / "apt" / "archives"
    # The first stage unpacked only the base; unpack everything it downloaded, python3.13 included.
    for package in sorted(archives.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(package), str(staging)], check=True)
        package.unlink()
    if userland.emulated:
        qemu = shutil.which(_QEMU[architecture])
        assert qemu is not None  # checked by missing_tools
        shutil.copy2(qemu, staging / "usr" / "bin" / _QEMU[architecture])
    (staging / _COMPLETE).write_text(f"{SUITE} {architecture}\n")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return userland


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.support.userland ARCH...``: prepare userlands and check their python3.13."""
    parser = argparse.ArgumentParser(prog="python -m tests.support.userland", description=__doc__)
    parser.add_argument("architectures", nargs="+", choices=sorted(_DEBIAN_ARCH))
    args = parser.parse_args(argv)
    for architecture in args.architectures:
        userland = make_userland(architecture)
        check = subprocess.run(
            userland.python(
                "-I", "-S", "-c", "import platform, sys; print(sys.version.split()[0], platform.machine())"
            ),
            capture_output=True,
            text=True,
            check=True,
        )
        print(f"userland {userland.root}: CPython {check.stdout.strip()}")
        if not userland.emulated:
            print(f"bytecode compiler: CDK_SKLEARN_BYTECODE_PYTHON={userland.host_python()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
