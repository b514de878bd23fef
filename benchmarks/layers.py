"""The folders the benchmark puts on ``sys.path``: layers, function code and the Lambda runtime's boto3.

* ``pip_target_layer``: ``pip install --target`` of the same pins as our layer, for the size
  comparison (``prune=False``) and, pruned the way scikit-learn-lambda's layer script prunes
  (delete ``*.pyc``, ``__pycache__``, ``*.dist-info`` and ``tests``), as that project's layer. Its
  script also ran ``strip`` on every ``.so``; today's auditwheel-repaired wheels break under it
  (numpy: "ELF load command address/offset not page-aligned"), so that step is left out.
* ``runtime_dir``: boto3, which the Lambda Python runtime provides in ``/var/runtime`` and
  scikit-learn-lambda imports at module level.
* ``function_dir``: a handler package copied the way it is shipped (no bytecode).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

# Wheels for Lambda's x86_64 runtimes (Amazon Linux 2023, glibc 2.34).
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux2014_x86_64", "manylinux_2_17_x86_64")
_BYTECODE = ("__pycache__", "*.pyc", "*.pyo")


def pip_install_target(dest: Path, requirements: list[str], python_version: str) -> None:
    """``pip install --target dest`` binary wheels for CPython ``python_version`` on Lambda x86_64."""
    platform_args = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(dest),
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            python_version,
            *platform_args,
            *requirements,
        ],
        check=True,
    )


def prune_like_sklearn_lambda(site: Path) -> None:
    """Apply scikit-learn-lambda's layer pruning (its tools/install-pip-packages.sh) to ``site``."""
    for pattern in ("*.dist-info", "tests", "__pycache__"):
        for directory in sorted(site.rglob(pattern), key=lambda p: len(p.parts), reverse=True):
            if directory.is_dir():
                shutil.rmtree(directory, ignore_errors=True)
    for pyc in site.rglob("*.pyc"):
        pyc.unlink()


def pip_target_layer(dest: Path, requirements: list[str], python_version: str, prune: bool) -> Path:
    """Build (once) a layer folder ``dest/python`` with pip --target; return the ``python`` folder."""
    site = dest / "python"
    done = dest / ".complete"
    if done.exists() and done.read_text() == "\n".join(requirements):
        return site
    shutil.rmtree(dest, ignore_errors=True)
    pip_install_target(site, requirements, python_version)
    if prune:
        prune_like_sklearn_lambda(site)
    done.write_text("\n".join(requirements))
    return site


def runtime_dir(dest: Path, boto3_version: str, python_version: str) -> Path:
    """Build (once) a stand-in for Lambda's ``/var/runtime``: boto3 and its dependencies."""
    return pip_target_layer(dest, [f"boto3=={boto3_version}"], python_version, prune=False)


def function_dir(package: Path, dest: Path) -> Path:
    """Copy the handler package into ``dest/<name>`` without bytecode, as it is zipped; return ``dest``."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(package, dest / package.name, ignore=shutil.ignore_patterns(*_BYTECODE))
    return dest


def find_sklearn_lambda_package(src: Path) -> Path:
    """Locate the ``scikit_learn_lambda`` package in a copy of model-zoo/scikit-learn-lambda.

    Raises
    ------
    ValueError
        When ``src`` holds no ``scikit_learn_lambda/lib.py``.
    """
    for candidate in (src, src / "scikit_learn_lambda", src / "scikit-learn-lambda" / "scikit_learn_lambda"):
        if (candidate / "lib.py").is_file() and candidate.name == "scikit_learn_lambda":
            return candidate
    raise ValueError(
        f"--sklearn-lambda-src {src} holds no scikit_learn_lambda/lib.py; pass a checkout of "
        "https://github.com/model-zoo/scikit-learn-lambda (git clone it outside this repository)"
    )


def _distribution(entry: str) -> str:
    """Group a site-packages entry under its distribution's import name."""
    name = entry
    for suffix in (".dist-info", ".libs", ".data"):
        if name.endswith(suffix):
            name = name[: -len(suffix)].split("-")[0]
    name = name.split(".")[0].lower().replace("-", "_")
    # Import names of the usual suspects that differ from their distribution names.
    return {"sklearn": "scikit_learn", "scikit_learn": "scikit_learn"}.get(name, name)


def package_sizes(site: Path) -> dict[str, int]:
    """Bytes on disk per distribution in a layer's ``python`` folder (files only, symlinks not followed)."""
    sizes: dict[str, int] = defaultdict(int)
    for entry in site.iterdir():
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        sizes[_distribution(entry.name)] += sum(p.lstat().st_size for p in files)
    return dict(sizes)


def tree_size(path: Path) -> int:
    """Total bytes of the files under ``path``."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file())
