"""Where ``cdk-sklearn new`` reads what it pins: how this cdk-sklearn was installed, and aws-cdk-lib's
recommended feature flags.

Both are read from the installed distributions' own records (PEP 610's ``direct_url.json``; the
``recommended-feature-flags.json`` inside aws-cdk-lib's jsii bundle, the file ``cdk init`` copies into
a new ``cdk.json``), never from a copy kept here. Nothing here imports aws_cdk.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from cdk_sklearn.cli.main import UsageError

FLAGS_MEMBER = "package/recommended-feature-flags.json"
"""Where aws-cdk-lib's npm package keeps the flags ``cdk init`` writes (inside the jsii bundle)."""


@dataclass(frozen=True)
class OwnRequirement:
    """How a new project's ``requirements.txt`` installs this cdk-sklearn.

    Attributes
    ----------
    lines
        The ``requirements.txt`` lines (``--find-links ./wheels`` and ``cdk-sklearn==X.Y.Z``, or a
        versioned or git requirement).
    wheel
        The file to copy into the project's wheels folder, or ``None``.
    note
        What the user must do for the lines to work (``{wheels}`` is the project's wheels folder), or
        ``None``.
    onnx
        The requirement that adds the ``onnx`` extra (``cdk-sklearn[onnx]==X.Y.Z``).
    """

    lines: tuple[str, ...]
    wheel: Path | None = None
    note: str | None = None
    onnx: str = ""


def direct_url() -> dict[str, Any] | None:
    """How pip installed cdk-sklearn (its PEP 610 record), or ``None`` for an index install."""
    try:
        text = metadata.distribution("cdk-sklearn").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not text:
        return None
    record: dict[str, Any] = json.loads(text)
    return record


def own_requirement(direct: Mapping[str, Any] | None, version: str, wheels: str) -> OwnRequirement:
    """The requirement that installs this cdk-sklearn again, for anyone who clones the project.

    Parameters
    ----------
    direct
        pip's PEP 610 record of the install (:func:`direct_url`), ``None`` for an install from an index.
    version
        This cdk-sklearn's version.
    wheels
        The project folder that receives a wheel installed from a file (relative, e.g. ``wheels``).

    Returns
    -------
    OwnRequirement
        From an index: ``cdk-sklearn==VERSION``. From a git URL: that URL at the installed commit. From a
        file (a wheel, an sdist): the file to copy into ``wheels/`` and ``--find-links ./wheels`` with
        ``cdk-sklearn==VERSION``. From a folder (a checkout, editable or not), or a file that no longer
        exists: the same lines and a note saying how to build the wheel into ``wheels/``. An https URL
        of an archive stays that URL.
    """
    pinned = f"cdk-sklearn=={version}"
    onnx = f"cdk-sklearn[onnx]=={version}"
    if direct is None:
        return OwnRequirement((pinned,), onnx=onnx)
    url = str(direct.get("url", ""))
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict):
        at = f"{vcs.get('vcs', 'git')}+{url}@{vcs.get('commit_id', '')}"
        return OwnRequirement((f"cdk-sklearn @ {at}",), onnx=f"cdk-sklearn[onnx] @ {at}")
    if not url.startswith("file://"):
        return OwnRequirement((f"cdk-sklearn @ {url}",), onnx=f"cdk-sklearn[onnx] @ {url}")
    local = (f"--find-links ./{wheels}", pinned)
    source = Path(unquote(urlparse(url).path))
    if source.is_file():
        return OwnRequirement(local, wheel=source, onnx=onnx)
    how = "from a folder" if source.is_dir() else "from a file that no longer exists"
    build = source if source.is_dir() else Path("path/to/cdk-sklearn")
    return OwnRequirement(
        local,
        note=(
            f"cdk-sklearn {version} was installed {how} ({source}), not from a wheel, so there is no "
            f"wheel to copy; build it into the project: python -m pip wheel --no-deps -w {{wheels}} {build}"
        ),
        onnx=onnx,
    )


def recommended_feature_flags() -> dict[str, Any]:
    """The feature flags ``cdk init`` writes into ``cdk.json``, read from the installed aws-cdk-lib.

    Raises
    ------
    UsageError
        When aws-cdk-lib is not installed or its jsii bundle has no recommended flags.
    """
    bundle = _jsii_bundle()
    with tarfile.open(bundle, "r|gz") as archive:
        for member in archive:
            if member.name == FLAGS_MEMBER:
                data = archive.extractfile(member)
                if data is not None:
                    flags: dict[str, Any] = json.load(data)
                    return flags
    raise UsageError(
        f"aws-cdk-lib's bundle {bundle.name} has no {FLAGS_MEMBER.removeprefix('package/')}; "
        "reinstall aws-cdk-lib (python -m pip install --force-reinstall aws-cdk-lib)"
    )


def _jsii_bundle() -> Path:
    try:
        distribution = metadata.distribution("aws-cdk-lib")
    except metadata.PackageNotFoundError:
        raise UsageError(
            "aws-cdk-lib is not installed here; install cdk-sklearn with pip (it depends on aws-cdk-lib)"
        ) from None
    for file in distribution.files or ():
        if file.name.startswith("aws-cdk-lib@") and file.name.endswith(".jsii.tgz"):
            path = Path(str(distribution.locate_file(file)))
            if path.is_file():
                return path
    raise UsageError(
        "aws-cdk-lib's jsii bundle (aws_cdk/_jsii/aws-cdk-lib@*.jsii.tgz) is missing; reinstall it "
        "(python -m pip install --force-reinstall aws-cdk-lib)"
    )
