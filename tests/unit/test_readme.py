"""README.md is the assembly of docs/readme/ and shows the two quickstart commands."""

from __future__ import annotations

import re

from docs.build_readme import ORDER, build
from tests.conftest import PROJECT_DIR


def test_readme_is_up_to_date():
    assert (PROJECT_DIR / "README.md").read_text() == build(), "run `make readme` after editing docs/readme/"


def test_every_section_is_assembled():
    present = {p.name for p in (PROJECT_DIR / "docs" / "readme").glob("*.md")}
    assert present <= set(ORDER), f"add {sorted(present - set(ORDER))} to docs/build_readme.ORDER"


def test_quickstart_commands():
    text = (PROJECT_DIR / "README.md").read_text()
    assert "make demo" in text and "make test" in text


def test_local_links_resolve():
    text = (PROJECT_DIR / "README.md").read_text()
    for target in re.findall(r"\]\(((?!https?://|#)[^)\s]+)\)", text):
        assert (PROJECT_DIR / target.split("#")[0]).exists(), target


def test_anchor_links_resolve():
    text = (PROJECT_DIR / "README.md").read_text()
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in text.splitlines()
        if line.startswith("#")
    }
    for anchor in re.findall(r"\]\(#([^)]+)\)", text):
        assert anchor in headings, anchor


def test_configuration_reference_lists_every_prop():
    from cdk_sklearn.endpoint_props import SETTINGS

    text = (PROJECT_DIR / "docs" / "readme" / "10-usage.md").read_text()
    missing = [name for name in SETTINGS if f"`{name}`" not in text]
    assert not missing, f"document {missing} in the configuration reference"


def test_readme_route_table_is_the_contracts():
    import re

    from lambda_runtime.contract import ROUTES

    text = (PROJECT_DIR / "docs" / "readme" / "runtime.md").read_text()
    table = text.split("### Routes", 1)[1].split("\n\n", 2)[1]
    documented = set()
    for verb, paths in re.findall(r"^\| (GET|POST) \| (.+?) \|", table, re.M):
        documented |= {(verb, path) for path in re.findall(r"`([^`]+)`", paths)}
    assert documented == {(verb, route.path) for route in ROUTES for verb in route.verbs}
