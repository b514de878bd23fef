"""Tiny pure-Python wheels and a local package index, for pip runs without the network."""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest


def make_wheel(
    folder: Path, name: str, version: str, body: str | None = None, metadata: Sequence[str] = ()
) -> Path:
    """Write ``name-version-py3-none-any.whl`` (one module, ``name/__init__.py``) into ``folder``.

    ``body`` replaces the module's text, to make a wheel with the same name and other bytes;
    ``metadata`` are more lines of its METADATA (``Requires-Dist: numpy>=2``, ``Provides-Extra: fast``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": (body if body is not None else f"VERSION = {version!r}\n").encode(),
        f"{dist_info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            + "".join(f"{line}\n" for line in metadata)
        ).encode(),
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: cdk-sklearn-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    rows = [f"{path},sha256={_digest(data)},{len(data)}" for path, data in files.items()]
    files[f"{dist_info}/RECORD"] = ("\n".join([*rows, f"{dist_info}/RECORD,,"]) + "\n").encode()
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(zipfile.ZipInfo(path, (1980, 1, 1, 0, 0, 0)), data)
    return wheel


def use_local_index(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Make every pip run see only the wheels in ``folder`` (no PyPI, no pip config)."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(folder))


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
