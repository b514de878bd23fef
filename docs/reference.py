"""The reference pages of the documentation site, generated from the code at build time.

Nothing here is a copy: the props tables come from the settings ``TypedDict`` types (the names and types the
constructs accept) and the numpy docstrings of the constructs that document them; the cdk.json reference
from the keys the loader accepts (``cdk_sklearn.config``) and the sections' ``config_keys``; the CLI
reference from the argparse parser ``cdk-sklearn`` runs; routes, environment variables and limits from
``lambda_runtime.contract`` and ``lambda_runtime.limits``. ``docs/hooks.py`` adds these pages to the site
(they are never written into the repository); :data:`PAGES` maps each page's path to its builder.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HELP_COLUMNS = "88"  # argparse wraps help to the terminal: a fixed width keeps the page stable
_ROLE = re.compile(r":(?:class|func|meth|data|mod|attr|obj):`~?([^`]+)`")


class UndocumentedError(ValueError):
    """A setting the code accepts has no description in the docstring that should document it."""


# -- docstrings ---------------------------------------------------------------------------------------


def markdown_of(text: str) -> str:
    """Return reST-flavoured docstring prose as one line of Markdown (roles and ````x```` become code)."""
    text = _ROLE.sub(lambda m: f"`{m.group(1).rsplit('.', 1)[-1]}`", text)
    text = text.replace("``", "`")
    return " ".join(text.split())


def docstring_section(doc: str | None, title: str) -> dict[str, str]:
    """Return ``{name: description}`` of one numpy section (``Parameters``, ``Attributes``) of ``doc``.

    A line at the section's indentation names one or more entries (``min, max`` or ``name : type``;
    a line ending in ``,`` continues on the next); the more-indented lines below it describe them.
    """
    lines = inspect.cleandoc(doc or "").splitlines()
    try:
        start = next(i for i, line in enumerate(lines[:-1]) if line == title and set(lines[i + 1]) == {"-"})
    except StopIteration:
        return {}
    entries: dict[str, str] = {}
    names: list[str] = []
    description: list[str] = []
    pending = ""
    for line in lines[start + 2 :]:
        if not line.strip():
            continue
        if line.startswith(" "):
            description.append(line.strip())
            continue
        if set(line.strip()) == {"-"}:  # the underline of the next section: its title was taken as a name
            names = []
            break
        for name in names:
            entries[name] = markdown_of(" ".join(description))
        header = pending + line.split(" : ", 1)[0].strip()
        pending = header if header.endswith(",") else ""
        names = [] if pending else [n.strip() for n in header.split(",") if n.strip()]
        description = []
    for name in names:
        entries[name] = markdown_of(" ".join(description))
    return entries


def cell(text: str) -> str:
    """Return ``text`` safe inside a Markdown table cell: ``|`` escaped outside code spans (inside them
    the tables extension leaves it alone, and an escape would show)."""
    spans = text.replace("\n", " ").split("`")
    return "`".join(span if i % 2 else span.replace("|", "\\|") for i, span in enumerate(spans))


def annotation_text(annotation: object) -> str:
    """Return a settings annotation as written in the source, without ``Required[...]``."""
    # Modules with ``from __future__ import annotations`` give strings (a TypedDict wraps them in ForwardRef).
    text = getattr(annotation, "__forward_arg__", annotation)
    if not isinstance(text, str):
        text = getattr(annotation, "__name__", repr(annotation))
    match = re.fullmatch(r"Required\[(.*)\]", text)
    return match.group(1) if match else text


def settings_rows(settings: Any, documented_on: type, owner: str) -> Iterator[tuple[str, str, bool, str]]:
    """Yield ``(name, type, required, description)`` for every key of the settings ``TypedDict``.

    Raises
    ------
    UndocumentedError
        A key without an entry in ``documented_on``'s ``Parameters`` section.
    """
    described = docstring_section(documented_on.__doc__, "Parameters")
    missing = [name for name in settings.__annotations__ if not described.get(name)]
    if missing:
        raise UndocumentedError(
            f"{owner}: document {', '.join(missing)} under Parameters in the docstring of "
            f"{documented_on.__module__}.{documented_on.__qualname__}"
        )
    for name, annotation in settings.__annotations__.items():
        text = annotation_text(annotation)
        yield (
            name,
            text,
            str(getattr(annotation, "__forward_arg__", annotation)).startswith("Required["),
            described[name],
        )


def settings_table(settings: Any, documented_on: type, owner: str) -> str:
    """Return the Markdown table of a construct's keyword props."""
    rows = ["| prop | type | description |", "|---|---|---|"]
    for name, text, required, description in settings_rows(settings, documented_on, owner):
        label = f"`{name}` (required)" if required else f"`{name}`"
        rows.append(f"| {label} | `{text}` | {cell(description)} |")
    return "\n".join(rows) + "\n"


