"""``cdk-sklearn new DIR [--model FILE]``: write a ready CDK app that serves a model.

The project is what ``cdk init app --language python`` lays out (``app.py``, ``cdk.json`` with the
installed aws-cdk-lib's recommended feature flags, ``requirements.txt``), wired to the library's
configuration loader as this repository's own app is: ``cdk.json`` holds ``dev``/``staging``/``prod``
environments, ``app.py`` selects one with ``-c env=NAME``. ``package.json`` and ``package-lock.json`` pin
the CDK CLI as this repository does (shipped as package data in :mod:`cdk_sklearn.templates`).

The project can be committed as written: no file names a path of this machine. A cdk-sklearn installed
from a wheel file is copied into the project's ``wheels/`` and required by version next to
``--find-links ./wheels`` (pip reads a relative ``--find-links`` in a requirements file against the
file's folder when that folder exists, so it works from any working directory). The model's run-time
requirements (those its layer ships) are written too, so ``cdk-sklearn serve`` runs after the set-up.

Nothing here imports aws_cdk: writing a project never starts jsii and Node.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import string
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from cdk_sklearn import __version__
from cdk_sklearn.cli.main import UsageError
from cdk_sklearn.cli.new_readme import readme_fields
from cdk_sklearn.cli.new_sources import (
    OwnRequirement,
    direct_url,
    own_requirement,
    recommended_feature_flags,
)
from cdk_sklearn.model.artifact import CPU_DISTRIBUTIONS, MODULE_DISTRIBUTIONS, inspect_model

TEMPLATES = "cdk_sklearn.templates"
DEFAULT_MODEL = "model.joblib"
"""The model file name ``cdk.json`` points at when ``--model`` is not given."""
WHEELS = "wheels"
"""The project folder that holds the cdk-sklearn wheel (``--find-links ./wheels``)."""


@dataclass(frozen=True)
class Versions:
    """What the new project pins: the running install's versions.

    Attributes
    ----------
    cdk_sklearn_requirement
        How ``requirements.txt`` installs this cdk-sklearn (see :func:`own_requirement`).
    cdk_sklearn
        This cdk-sklearn's version.
    aws_cdk_lib
        The installed aws-cdk-lib's version.
    constructs
        The installed constructs' version.
    cdk_cli
        The CDK CLI version in the shipped ``package.json``.
    """

    cdk_sklearn_requirement: OwnRequirement
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
            "autoscaling) environments and the installed aws-cdk-lib's recommended feature flags, "
            "requirements.txt pinning this cdk-sklearn (its wheel copied into wheels/), aws-cdk-lib and "
            "what the model needs at run time, package.json + package-lock.json pinning the CDK CLI, the "
            "model under models/, a .gitignore and a README with the commands that set it up, run it "
            "locally and deploy. No file names a path of this machine: commit the folder as written."
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
    note = installed_versions().cdk_sklearn_requirement.note
    if note:
        print(f"cdk-sklearn new: {note.replace('{wheels}', str(args.directory / WHEELS))}", file=sys.stderr)
    print(f"next, in {args.directory} (its README.md has the rest):")
    print(setup_block((args.directory / "README.md").read_text()))
    if args.model is None:
        print(f"then copy your model to {args.directory / 'models' / DEFAULT_MODEL}", file=sys.stderr)
    return 0


SETUP_MARKER = "<!-- set-up: run as written by tests/integration/test_wheel_install.py -->"
"""Marks the generated README's set-up block, which the replay test runs line by line."""


