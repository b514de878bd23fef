"""What a Lambda Python runtime is, as far as wheels are concerned: CPython version, glibc, CPU.

python3.11 and older run on Amazon Linux 2 (glibc 2.26), where only manylinux2014 (glibc 2.17) wheels
load; python3.12 and newer run on Amazon Linux 2023 (glibc 2.34), where manylinux_2_28 wheels load too.
Current numpy/scipy/scikit-learn publish manylinux_2_28 wheels only, so the platform tags decide which
releases pip may pick.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lambda_runtime import limits

_MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}
_RUNTIME = re.compile(r"^python(\d+)\.(\d+)$")


@dataclass(frozen=True)
class LambdaTarget:
    """A Lambda Python runtime on one architecture.

    Attributes
    ----------
    runtime
        The Lambda runtime name, e.g. ``"python3.13"``.
    architecture
        The Lambda architecture name, ``"x86_64"`` or ``"arm64"``.
    """

    runtime: str
    architecture: str

    def __post_init__(self) -> None:
        if self.runtime not in limits.RUNTIMES:
            raise ValueError(
                f"Lambda runtime {self.runtime!r} is not supported by the scikit-learn layer; "
                f"use one of {', '.join(limits.RUNTIMES)}"
            )
        if self.architecture not in limits.ARCHITECTURES:
            raise ValueError(
                f"Lambda architecture {self.architecture!r} is not supported; "
                f"use one of {', '.join(limits.ARCHITECTURES)}"
            )

    @property
    def python_version(self) -> str:
        """``"3.13"`` for ``python3.13``."""
        return self.runtime.removeprefix("python")

    @property
    def version_tuple(self) -> tuple[int, int]:
        """``(3, 13)`` for ``python3.13``."""
        match = _RUNTIME.match(self.runtime)
        assert match is not None  # checked in __post_init__
        return int(match.group(1)), int(match.group(2))

    @property
    def abi(self) -> str:
        """The CPython ABI tag, ``"cp313"``."""
        major, minor = self.version_tuple
        return f"cp{major}{minor}"

    @property
    def machine(self) -> str:
        """The CPU name in wheel tags and ``platform.machine()``: ``x86_64`` or ``aarch64``."""
        return _MACHINE[self.architecture]

    @property
    def amazon_linux(self) -> str:
        """``"Amazon Linux 2"`` or ``"Amazon Linux 2023"``."""
        return "Amazon Linux 2023" if self.version_tuple >= (3, 12) else "Amazon Linux 2"

    @property
    def glibc(self) -> str:
        """The glibc version of the runtime's operating system."""
        return "2.34" if self.version_tuple >= (3, 12) else "2.26"

    @property
    def platform_tags(self) -> tuple[str, ...]:
        """Wheel platform tags the runtime can load, most specific first."""
        tags = [f"manylinux2014_{self.machine}"]
        if self.version_tuple >= (3, 12):
            tags.insert(0, f"manylinux_2_28_{self.machine}")
        return tuple(tags)

    def pip_arguments(self) -> list[str]:
        """pip options that make it pick wheels for this target instead of the host."""
        arguments: list[str] = []
        for tag in self.platform_tags:
            arguments += ["--platform", tag]
        arguments += [
            "--only-binary=:all:",
            "--python-version",
            self.python_version,
            "--implementation",
            "cp",
            "--abi",
            self.abi,
        ]
        return arguments

    def describe(self) -> str:
        """Human wording used in messages: ``python3.11 on Amazon Linux 2 (glibc 2.26, x86_64)``."""
        return f"{self.runtime} on {self.amazon_linux} (glibc {self.glibc}, {self.architecture})"