def field_default(props: type, name: str) -> str:
    """Return a dataclass field's default as code, or ``required``."""
    field = next(f for f in dataclasses.fields(props) if f.name == name)
    if field.default is not dataclasses.MISSING:
        return f"`{json.dumps(field.default) if field.default is not None else 'none'}`"
    if field.default_factory is not dataclasses.MISSING:
        return f"`{json.dumps(field.default_factory())}`"
    return "required"


def section_table(props: Any) -> str:
    """Return the Markdown table of a cdk.json section: its keys, types, defaults and descriptions."""
    described = docstring_section(props.__doc__, "Parameters")
    missing = [key for key in props.config_keys if not described.get(key)]
    if missing:
        raise UndocumentedError(f"{props.__qualname__}: document {', '.join(missing)} under Parameters")
    types = {f.name: f.type for f in dataclasses.fields(props)}
    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    for key in props.config_keys:
        default = field_default(props, key).replace("`[]`", "`[]` (none)")
        rows.append(
            f"| `{key}` | `{annotation_text(types[key])}` | {cell(default)} | {cell(described[key])} |"
        )
    return "\n".join(rows) + "\n"


# -- module constants -----------------------------------------------------------------------------------


def constant_docs(module: ModuleType) -> dict[str, str]:
    """Return ``{NAME: docstring}`` of the module-level constants documented by a string below them."""
    tree = ast.parse(Path(str(module.__file__)).read_text())
    docs: dict[str, str] = {}
    for node, following in zip(tree.body, tree.body[1:], strict=False):
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        is_doc = isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
        if isinstance(target, ast.Name) and is_doc:
            docs[target.id] = markdown_of(str(following.value.value))  # type: ignore[attr-defined]
    return docs


