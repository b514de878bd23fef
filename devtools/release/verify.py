"""What must hold before a tag is published: the tag is the version, the CHANGELOG dates it, the metadata
points at the repository, and ``twine check`` accepts the artifacts.

Each check returns the problems it finds as sentences that say what to change; an empty list means it holds.
"""

from __future__ import annotations

import ast
import datetime
import re
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Keep a Changelog 1.1.0: "## [Unreleased]" or "## [1.2.3] - 2026-12-31"; the change kinds it names.
HEADING = re.compile(r"^## \[(?P<name>[^\]]+)\](?: - (?P<date>\S+))?\s*$", re.M)
KINDS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$")
REQUIRED_URLS = ("Source", "Changelog", "Issues")
VERSION_FILE = "lambda_runtime/__init__.py"


@dataclass(frozen=True)
class Section:
    """One ``## [...]`` section of the CHANGELOG."""

    name: str
    date: str | None
    kinds: tuple[str, ...]


def changelog_sections(text: str) -> list[Section]:
    """Return the CHANGELOG's version sections in file order, with the ``### kind`` headings of each."""
    matches = list(HEADING.finditer(text))
    sections = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = text[match.end() : end]
        kinds = tuple(re.findall(r"^### (\S+)", body, re.M))
        sections.append(Section(match["name"], match["date"], kinds))
    return sections


def check_changelog(text: str, version: str, released: bool) -> list[str]:
    """Check the CHANGELOG holds ``version``: dated when ``released``, else as it or as Unreleased."""
    sections = changelog_sections(text)
    problems = [
        f"CHANGELOG.md: [{section.name}] has '### {kind}'; Keep a Changelog's kinds are {', '.join(KINDS)}"
        for section in sections
        for kind in section.kinds
        if kind not in KINDS
    ]
    problems += [
        f"CHANGELOG.md: [{section.name}] is not a semantic version (write it as MAJOR.MINOR.PATCH)"
        for section in sections
        if section.name != "Unreleased" and not SEMVER.match(section.name)
    ]
    problems += [
        f"CHANGELOG.md: [{section.name}] - {section.date} is not a date; write it as YYYY-MM-DD"
        for section in sections
        if section.date is not None and not _is_date(section.date)
    ]
    named = {section.name: section for section in sections}
    if released:
        section = named.get(version)
        if section is None or section.date is None:
            problems.append(
                f"CHANGELOG.md has no dated section for {version}: rename '## [Unreleased]' to "
                f"'## [{version}] - YYYY-MM-DD' (the release day) and start a new empty Unreleased above it"
            )
    elif version not in named and "Unreleased" not in named:
        problems.append(f"CHANGELOG.md has neither an [Unreleased] section nor one for {version}: add one")
    return problems


def check_tag(tag: str, version: str) -> list[str]:
    """Check the git tag names the package's version as ``v<version>``."""
    if tag == f"v{version}":
        return []
    return [f"tag {tag} does not match the package version {version} ({VERSION_FILE}): tag v{version}"]


def check_urls(urls: dict[str, str], repository_url: str | None) -> list[str]:
    """Check ``[project.urls]`` names the repository (and, given, that ``Source`` is ``repository_url``)."""
    problems = []
    missing = [key for key in REQUIRED_URLS if key not in urls]
    if missing:
        base = (repository_url or "https://github.com/<owner>/cdk-sklearn").rstrip("/")
        suggested = {
            "Source": base,
            "Changelog": f"{base}/blob/main/CHANGELOG.md",
            "Issues": f"{base}/issues",
        }
        lines = "; ".join(f'{key} = "{suggested[key]}"' for key in missing)
        problems.append(f"pyproject.toml: [project.urls] lacks {', '.join(missing)}: add {lines}")
    source = urls.get("Source")
    if repository_url is not None and source is not None and source.rstrip("/") != repository_url.rstrip("/"):
        problems.append(f"pyproject.toml: [project.urls] Source is {source}, the repository {repository_url}")
    return problems


def twine_check(paths: Sequence[Path]) -> list[str]:
    """Run ``twine check --strict`` on ``paths``; return its output as one problem when it fails."""
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, paths)], capture_output=True, text=True
    )
    return [] if result.returncode == 0 else [f"twine check failed:\n{result.stdout}{result.stderr}".rstrip()]


def package_version(source: Path) -> str:
    """Return ``__version__`` as written in ``source``'s version file (read, not imported)."""
    tree = ast.parse((source / VERSION_FILE).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__version__" for target in node.targets
        ):
            value = ast.literal_eval(node.value)
            if isinstance(value, str):
                return value
    raise ValueError(f"{VERSION_FILE} assigns no __version__ string")


def check_release(source: Path, tag: str, repository_url: str | None) -> list[str]:
    """Every check a tag must pass before its artifacts are built and published."""
    version = package_version(source)
    metadata = tomllib.loads((source / "pyproject.toml").read_text())["project"]
    problems = [] if SEMVER.match(version) else [f"{VERSION_FILE}: {version} is not MAJOR.MINOR.PATCH"]
    problems += check_tag(tag, version)
    problems += check_changelog((source / "CHANGELOG.md").read_text(), version, released=True)
    problems += check_urls(metadata.get("urls", {}), repository_url)
    return problems


def _is_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None
