"""The plan: three environments from cdk.json, run-suffixed names, every front door, a sourced cost."""

from __future__ import annotations

import json

import pytest

from cdk_sklearn.cost.prices import price
from devtools.awsproof import plan as plan_module
from devtools.awsproof.plan import (
    ENVIRONMENTS,
    build_plan,
    check_run_id,
    format_plan,
    new_run_id,
    read_environments,
)
from lambda_runtime.contract import ROUTES
from tests.conftest import PROJECT_DIR
from tests.unit.devtools.awsproof.fakes import ACCOUNT, REGION, START

RUN = "ap2611300945c0de"


@pytest.fixture(scope="module")
def plan():
    return build_plan(RUN, REGION, ACCOUNT, read_environments(PROJECT_DIR / "cdk.json"))


def test_plan_has_dev_staging_and_prod(plan):
    assert [env.name for env in plan.environments] == ["dev", "staging", "prod"]


def test_stack_names_carry_the_run_id(plan):
    assert [env.stack_name for env in plan.environments] == [f"SklearnProof-{e}-{RUN}" for e in ENVIRONMENTS]


def test_model_names_are_unique_across_environments(plan):
    names = [model.model_name for env in plan.environments for model in env.models]
    assert len(set(names)) == len(names)


def test_front_doors_cover_every_kind(plan):
    doors = {model.front_door for env in plan.environments for model in env.models}
    assert doors == {"http_api", "rest_api", "function_url"}


def test_every_front_door_uses_iam_auth(plan):
    assert {model.auth for env in plan.environments for model in env.models} == {"iam"}


def test_cold_start_strategies_follow_cdk_json(plan):
    assert [env.cold_start for env in plan.environments] == ["none", "snapstart", "provisioned"]


def test_provisioned_upper_bound_is_the_highest_scheduled_minimum(plan):
    prod = plan.rollback_environment
    assert (prod.provisioned_min, prod.provisioned_upper) == (2, 4)


def test_cost_total_is_the_sum_of_its_lines(plan):
    assert plan.cost.total_usd == pytest.approx(sum(line.usd for line in plan.cost.lines))


def test_provisioned_cost_uses_the_price_table(plan):
    line = next(line for line in plan.cost.lines if "provisioned" in line.what)
    seconds = plan.cost.hours * 3600
    expected = (
        4 * 1.0 * (2 * seconds + plan_module.STEP_MINUTES["rollback"] * 60) * price("lambda.pc.held.arm64")
    )
    assert line.usd == pytest.approx(expected)


def test_run_id_is_prefixed_minute_and_token():
    assert new_run_id(START, "c0de") == "ap2611300945c0de"


def test_fails_on_a_run_id_that_cannot_name_a_stack():
    with pytest.raises(ValueError, match="run id 'Run_1' is invalid"):
        check_run_id("Run_1")


def test_fails_when_cdk_json_lacks_an_environment(tmp_path):
    cdk_json = tmp_path / "cdk.json"
    cdk_json.write_text(json.dumps({"context": {"environments": {"dev": {}, "prod": {}}}}))
    with pytest.raises(ValueError, match="environments staging are missing"):
        read_environments(cdk_json)


def test_formatted_plan_lists_every_route(plan):
    text = format_plan(plan)
    assert all(f"{verb} {route.path}" in text for route in ROUTES for verb in route.verbs)


def test_formatted_plan_shows_the_estimate(plan):
    assert f"estimated cost: about ${plan.cost.total_usd:.2f}" in format_plan(plan)
