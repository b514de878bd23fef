"""The checks a tag must pass: CHANGELOG form and dated section, tag = version, project URLs."""

from __future__ import annotations

from pathlib import Path

from devtools.release.verify import (
    changelog_sections,
    check_changelog,
    check_tag,
    check_urls,
    package_version,
)

UNRELEASED = """# Changelog

## [Unreleased]

### Added

- a thing

## [0.1.0] - 2026-01-31

### Fixed

- a bug
"""
RELEASED = UNRELEASED.replace("## [Unreleased]", "## [Unreleased]\n\n## [0.2.0] - 2026-12-07", 1)
URLS = {
    "Source": "https://example.org/team/cdk-sklearn",
    "Changelog": "https://example.org/team/cdk-sklearn/CHANGELOG.md",
    "Issues": "https://example.org/team/cdk-sklearn/issues",
}


def test_sections_in_file_order_with_their_kinds():
    sections = changelog_sections(RELEASED)
    assert [(section.name, section.date, section.kinds) for section in sections] == [
        ("Unreleased", None, ()),
        ("0.2.0", "2026-12-07", ("Added",)),
        ("0.1.0", "2026-01-31", ("Fixed",)),
    ]


def test_unreleased_section_is_enough_before_a_release():
    assert check_changelog(UNRELEASED, "0.2.0", released=False) == []


def test_dated_section_passes_for_a_release():
    assert check_changelog(RELEASED, "0.2.0", released=True) == []


def test_fails_release_without_a_dated_section():
    (problem,) = check_changelog(UNRELEASED, "0.2.0", released=True)
    assert "no dated section for 0.2.0" in problem and "'## [0.2.0] - YYYY-MM-DD'" in problem


def test_fails_release_with_an_undated_section():
    (problem,) = check_changelog(UNRELEASED.replace("[Unreleased]", "[0.2.0]"), "0.2.0", released=True)
    assert "no dated section for 0.2.0" in problem


def test_fails_without_unreleased_or_version_section():
    text = UNRELEASED.replace("## [Unreleased]\n", "")
    (problem,) = check_changelog(text, "0.2.0", released=False)
    assert "neither an [Unreleased] section nor one for 0.2.0" in problem


def test_fails_on_a_kind_keep_a_changelog_does_not_name():
    (problem,) = check_changelog(UNRELEASED.replace("### Added", "### Improved"), "0.2.0", released=False)
    assert "'### Improved'" in problem and "Deprecated" in problem


def test_fails_on_a_date_that_is_not_iso():
    (problem,) = check_changelog(UNRELEASED.replace("2026-01-31", "31.01.2026"), "0.2.0", released=False)
    assert "31.01.2026 is not a date" in problem


def test_fails_on_an_impossible_date():
    (problem,) = check_changelog(UNRELEASED.replace("2026-01-31", "2026-02-30"), "0.2.0", released=False)
    assert "2026-02-30 is not a date" in problem


def test_fails_on_a_version_that_is_not_semantic():
    (problem,) = check_changelog(UNRELEASED.replace("[0.1.0]", "[0.1]"), "0.2.0", released=False)
    assert "[0.1] is not a semantic version" in problem


def test_tag_of_the_version_passes():
    assert check_tag("v0.2.0", "0.2.0") == []


def test_fails_tag_of_another_version():
    (problem,) = check_tag("v0.2.1", "0.2.0")
    assert "does not match the package version 0.2.0" in problem and "tag v0.2.0" in problem


def test_fails_tag_without_v():
    assert check_tag("0.2.0", "0.2.0")


def test_urls_of_the_repository_pass():
    assert check_urls(URLS, "https://example.org/team/cdk-sklearn/") == []


def test_fails_without_project_urls_and_gives_the_lines_for_this_repository():
    (problem,) = check_urls({"Source": URLS["Source"]}, "https://example.org/team/cdk-sklearn")
    assert problem == (
        "pyproject.toml: [project.urls] lacks Changelog, Issues: add "
        'Changelog = "https://example.org/team/cdk-sklearn/blob/main/CHANGELOG.md"; '
        'Issues = "https://example.org/team/cdk-sklearn/issues"'
    )


def test_fails_when_source_is_another_repository():
    (problem,) = check_urls(URLS, "https://example.org/fork/cdk-sklearn")
    assert "Source is https://example.org/team/cdk-sklearn" in problem


def test_package_version_is_read_from_the_file_not_imported(tmp_path: Path):
    (tmp_path / "lambda_runtime").mkdir()
    (tmp_path / "lambda_runtime" / "__init__.py").write_text(
        '"""Doc."""\n\nimport not_installed\n__version__ = "9.8.7"\n'
    )
    assert package_version(tmp_path) == "9.8.7"
