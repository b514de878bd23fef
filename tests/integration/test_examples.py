"""The apps of examples/ synthesize, and each builds what its docstring and README say it builds.

Each example is loaded from its folder as ``cdk synth`` would run it (its folder first on ``sys.path``)
and its ``build_app`` synthesized with asset bundling off, as the unit tests synthesize; expected values
come from the contract (``lambda_runtime.contract``) and the example's own settings, never from the
construct under test. One example also runs as ``python app.py``, the command its cdk.json gives.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from cdk_sklearn.layer import ModelDependencyWarning
from lambda_runtime import contract
from tests.conftest import PROJECT_DIR, SKIP_BUNDLING

EXAMPLES = PROJECT_DIR / "examples"
NAMES = ("one_endpoint", "shared_api", "batch_on_endpoint", "onnx_engine", "code_paths")
CONTRACT_ROUTES = {f"{verb} {route.path}" for route in contract.ROUTES for verb in route.verbs}


def load(name: str) -> ModuleType:
    """Import examples/<name>/app.py as its own module, with its folder first on sys.path."""
    folder = EXAMPLES / name
    sys.path.insert(0, str(folder))
    try:
        spec = importlib.util.spec_from_file_location(f"example_{name}", folder / "app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(folder))


def synth(module: ModuleType) -> Template:
    """The template of the example's one stack, synthesized without bundling."""
    app: cdk.App = module.build_app(SKIP_BUNDLING)
    (stack,) = [child for child in app.node.children if isinstance(child, cdk.Stack)]
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def built(demo_model: Path) -> tuple[dict[str, Template], list[str]]:
    """Every example's template, and the dependency warnings their synths gave (the iris examples serve
    the repository's demo model)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        templates = {name: synth(load(name)) for name in NAMES}
    return templates, [str(w.message) for w in caught if issubclass(w.category, ModelDependencyWarning)]


@pytest.fixture(scope="module")
def templates(built: tuple[dict[str, Template], list[str]]) -> dict[str, Template]:
    return built[0]


def functions_with_handler(template: Template, handler: str) -> dict[str, Any]:
    return template.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": handler}})


def route_keys(template: Template) -> set[str]:
    return {r["Properties"]["RouteKey"] for r in template.find_resources("AWS::ApiGatewayV2::Route").values()}


def test_every_example_has_an_app_a_cdk_json_and_a_readme():
    folders = {path.name for path in EXAMPLES.iterdir() if (path / "app.py").exists()}
    assert folders == set(NAMES)
    for name in NAMES:
        assert json.loads((EXAMPLES / name / "cdk.json").read_text())["app"].endswith("app.py")
        assert (EXAMPLES / name / "README.md").read_text().strip()


def test_one_endpoint_serves_every_contract_route_from_one_function(templates):
    template = templates["one_endpoint"]
    assert len(functions_with_handler(template, "lambda_runtime.handler.handler")) == 1
    assert route_keys(template) == CONTRACT_ROUTES
    template.has_resource_properties("AWS::Lambda::Alias", {"Name": "live"})
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email"})


def test_shared_api_serves_both_models_under_their_names_from_one_api(templates):
    template = templates["shared_api"]
    template.resource_count_is("AWS::ApiGatewayV2::Api", 1)
    expected = {
        f"{verb} {contract.shared_route_prefix(name)}{route.path}"
        for name in ("iris", "forest")
        for route in contract.ROUTES
        for verb in route.verbs
    }
    assert route_keys(template) == expected
    functions = functions_with_handler(template, "lambda_runtime.handler.handler").values()
    names = {f["Properties"]["Environment"]["Variables"][contract.ENV_MODEL_NAME] for f in functions}
    assert names == {"iris", "forest"}


def test_batch_on_endpoint_runs_on_the_endpoints_alias_without_a_function_of_its_own(templates):
    template = templates["batch_on_endpoint"]
    template.resource_count_is("AWS::StepFunctions::StateMachine", 1)
    assert functions_with_handler(template, contract.BATCH_HANDLER) == {}
    (alias_id,) = template.find_resources("AWS::Lambda::Alias")
    (machine,) = template.find_resources("AWS::StepFunctions::StateMachine").values()
    assert alias_id in json.dumps(machine["Properties"]["DefinitionString"])
    template.has_resource_properties(
        "AWS::Events::Rule", {"EventPattern": Match.object_like({"detail-type": ["Object Created"]})}
    )


def test_onnx_engine_deploys_the_graph(templates):
    template = templates["onnx_engine"]
    (function,) = functions_with_handler(template, "lambda_runtime.handler.handler").values()
    assert (
        function["Properties"]["Environment"]["Variables"][contract.ENV_MODEL_FORMAT] == contract.ONNX_FORMAT
    )


def test_no_example_leaves_out_a_module_its_model_needs(built):
    assert built[1] == []


def test_code_paths_ships_the_module_the_model_names(templates):
    module = load("code_paths")
    app = module.build_app(SKIP_BUNDLING)
    endpoint = app.node.find_child("CodePaths").node.find_child("Ratios")
    assert endpoint.props.function.code_paths == (EXAMPLES / "code_paths" / "features.py",)


def test_fails_to_find_the_examples_own_module_without_code_paths(templates):
    from cdk_sklearn import SklearnLambdaEndpoint

    module = load("code_paths")
    stack = cdk.Stack(cdk.App(context=SKIP_BUNDLING), "Without")
    with pytest.warns(ModelDependencyWarning, match="features"):
        SklearnLambdaEndpoint(stack, "Ratios", model_path=module.train(), alarm_email="a@example.com")


def test_one_endpoint_runs_as_its_cdk_json_says(demo_model, tmp_path):
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path), "CDK_CONTEXT_JSON": json.dumps(SKIP_BUNDLING)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_DIR), env.get("PYTHONPATH")]))
    command = json.loads((EXAMPLES / "one_endpoint" / "cdk.json").read_text())["app"].split()
    result = subprocess.run(
        [sys.executable, *command[1:]],
        cwd=EXAMPLES / "one_endpoint",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "OneEndpoint.template.json").exists()
    assert "end-of-life" not in result.stderr