def setup_block(readme: str) -> str:
    """The shell lines of the generated README's set-up block (after :data:`SETUP_MARKER`)."""
    return readme.split(SETUP_MARKER, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0].rstrip()


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
        When ``directory`` is a file or not empty (without ``force``), ``model`` is not a file or not a
        model, or the installed aws-cdk-lib has no recommended feature flags to read.
    """
    _check_target(directory, force)
    if model is not None and not model.is_file():
        raise UsageError(
            f"--model {model}: no such file; give the model file to serve (.joblib, .pkl, .skops)"
        )
    needs = model_requirements(model) if model is not None else None
    model_name = model.name if model is not None else DEFAULT_MODEL
    versions = installed_versions()
    name = directory.resolve().name
    fields = {
        "name": name,
        "model": f"models/{model_name}",
        "version": versions.cdk_sklearn,
        "cdk_version": versions.aws_cdk_lib,
        "cli_version": versions.cdk_cli,
        **readme_fields(f"models/{model_name}", model, versions.cdk_sklearn_requirement),
    }
    files = {
        "app.py": _template("app.py.tmpl", fields),
        "cdk.json": cdk_json(f"models/{model_name}", recommended_feature_flags()),
        "requirements.txt": requirements_txt(versions, needs),
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
    wheel = versions.cdk_sklearn_requirement.wheel
    if wheel is not None:
        (directory / WHEELS).mkdir(exist_ok=True)
        written.append(Path(shutil.copy2(wheel, directory / WHEELS / wheel.name)))
    if model is not None:
        written.append(Path(shutil.copy2(model, directory / "models" / model_name)))
    return written


def model_requirements(model: Path) -> tuple[str, ...]:
    """What ``model`` needs at run time, as its layer ships it (scikit-learn pinned, pandas, ...).

    Raises
    ------
    UsageError
        When the file is not a model cdk-sklearn can serve (the inspection's reason, with its fix).
    """
    try:
        return inspect_model(model).requirements
    except ValueError as exc:
        raise UsageError(f"--model {model}: {exc}") from None


def cdk_json(model_path: str, flags: Mapping[str, Any]) -> str:
    """``cdk.json``: the shipped environments, each serving ``model_path``, then the feature ``flags``."""
    data = json.loads(_read("cdk.json"))
    for settings in data["context"]["environments"].values():
        settings["model_path"] = model_path
    data["context"].update(flags)
    return json.dumps(data, indent=2) + "\n"


def requirements_txt(versions: Versions, model_needs: tuple[str, ...] | None) -> str:
    """``requirements.txt``: this cdk-sklearn, the aws-cdk-lib it runs with and what the model needs.

    ``model_needs`` are the model's run-time requirements (``None`` without a model).
    """
    own = versions.cdk_sklearn_requirement
    lines = [
        f"# Written by cdk-sklearn new {versions.cdk_sklearn}: python -m pip install -r requirements.txt",
        *own.lines,
        f"aws-cdk-lib=={versions.aws_cdk_lib}",
        f"constructs=={versions.constructs}",
    ]
    if model_needs is None:
        lines.append(
            "# The model's run-time needs go here (scikit-learn==<training version>, pandas for a "
            "DataFrame model): cdk-sklearn serve loads it with them"
        )
    else:
        lines.append("# What the model needs at run time, as its Lambda layer ships it (cdk-sklearn serve)")
        lines += local_requirements(model_needs)
    return "\n".join(lines) + "\n"


def local_requirements(needs: Sequence[str]) -> list[str]:
    """The model's layer requirements as this project's machines install them.

    A CPU-only build the layer ships (``xgboost-cpu``) has no macOS wheel; there the regular
    distribution (without CUDA on macOS) serves the same module.
    """
    regular = {cpu: MODULE_DISTRIBUTIONS[module] for module, cpu in CPU_DISTRIBUTIONS.items()}
    lines: list[str] = []
    for text in needs:
        requirement = Requirement(text)
        plain = regular.get(canonicalize_name(requirement.name))
        if plain is None or requirement.marker is not None:
            lines.append(text)
            continue
        lines.append(f'{text}; sys_platform != "darwin"')
        lines.append(f'{plain}{requirement.specifier}; sys_platform == "darwin"')
    return lines


def installed_versions() -> Versions:
    """The versions of the running install (``0`` for a distribution that is not installed)."""
    package = json.loads(_read("package.json"))
    version = _version("cdk-sklearn") or __version__
    return Versions(
        cdk_sklearn_requirement=own_requirement(direct_url(), version, WHEELS),
        cdk_sklearn=version,
        aws_cdk_lib=_version("aws-cdk-lib") or "0",
        constructs=_version("constructs") or "0",
        cdk_cli=str(package["devDependencies"]["aws-cdk"]),
    )


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
