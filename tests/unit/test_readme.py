"""README.md is docs/index.md (the site's home page) for GitHub: short, current, and every link works."""

from __future__ import annotations

import re

import yaml

from docs.build_readme import build
from tests.conftest import PROJECT_DIR

README = PROJECT_DIR / "README.md"
MAX_LINES = 250


def nav_files(nav: object) -> list[str]:
    """The files named in an mkdocs nav, in order."""
    if isinstance(nav, list):
        return [path for item in nav for path in nav_files(item)]
    if isinstance(nav, dict):
        return [path for value in nav.values() for path in nav_files(value)]
    return [str(nav)]


def test_readme_is_up_to_date():
    assert README.read_text() == build(), "run `make readme` after editing docs/index.md or what it includes"


def test_readme_is_at_most_250_lines():
    assert len(README.read_text().splitlines()) <= MAX_LINES


def test_quickstart_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text


def test_readme_says_how_to_build_and_preview_the_site():
    text = README.read_text()
    assert "make docs" in text and "mkdocs serve" in text


def test_local_links_resolve():
    for target in re.findall(r"\]\(((?!https?://|#)[^)\s]+)\)", README.read_text()):
        assert (PROJECT_DIR / target.split("#")[0]).exists(), target


def test_anchor_links_resolve():
    text = README.read_text()
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in text.splitlines()
        if line.startswith("#")
    }
    for anchor in re.findall(r"\]\(#([^)]+)\)", text):
        assert anchor in headings, anchor


def test_readme_links_every_guide_of_the_site():
    nav = yaml.safe_load((PROJECT_DIR / "mkdocs.yml").read_text())["nav"]
    guides = [path for path in nav_files(nav) if path.startswith("readme/")]
    present = [path for path in guides if (PROJECT_DIR / "docs" / path).exists()]
    assert set(guides) <= set(present)
    linked = set(re.findall(r"\]\(docs/([^)#\s]+)", README.read_text()))
    assert not set(present) - linked, f"link {sorted(set(present) - linked)} from docs/index.md"


def test_install_line_names_the_wheel_of_this_version():
    import lambda_runtime

    wheels = set(re.findall(r"cdk_sklearn-([\w.]+)-py3-none-any\.whl", README.read_text()))
    assert wheels == {lambda_runtime.__version__}, "the install line's wheel must be this version's"
