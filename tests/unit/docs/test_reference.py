"""docs/reference.py: the reference pages are generated from the code, and cover all of it.

These replace the README checks that a hand-kept configuration table named every prop: the table is now
generated from the settings types, so what is checked is that every setting has a description in the
docstring that documents it (a setting added without one fails here and fails the strict site build).
"""

from __future__ import annotations

import re
from typing import TypedDict

import pytest

from cdk_sklearn.cli.main import COMMAND_MODULES
from cdk_sklearn.config import STACK_KEYS
from cdk_sklearn.endpoint_props import SETTINGS as ENDPOINT_SETTINGS
from docs.reference import (
    UndocumentedError,
    cdk_json_page,
    cell,
    cli_page,
    contract_page,
    docstring_section,
    endpoint_page,
    section_types,
    sections_page,
    settings_table,
)
from lambda_runtime import contract
from tests.conftest import PROJECT_DIR

DOCSTRING = """Something.

    Parameters
    ----------
    scope, id
        The parent and id.
    model_path : str
        The model file.
        Must exist.
    runtime, architecture,
    memory_size
        Three on two lines.

    Returns
    -------
    int
        Nothing to see.
    """


def table_names(page: str, heading: str) -> list[str]:
    """The first-column names of the table under ``heading``."""
    lines = page.split(heading, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return re.findall(r"^\| `([^`]+)`", "\n".join(lines[start:end]), re.M)


def test_docstring_section_reads_names_types_and_descriptions():
    assert docstring_section(DOCSTRING, "Parameters") == {
        "scope": "The parent and id.",
        "id": "The parent and id.",
        "model_path": "The model file. Must exist.",
        "runtime": "Three on two lines.",
        "architecture": "Three on two lines.",
        "memory_size": "Three on two lines.",
    }


def test_docstring_roles_become_code():
    doc = "Title.\n\nParameters\n----------\nx\n    A :class:`~cdk_sklearn.layer.LayerProps` or ``None``.\n"
    assert docstring_section(doc, "Parameters") == {"x": "A `LayerProps` or `None`."}


def test_cell_escapes_pipes_outside_code_only():
    assert cell("a | b `c | d`") == "a \\| b `c | d`"


def test_endpoint_reference_lists_every_setting_in_order():
    assert table_names(endpoint_page(), "## Props") == list(ENDPOINT_SETTINGS)


def test_endpoint_reference_marks_model_path_required():
    assert "| `model_path` (required) |" in endpoint_page()


def test_fails_on_a_setting_the_docstring_does_not_describe():
    class Settings(TypedDict, total=False):
        documented: int
        forgotten: str

    class Construct:
        """A construct.

        Parameters
        ----------
        documented
            Described.
        """

    with pytest.raises(UndocumentedError, match="document forgotten under Parameters"):
        settings_table(Settings, Construct, "Construct")


def test_every_section_lists_its_config_keys():
    page = sections_page()
    for props in section_types():
        heading = f"## `{props.config_section}`: {props.__qualname__}"
        assert table_names(page, heading) == list(props.config_keys)


def test_cdk_json_reference_names_every_stack_key_and_section():
    page = cdk_json_page()
    assert table_names(page, "## Stack keys") == list(STACK_KEYS)
    assert {f"`{props.config_section}`" for props in section_types()} <= set(re.findall(r"`\w+`", page))


def test_cli_reference_has_every_command_and_the_layer_subcommand():
    headings = re.findall(r"^#+ `(cdk-sklearn[^`]*)`", cli_page(), re.M)
    assert headings[0] == "cdk-sklearn"
    assert {f"cdk-sklearn {name}" for name in COMMAND_MODULES} <= set(headings)
    assert "cdk-sklearn layer build" in headings


def test_contract_reference_lists_every_route_and_variable():
    page = contract_page()
    routes = set(re.findall(r"^\| (GET|POST) \| `([^`]+)` \|", page, re.M))
    assert routes == {(verb, route.path) for route in contract.ROUTES for verb in route.verbs}
    variables = {getattr(contract, name) for name in vars(contract) if name.startswith("ENV_")}
    assert variables == set(table_names(page, "## Environment variables"))


def test_runtime_guide_route_table_is_the_contracts():
    # The guide's route table says what each route answers; its routes must be the contract's.
    text = (PROJECT_DIR / "docs" / "readme" / "runtime.md").read_text()
    table = text.split("### Routes", 1)[1].split("\n\n", 2)[1]
    documented = set()
    for verb, paths in re.findall(r"^\| (GET|POST) \| (.+?) \|", table, re.M):
        documented |= {(verb, path) for path in re.findall(r"`([^`]+)`", paths)}
    assert documented == {(verb, route.path) for route in contract.ROUTES for verb in route.verbs}
