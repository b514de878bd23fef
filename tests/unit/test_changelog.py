"""CHANGELOG.md is in Keep a Changelog form, with a section for the package's version or an Unreleased one."""

from __future__ import annotations

import datetime
import re

from lambda_runtime import __version__
from tests.conftest import PROJECT_DIR

TEXT = (PROJECT_DIR / "CHANGELOG.md").read_text()
HEADINGS = re.findall(r"^## (.*)$", TEXT, re.M)
KINDS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def _versions() -> list[str]:
    return [re.match(r"\[([^\]]+)\]", heading)[1] for heading in HEADINGS]  # type: ignore[index]


def test_has_a_section_for_the_version_or_unreleased():
    assert __version__ in _versions() or "Unreleased" in _versions()


def test_unreleased_comes_first_when_present():
    if "Unreleased" in _versions():
        assert _versions()[0] == "Unreleased"


def test_every_version_heading_is_unreleased_or_a_dated_semantic_version():
    for heading in HEADINGS:
        if heading == "[Unreleased]":
            continue
        match = re.fullmatch(r"\[(\d+)\.(\d+)\.(\d+)\] - (\d{4}-\d{2}-\d{2})", heading)
        assert match, f"'## {heading}' is neither [Unreleased] nor '[X.Y.Z] - YYYY-MM-DD'"
        datetime.date.fromisoformat(match[4])


def test_change_kinds_are_keep_a_changelogs():
    kinds = set(re.findall(r"^### (.*)$", TEXT, re.M))
    assert kinds <= KINDS, f"not Keep a Changelog kinds: {sorted(kinds - KINDS)}"


def test_released_versions_are_newest_first():
    released = [
        tuple(int(part) for part in version.split(".")) for version in _versions() if version != "Unreleased"
    ]
    assert released == sorted(released, reverse=True)
