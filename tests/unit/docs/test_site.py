"""mkdocs.yml: every nav entry is a page the site has, and the build stays offline."""

from __future__ import annotations

import yaml

from docs.reference import PAGES
from tests.conftest import PROJECT_DIR
from tests.unit.test_readme import nav_files

CONFIG = yaml.safe_load((PROJECT_DIR / "mkdocs.yml").read_text())


def test_every_nav_page_exists_or_is_generated():
    missing = [
        path
        for path in nav_files(CONFIG["nav"])
        if not (PROJECT_DIR / "docs" / path).exists() and path not in PAGES
    ]
    assert missing == []


def test_every_generated_page_is_in_the_nav():
    assert set(PAGES) <= set(nav_files(CONFIG["nav"]))


def test_the_theme_loads_no_web_fonts():
    assert CONFIG["theme"]["font"] is False
