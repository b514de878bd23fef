"""Compile .pyc for the target Python version, so Lambda cold starts do not compile imports.

``/opt`` (layers) and ``/var/task`` (function code) are read-only on Lambda, so Python cannot cache
the bytecode it compiles: without .pyc of the target version every cold start recompiles every module
it imports. Bytecode depends on the Python minor version only (not on the CPU), so any CPython of
the runtime's version can compile it. ``unchecked-hash`` .pyc files are used without comparing
timestamps, which zip files and asset staging do not preserve.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BYTECODE_PYTHON_ENV = "CDK_SKLEARN_BYTECODE_PYTHON"
"""Environment variable naming an interpreter to compile bytecode with (e.g. ``/usr/bin/python3.13``)."""


@dataclass(frozen=True)
class Interpreter:
    """A CPython executable and the version it reports.

    Attributes
    ----------
    executable
        Path of the interpreter.
    version
        ``(3, 13)``: what decides the bytecode format (magic number, cache tag).
    release
        The full version, ``"3.13.5"`` (``""`` when unknown): a patch release may compile some
        module to different bytes, so the lock records it and the cache key includes it.
    """

    executable: str
    version: tuple[int, int]
    release: str = ""

    @property
    def cache_tag(self) -> str:
        """``cpython-313`` for CPython 3.13: the infix of its ``__pycache__`` file names."""
        return f"cpython-{self.version[0]}{self.version[1]}"


def probe(executable: str) -> Interpreter | None:
    """Run ``executable`` and return it if it is a working CPython, else ``None``."""
    path = shutil.which(executable) or executable
    try:
        completed = subprocess.run(
            [
                path,
                "-I",
                "-c",
                "import platform, sys; "
                "print(sys.implementation.name, *sys.version_info[:2], platform.python_version())",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = completed.stdout.split()
    if completed.returncode != 0 or len(parts) != 4 or parts[0] != "cpython":
        return None
    return Interpreter(path, (int(parts[1]), int(parts[2])), parts[3])


def find_interpreter(version: tuple[int, int], explicit: str | None = None) -> Interpreter | None:
    """Find a CPython of ``version`` to compile bytecode with.

    Looks, in order, at ``explicit`` (a prop or CLI option), the ``CDK_SKLEARN_BYTECODE_PYTHON``
    environment variable (one interpreter, or several separated by ``os.pathsep``; those of other
    versions are skipped), the interpreter running cdk-sklearn, ``python3.X`` on ``PATH``, the one
    ``uv python find 3.X`` reports, and pyenv's ``versions/3.X*`` (see :func:`on_path`,
    :func:`uv_python`, :func:`pyenv_pythons`).

    Parameters
    ----------
    version
        ``(3, 13)`` for the python3.13 runtime.
    explicit
        An interpreter the user named; it must exist and have the right version.

    Returns
    -------
    Interpreter or None
        ``None`` when no matching interpreter is found (the caller warns that cold starts will compile).

    Raises
    ------
    ValueError
        If ``explicit`` is not a CPython ``version``, or the environment variable names something
        that is not a working CPython.
    """
    if explicit:
        return _named(explicit, "bytecode_python", version, must_match=True)
    # The variable may list several interpreters (os.pathsep-separated), one per runtime version; one
    # of another version is simply not the one for this layer, so the search goes on.
    for candidate in filter(None, os.environ.get(BYTECODE_PYTHON_ENV, "").split(os.pathsep)):
        found = _named(candidate, BYTECODE_PYTHON_ENV, version, must_match=False)
        if found is not None:
            return found
    if sys.implementation.name == "cpython" and sys.version_info[:2] == version:
        return Interpreter(sys.executable, version, platform.python_version())
    searched: list[str | None] = [on_path(version), uv_python(version), *pyenv_pythons(version)]
    for path in filter(None, searched):
        probed = probe(path)
        if probed is not None and probed.version == version:
            return probed
    return None


def on_path(version: tuple[int, int]) -> str | None:
    """``python3.X`` on ``PATH`` (a pyenv shim counts: probing it says whether it works), or ``None``."""
    return shutil.which(f"python{version[0]}.{version[1]}")


def uv_python(version: tuple[int, int]) -> str | None:
    """The interpreter ``uv python find 3.X`` reports when uv is installed, or ``None``.

    uv keeps the interpreters it installs outside ``PATH`` (``~/.local/share/uv/python``); ``find``
    never downloads one.
    """
    uv = shutil.which("uv")
    if uv is None:
        return None
    try:
        completed = subprocess.run(
            [uv, "python", "find", "--no-project", f"{version[0]}.{version[1]}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    path = completed.stdout.strip()
    return path if completed.returncode == 0 and path else None


def pyenv_pythons(version: tuple[int, int]) -> list[str]:
    """``$PYENV_ROOT/versions/3.X*/bin/python3.X`` (default root ``~/.pyenv``), newest patch first.

    pyenv's shims on ``PATH`` only run the versions a ``.python-version`` or ``pyenv global``
    selects; the installed versions themselves are always under ``versions/``.
    """
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv").expanduser()
    name = f"python{version[0]}.{version[1]}"
    found = [p for p in root.glob(f"versions/{version[0]}.{version[1]}*/bin/{name}") if os.access(p, os.X_OK)]
    return [str(p) for p in sorted(found, key=_patch_order, reverse=True)]


def _patch_order(path: Path) -> tuple[int, ...]:
    # versions/3.13.2/bin/python3.13 -> (3, 13, 2); a suffixed build (3.13.2t) sorts by its digits
    text = path.parents[1].name
    return tuple(int("".join(c for c in part if c.isdigit()) or 0) for part in text.split("."))


def _named(candidate: str, source: str, version: tuple[int, int], *, must_match: bool) -> Interpreter | None:
    found = probe(candidate)
    if found is not None and found.version == version:
        return found
    if found is None or must_match:
        got = f"CPython {found.version[0]}.{found.version[1]}" if found else "not a working CPython"
        raise ValueError(
            f"{source}={candidate!r} is {got}, but the layer targets Python {version[0]}.{version[1]}; "
            f"name a python{version[0]}.{version[1]} executable or unset it"
        )
    return None


def compile_bytecode(directory: Path, interpreter: Interpreter, runtime_path: str) -> int:
    """Compile every ``.py`` under ``directory`` into ``__pycache__`` with ``unchecked-hash`` validation.

    Parameters
    ----------
    directory
        The folder to compile (a layer's ``python/`` or the function code folder).
    interpreter
        A CPython of the target version (see :func:`find_interpreter`).
    runtime_path
        Where ``directory`` will be on Lambda (``/opt/python`` or ``/var/task``): recorded in the
        bytecode so tracebacks show real paths.

    Returns
    -------
    int
        The number of .pyc files written.

    Raises
    ------
    RuntimeError
        If compilation fails (a syntax error for the target version); the message has the output.
    """
    command = [
        interpreter.executable,
        "-I",
        "-m",
        "compileall",
        "-q",
        "--invalidation-mode",
        "unchecked-hash",
        "-s",
        str(directory),
        "-p",
        runtime_path,
        str(directory),
    ]
    # No "-j": compileall's workers start sys.executable directly, which breaks interpreters reached
    # through a wrapper (a userland's python run with its own loader); a layer compiles in seconds.
    # SOURCE_DATE_EPOCH would force checked-hash; the explicit mode above already decides.
    env = {k: v for k, v in os.environ.items() if k not in ("SOURCE_DATE_EPOCH", "PYTHONPYCACHEPREFIX")}
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if completed.returncode != 0:
        raise RuntimeError(
            f"compiling bytecode in {directory} with {interpreter.executable} failed:\n"
            f"{completed.stdout}{completed.stderr}"
        )
    return sum(1 for _ in directory.rglob(f"*.{interpreter.cache_tag}.pyc"))
