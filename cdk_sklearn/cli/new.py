"""``cdk-sklearn new DIR [--model FILE]``: write a ready CDK app that serves a model.

The project is what ``cdk init app --language python`` lays out (``app.py``, ``cdk.json`` whose ``app``
is ``python3 app.py``, ``requirements.txt``), wired to the library's configuration loader as this
repository's own app is: ``cdk.json`` holds ``dev``/``staging``/``prod`` environments, ``app.py`` selects
one with ``-c env=NAME``. Python requirements pin the running cdk-sklearn and aws-cdk-lib; ``package.json``
and ``package-lock.json`` pin the CDK CLI as this repository does (shipped as package data in
:mod:`cdk_sklearn.templates`).

Nothing here imports aws_cdk: writing a project never starts jsii and Node.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import string
import sys
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from cdk_sklearn import __version__
from cdk_sklearn.cli.main import UsageError

TEMPLATES = "cdk_sklearn.templates"
DEFAULT_MODEL = "model.joblib"
"""The model file name ``cdk.json`` points at when ``--model`` is not given."""


@dataclass(frozen=True)
class Versions:
    """What the new project pins: the running install's versions.

    Attributes
    ----------
    cdk_sklearn_requirement
        The ``requirements.txt`` line that installs this cdk-sklearn (see :func:`own_requirement`).
    cdk_sklearn
        This cdk-sklearn's version.
    aws_cdk_lib
        The installed aws-cdk-lib's version.
    constructs
        The installed constructs' version.
    cdk_cli
        The CDK CLI version in the shipped ``package.json``.
    """

    cdk_sklearn_requirement: str
    cdk_sklearn: str
    aws_cdk_lib: str
    constructs: str
    cdk_cli: str


def register(subparsers: Any) -> None:
    """Add the ``new`` sub-command to the CLI."""
    parser = subparsers.add_parser(
        "new",
        help="write a ready CDK app (app.py, cdk.json with dev/staging/prod, pinned requirements) into DIR",
        description=(
            "Write a CDK app that serves a model with cdk-sklearn: app.py (one stack per environment), "
            "cdk.json with dev (on-demand), staging (SnapStart) and prod (provisioned concurrency with "
            "autoscaling) environments, requirements.txt pinning this cdk-sklearn and aws-cdk-lib, "
            "package.json + package-lock.json pinning the CDK CLI, the model under models/, a .gitignore "
            "and a README with the commands that set it up and deploy."
        ),
    )
    parser.add_argument("directory", type=Path, metavar="DIR", help="the project folder (new or empty)")
    parser.add_argument(
        "--model",
        type=Path,
        metavar="FILE",
        help=f"the model file to copy into models/ (default: none; put yours at models/{DEFAULT_MODEL})",
    )
    parser.add_argument(
        "--force", action="store_true", help="write into DIR even when it is not empty (overwrites files)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the project and print what to do next."""
    written = scaffold(args.directory, args.model, force=args.force)
    print(f"cdk-sklearn new: wrote {len(written)} files into {args.directory}")
    print((args.directory / "README.md").read_text().split("```sh\n", 1)[1].split("```", 1)[0].rstrip())
    if args.model is None:
        print(f"then copy your model to {args.directory / 'models' / DEFAULT_MODEL}", file=sys.stderr)
    return 0


def scaffold(directory: Path, model: Path | None, *, force: bool = False) -> list[Path]:
    """Write a new project into ``directory``.

    Parameters
    ----------
    directory
        The project folder; created when missing.
    model
        The model file to copy into ``models/``; ``None`` leaves ``models/`` for the user to fill.
    force
        Write into a non-empty ``directory`` (files with the same names are overwritten).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    UsageError
        When ``directory`` is a file or not empty (without ``force``), or ``model`` is not a file.
    """
    _check_target(directory, force)
    if model is not None and not model.is_file():
        raise UsageError(
            f"--model {model}: no such file; give the model file to serve (.joblib, .pkl, .skops)"
        )
    model_name = model.name if model is not None else DEFAULT_MODEL
    versions = installed_versions()
    name = directory.resolve().name
    fields = {
        "name": name,
        "model": f"models/{model_name}",
        "version": versions.cdk_sklearn,
        "cdk_version": versions.aws_cdk_lib,
        "cli_version": versions.cdk_cli,
    }
    files = {
        "app.py": _template("app.py.tmpl", fields),
        "cdk.json": cdk_json(f"models/{model_name}"),
        "requirements.txt": requirements_txt(versions),
        "package.json": _package_file("package.json", name),
        "package-lock.json": _package_file("package-lock.json", name),
        ".gitignore": _template("gitignore.tmpl", fields),
        "README.md": _template("README.md.tmpl", fields),
    }
    (directory / "models").mkdir(parents=True, exist_ok=True)
    written = []
    for relative, text in files.items():
        path = directory / relative
        path.write_text(text)
        written.append(path)
    if model is not None:
        written.append(Path(shutil.copy2(model, directory / "models" / model_name)))
    return written


