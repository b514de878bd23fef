"""``mkdocs build --strict`` builds the documentation site (what ``make docs`` runs), with every page.

Strict mode turns every warning into a failure: a broken link or anchor, a nav entry without its page,
a setting without a description (the reference generator refuses it), a snippet that is not there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from docs.reference import PAGES
from tests.conftest import PROJECT_DIR
from tests.unit.test_readme import nav_files


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return out


def test_every_nav_page_is_built(site: Path):
    nav = yaml.safe_load((PROJECT_DIR / "mkdocs.yml").read_text())["nav"]
    for page in nav_files(nav):
        if (PROJECT_DIR / "docs" / page).exists() or page in PAGES:
            assert (site / page.replace(".md", ".html")).exists(), page


def test_the_reference_renders_the_api_from_the_docstrings(site: Path):
    html = (site / "reference" / "endpoint.html").read_text()
    assert "SklearnLambdaEndpoint" in html and 'class="doc doc-heading"' in html


def test_the_home_page_includes_the_tested_install_block(site: Path):
    text = re.sub(r"<[^>]+>", "", (site / "index.html").read_text())
    assert "python -m pip wheel --no-deps" in text
