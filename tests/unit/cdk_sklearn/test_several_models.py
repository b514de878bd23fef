"""Several models in one stack: one shared HTTP API under /models/<name>/, one layer when pins agree."""

from __future__ import annotations

import aws_cdk as cdk
import joblib
import pytest
from aws_cdk.assertions import Template
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

from cdk_sklearn.endpoint import SklearnLambdaEndpoint
from cdk_sklearn.front_door import SharedHttpApi
from devtools.checks import nag_findings
from tests.conftest import SKIP_BUNDLING
from tests.helpers.routes import ROUTE_KEYS as ROUTES


@pytest.fixture(scope="module")
def forest_model(tmp_path_factory):
    features, target = load_iris(return_X_y=True)
    path = tmp_path_factory.mktemp("forest") / "forest.joblib"
    joblib.dump(RandomForestClassifier(n_estimators=3, random_state=0).fit(features, target), path)
    return path


@pytest.fixture(scope="module")
def two_models(iris_model, forest_model):
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "Models")
    api = SharedHttpApi(stack, "Api")
    iris = SklearnLambdaEndpoint(stack, "Iris", model_path=str(iris_model), model_name="iris", shared_api=api)
    forest = SklearnLambdaEndpoint(
        stack, "Forest", model_path=str(forest_model), model_name="forest", shared_api=api
    )
    return app, stack, api, iris, forest


def test_one_api_one_stage(two_models):
    _, stack, *_ = two_models
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::ApiGatewayV2::Api", 1)
    template.resource_count_is("AWS::ApiGatewayV2::Stage", 1)


def test_routes_under_models_name(two_models):
    _, stack, *_ = two_models
    keys = {
        r["Properties"]["RouteKey"]
        for r in Template.from_stack(stack).find_resources("AWS::ApiGatewayV2::Route").values()
    }
    expected = {f"{m} /models/{name}{p}" for name in ("iris", "forest") for m, p in ROUTES}
    assert keys == expected


def test_each_model_routes_to_its_own_alias(two_models):
    _, stack, _, iris, forest = two_models
    template = Template.from_stack(stack)
    aliases = {
        stack.get_logical_id(e.alias.node.default_child): name
        for e, name in ((iris, "iris"), (forest, "forest"))
    }
    integrations = template.find_resources("AWS::ApiGatewayV2::Integration")
    routes = template.find_resources("AWS::ApiGatewayV2::Route")
    for route in routes.values():
        integration_id = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        alias_ref = integrations[integration_id]["Properties"]["IntegrationUri"]["Ref"]
        assert f"/models/{aliases[alias_ref]}/" in route["Properties"]["RouteKey"]


def test_runtime_is_told_its_prefix(two_models):
    _, stack, *_ = two_models
    functions = Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()
    prefixes = sorted(f["Properties"]["Environment"]["Variables"]["ROUTE_PREFIX"] for f in functions)
    assert prefixes == ["/models/forest", "/models/iris"]


def test_layer_is_shared_when_pins_agree(two_models):
    _, stack, _, iris, forest = two_models
    assert iris.sklearn_layer is forest.sklearn_layer
    Template.from_stack(stack).resource_count_is("AWS::Lambda::LayerVersion", 1)


def test_layer_differs_when_pins_differ(iris_model):
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "S")
    a = SklearnLambdaEndpoint(stack, "A", model_path=str(iris_model))
    b = SklearnLambdaEndpoint(stack, "B", model_path=str(iris_model), extra_requirements=["lightgbm==4.6.0"])
    c = SklearnLambdaEndpoint(stack, "C", model_path=str(iris_model), architecture="x86_64")
    assert len({id(e.sklearn_layer) for e in (a, b, c)}) == 3


def test_urls_include_the_prefix(two_models):
    *_, iris, forest = two_models
    assert cdk.Token.is_unresolved(iris.url)
    assert iris.url != forest.url


def test_shared_api_is_nag_clean(two_models):
    app, *_ = two_models
    assert nag_findings(app) == []


def test_fails_on_duplicate_model_name(iris_model):
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "S")
    api = SharedHttpApi(stack, "Api")
    SklearnLambdaEndpoint(stack, "A", model_path=str(iris_model), model_name="iris", shared_api=api)
    with pytest.raises(ValueError, match="model_name='iris' is invalid; allowed: a name not yet used"):
        SklearnLambdaEndpoint(stack, "B", model_path=str(iris_model), model_name="iris", shared_api=api)


def test_fails_on_shared_api_with_other_front_door(iris_model):
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "S")
    api = SharedHttpApi(stack, "Api")
    with pytest.raises(
        ValueError, match="front_door='function_url' is invalid; allowed: not set with shared_api"
    ):
        SklearnLambdaEndpoint(
            stack, "A", model_path=str(iris_model), shared_api=api, front_door="function_url"
        )


def test_fails_on_shared_api_bad_auth():
    app = cdk.App()
    with pytest.raises(ValueError, match="auth='api_key' is invalid"):
        SharedHttpApi(cdk.Stack(app, "S"), "Api", auth="api_key")


def test_fails_on_duplicate_model_name_before_creating_anything(iris_model):
    app = cdk.App(context=SKIP_BUNDLING)
    stack = cdk.Stack(app, "S")
    api = SharedHttpApi(stack, "Api")
    SklearnLambdaEndpoint(stack, "A", model_path=str(iris_model), model_name="iris", shared_api=api)
    with pytest.raises(ValueError):
        SklearnLambdaEndpoint(stack, "B", model_path=str(iris_model), model_name="iris", shared_api=api)
    assert stack.node.try_find_child("B") is None


def test_one_alarm_topic_key_for_both_endpoints(two_models):
    _, stack, _, iris, forest = two_models
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::KMS::Key", 1)
    key = stack.get_logical_id(stack.node.find_child("AlarmTopicKey").node.default_child)
    topics = template.find_resources("AWS::SNS::Topic")
    assert sorted(topics) == sorted(
        stack.get_logical_id(e.monitoring.topic.node.default_child) for e in (iris, forest)
    )
    assert [t["Properties"]["KmsMasterKeyId"] for t in topics.values()] == [{"Fn::GetAtt": [key, "Arn"]}] * 2