def shown(value: object) -> str:
    """Return a constant's value as code (mappings as their keys: the values are internal names)."""
    if isinstance(value, Mapping):
        value = tuple(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1024 * 1024 and value % 1024 == 0:
        return f"`{value}` ({value / (1024 * 1024):g} MiB)"
    return f"`{json.dumps(value) if isinstance(value, tuple | list | str) else repr(value)}`"


# -- the pages --------------------------------------------------------------------------------------------


def _mkdocstrings(identifier: str) -> str:
    return f"::: {identifier}\n    options:\n      show_root_heading: true\n      heading_level: 3\n"


def endpoint_page() -> str:
    """The endpoint's props: ``EndpointSettings`` documented by ``SklearnLambdaEndpoint``."""
    from cdk_sklearn.endpoint import SklearnLambdaEndpoint
    from cdk_sklearn.endpoint_props import EndpointSettings

    return "\n".join(
        [
            "# SklearnLambdaEndpoint",
            "",
            "Generated from `EndpointSettings` (the keyword props and cdk.json keys) and the construct's "
            "docstring. Every prop is keyword-only and validated before anything is created; a bad value "
            "raises `ValueError: SklearnLambdaEndpoint: <prop>=<value> is invalid; allowed: ...`. A part "
            "(`layer`, `front_door`, `monitoring`, `rollout`, `cold_start`) may be given flat or as one "
            "section: see [Sections](sections.md).",
            "",
            "## Props",
            "",
            settings_table(EndpointSettings, SklearnLambdaEndpoint, "SklearnLambdaEndpoint"),
            "## API",
            "",
            _mkdocstrings("cdk_sklearn.endpoint.SklearnLambdaEndpoint"),
            _mkdocstrings("cdk_sklearn.endpoint_props.EndpointProps"),
        ]
    )


def batch_page() -> str:
    """The batch construct's props: ``BatchSettings`` documented by ``SklearnBatchScoring``."""
    from cdk_sklearn.batch.props import BatchSettings
    from cdk_sklearn.batch.scoring import SklearnBatchScoring

    return "\n".join(
        [
            "# SklearnBatchScoring",
            "",
            "Generated from `BatchSettings` and the construct's docstring; the guide is "
            "[Batch scoring](../readme/batch.md).",
            "",
            "## Props",
            "",
            settings_table(BatchSettings, SklearnBatchScoring, "SklearnBatchScoring"),
            "## API",
            "",
            _mkdocstrings("cdk_sklearn.batch.scoring.SklearnBatchScoring"),
        ]
    )


def section_types() -> list[Any]:
    """The props types of the endpoint's parts, each readable from its cdk.json section."""
    from cdk_sklearn.cold_start import ColdStart
    from cdk_sklearn.front_door import FrontDoorProps
    from cdk_sklearn.layer import LayerProps
    from cdk_sklearn.managed_instances import ManagedInstancesProps
    from cdk_sklearn.monitoring import MonitoringProps
    from cdk_sklearn.rollout import RolloutProps

    return [ColdStart, FrontDoorProps, MonitoringProps, RolloutProps, LayerProps, ManagedInstancesProps]


def sections_page() -> str:
    """The section props: one table per part, from its ``config_keys`` and docstring."""
    from cdk_sklearn.cold_start import ScalingSchedule
    from cdk_sklearn.endpoint_props import FLAT_PART_SETTINGS

    parts = [
        "# Sections: the parts' props",
        "",
        "Each part of an endpoint has its own props type, validated once. In Python pass the type "
        '(`cold_start=ColdStart(strategy="snapstart")`) or its object; in cdk.json write the object '
        "under the section's key. The flat endpoint props on the right of each table are shorthands for "
        "the same fields (not both at once).",
        "",
    ]
    for props in section_types():
        qualified = f"{props.__module__}.{props.__qualname__}"
        flat = FLAT_PART_SETTINGS.get(props.config_section, {})
        shorthand = ", ".join(f"`{name}`" for name, key in flat.items() if name != key) or "none"
        parts += [
            f"## `{props.config_section}`: {props.__qualname__}",
            "",
            markdown_of((props.__doc__ or "").strip().split("\n\n", 1)[0]),
            f"Flat props under another name: {shorthand}.",
            "",
            section_table(props),
            _mkdocstrings(qualified),
        ]
    schedule = docstring_section(ScalingSchedule.__doc__, "Parameters")
    rows = ["| key | description |", "|---|---|"]
    rows += [f"| `{f.name}` | {cell(schedule[f.name])} |" for f in dataclasses.fields(ScalingSchedule)]
    parts += ["## `cold_start.schedules[]`: ScalingSchedule", "", "\n".join(rows), ""]
    return "\n".join(parts)


def cdk_json_page() -> str:
    """The keys of an environment in cdk.json, its nested sections, and this repository's cdk.json."""
    from cdk_sklearn.config import DEFAULT_ENVIRONMENT, STACK_KEYS, EnvironmentConfig
    from cdk_sklearn.endpoint_props import SETTINGS

    stack = docstring_section(EnvironmentConfig.__doc__, "Attributes")
    rows = ["| key | description |", "|---|---|"]
    undocumented = "accepted by the loader; not documented on `EnvironmentConfig`"
    rows += [f"| `{key}` | {cell(stack.get(key, undocumented))} |" for key in STACK_KEYS]
    sections = {props.config_section: props for props in section_types()}
    keys = ", ".join(
        f"[`{key}`](sections.md)" if key in sections else f"[`{key}`](endpoint.md)" for key in SETTINGS
    )
    section_rows = ["| section | keys |", "|---|---|"]
    for name, props in sections.items():
        section_rows.append(f"| `{name}` | {', '.join(f'`{k}`' for k in props.config_keys)} |")
    example = json.loads((ROOT / "cdk.json").read_text())["context"]["environments"]
    return "\n".join(
        [
            "# cdk.json",
            "",
            "`context.environments` holds one object per environment; `cdk synth -c env=NAME` selects one "
            f"(default `{DEFAULT_ENVIRONMENT}`). The loader (`cdk_sklearn.config.load_environment`) checks "
            "every key before any construct exists and stops synthesis with one line naming the allowed "
            "values. Paths are relative to the project root, where `cdk` runs.",
            "",
            "## Stack keys",
            "",
            "\n".join(rows),
            "",
            "## Endpoint keys",
            "",
            f"Every prop of the endpoint: {keys}.",
            "",
            "## Nested sections",
            "",
            "A part may be written as an object under its section key, or with its flat props, not both; an "
            "unknown key of a section fails naming it (`monitoring.latency_ms`).",
            "",
            "\n".join(section_rows),
            "",
            "## This repository's environments",
            "",
            "```json",
            json.dumps({"environments": example}, indent=2),
            "```",
            "",
        ]
    )


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _help_sections(parser: argparse.ArgumentParser, title: str, level: int) -> Iterator[str]:
    yield f"{'#' * level} `{title}`\n\n```text\n{parser.format_help().rstrip()}\n```\n"
    for name, sub in _subcommands(parser).items():
        yield from _help_sections(sub, f"{title} {name}", min(level + 1, 4))


def cli_page() -> str:
    """Every sub-command's ``--help``, from the parser ``cdk-sklearn`` builds."""
    from cdk_sklearn.cli.main import build_parser

    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_COLUMNS
    try:
        parser = build_parser()
        sections = list(_help_sections(parser, "cdk-sklearn", 2))
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous
    intro = (
        "# The `cdk-sklearn` command\n\nGenerated from the argparse parser the command runs "
        "(`cdk_sklearn.cli.main.build_parser`): what follows is its `--help`, for every sub-command.\n"
    )
    return "\n".join([intro, *sections])


def contract_page() -> str:
    """Routes, environment variables and limits: the contract between the construct and the function."""
    from cdk_sklearn.model_function.props import PROP_FOR_ENVIRONMENT
    from lambda_runtime import contract, limits

    routes = ["| verb | path | name |", "|---|---|---|"]
    routes += [f"| {verb} | `{r.path}` | `{r.name}` |" for r in contract.ROUTES for verb in r.verbs]
    docs = constant_docs(contract)
    env = ["| variable | set by | description |", "|---|---|---|"]
    for name in sorted(n for n in vars(contract) if n.startswith("ENV_")):
        variable = getattr(contract, name)
        setter = (
            f"the construct (prop: {PROP_FOR_ENVIRONMENT[variable]})"
            if (variable in PROP_FOR_ENVIRONMENT)
            else "the construct"
            if variable in contract.CONSTRUCT_ENVIRONMENT
            else "you (`environment=`)"
        )
        env.append(f"| `{variable}` | {cell(setter)} | {cell(docs.get(name, ''))} |")
    return "\n".join(
        [
            "# Routes, environment and limits",
            "",
            "Generated from `lambda_runtime/contract.py` (the one home of what the construct and the "
            "function share) and `lambda_runtime/limits.py` (Lambda's limits and the defaults). On an API "
            f"shared by several models each route sits under `{contract.SHARED_API_PREFIX}/<model_name>`.",
            "",
            "## Routes",
            "",
            "\n".join(routes),
            "",
            "## Environment variables",
            "",
            "\n".join(env),
            "",
            "## Request bounds",
            "",
            constants_table(contract, ("SYNC_PAYLOAD_LIMIT_BYTES", "DEFAULT_MAX_BODY_BYTES", "MAX_")),
            "## Lambda limits and defaults",
            "",
            constants_table(limits, ("",)),
            "## Metrics",
            "",
            "Namespace `"
            + contract.DEFAULT_METRICS_NAMESPACE
            + "` (prop `metrics_namespace`), dimension `"
            + contract.METRIC_DIMENSION
            + "`: "
            + ", ".join(f"`{name}` ({unit})" for name, unit in contract.METRIC_UNITS.items())
            + ".",
            "",
        ]
    )


def constants_table(module: ModuleType, prefixes: Sequence[str]) -> str:
    """Return the table of a module's public constants whose names start with one of ``prefixes``."""
    docs = constant_docs(module)
    rows = ["| name | value | description |", "|---|---|---|"]
    for name, value in vars(module).items():
        if name.isupper() and not name.startswith("_") and name.startswith(tuple(prefixes)):
            rows.append(f"| `{name}` | {shown(value)} | {cell(docs.get(name, ''))} |")
    return "\n".join(rows) + "\n"


def examples_page() -> str:
    """The apps of examples/: each folder's README and its ``app.py`` (and any other module it ships)."""
    parts = [
        "# Examples",
        "",
        "Small CDK apps in the repository's `examples/` folder; `tests/integration/test_examples.py` "
        "synthesizes each and checks that it builds what it says. Run one from its folder with `cdk synth` "
        "or `python app.py`.",
        "",
    ]
    for folder in sorted(p.parent for p in (ROOT / "examples").glob("*/app.py")):
        title, _, text = (folder / "README.md").read_text().partition("\n")
        parts += [f"#{title.strip()}", "", f"`examples/{folder.name}/`: {text.strip()}", ""]
        for source in sorted(folder.glob("*.py"), key=lambda p: p.name != "app.py"):
            parts += [f'```python title="{source.name}"', source.read_text().rstrip(), "```", ""]
    return "\n".join(parts)


PAGES: Mapping[str, Callable[[], str]] = {
    "examples.md": examples_page,
    "reference/endpoint.md": endpoint_page,
    "reference/batch.md": batch_page,
    "reference/sections.md": sections_page,
    "reference/cdk-json.md": cdk_json_page,
    "reference/cli.md": cli_page,
    "reference/contract.md": contract_page,
}
"""Each generated page (its path in the site) and the function that writes it."""