def cdk_json(model_path: str) -> str:
    """``cdk.json``: the shipped environments, each serving ``model_path``."""
    data = json.loads(_read("cdk.json"))
    for settings in data["context"]["environments"].values():
        settings["model_path"] = model_path
    return json.dumps(data, indent=2) + "\n"


def requirements_txt(versions: Versions) -> str:
    """``requirements.txt`` pinning this cdk-sklearn and the aws-cdk-lib it runs with."""
    return (
        f"# Written by cdk-sklearn new: the versions that wrote this project.\n"
        f"{versions.cdk_sklearn_requirement}\n"
        f"aws-cdk-lib=={versions.aws_cdk_lib}\n"
        f"constructs=={versions.constructs}\n"
    )


def installed_versions() -> Versions:
    """The versions of the running install (``0`` for a distribution that is not installed)."""
    package = json.loads(_read("package.json"))
    return Versions(
        cdk_sklearn_requirement=own_requirement(),
        cdk_sklearn=_version("cdk-sklearn") or __version__,
        aws_cdk_lib=_version("aws-cdk-lib") or "0",
        constructs=_version("constructs") or "0",
        cdk_cli=str(package["devDependencies"]["aws-cdk"]),
    )


def own_requirement() -> str:
    """The requirement that installs this cdk-sklearn again, from how it was installed (PEP 610).

    cdk-sklearn is not on a package index: a wheel file, a git URL or a folder is named as pip recorded
    it (``cdk-sklearn @ file:///.../cdk_sklearn-0.1.0-py3-none-any.whl``, ``cdk-sklearn @
    git+https://...@<commit>``); an install from an index gives ``cdk-sklearn==VERSION``.
    """
    version = _version("cdk-sklearn") or __version__
    try:
        text = metadata.distribution("cdk-sklearn").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        text = None
    if not text:
        return f"cdk-sklearn=={version}"
    direct = json.loads(text)
    url = str(direct.get("url", ""))
    vcs = direct.get("vcs_info")
    if isinstance(vcs, dict):
        return f"cdk-sklearn @ {vcs.get('vcs', 'git')}+{url}@{vcs.get('commit_id', '')}"
    if url.startswith("file://") and not Path(unquote(urlparse(url).path)).exists():
        return f"cdk-sklearn=={version}  # installed from {url}, which no longer exists"
    return f"cdk-sklearn @ {url}"


def _check_target(directory: Path, force: bool) -> None:
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is a file; give a folder for the new project")
    entries = sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []
    if entries and not force:
        shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
        raise UsageError(
            f"{directory} is not empty ({len(entries)} entries: {shown}); choose a new or empty folder, "
            "or pass --force to write into it (files with the same names are overwritten)"
        )


def _package_file(name: str, project: str) -> str:
    # npm wants a lowercase name without spaces; the lock repeats it at the top and for "".
    npm_name = re.sub(r"[^a-z0-9._-]+", "-", project.lower()).strip("-._") or "cdk-sklearn-app"
    data = json.loads(_read(name))
    data["name"] = npm_name
    data.get("packages", {}).get("", {})["name"] = npm_name
    data.pop("description", None)
    return json.dumps(data, indent=2) + "\n"


def _template(name: str, fields: dict[str, str]) -> str:
    return string.Template(_read(name)).substitute(fields)


def _read(name: str) -> str:
    return resources.files(TEMPLATES).joinpath(name).read_text(encoding="utf-8")


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
