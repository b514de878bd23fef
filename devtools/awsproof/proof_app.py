"""The CDK app the proof deploys: ``cdk deploy --app "python -m devtools.awsproof.proof_app"``.

One stack per environment and run (``SklearnProof-<env>-<run id>``), configured by cdk.json's
``environments`` exactly as the example app is, with two endpoints (see
:mod:`devtools.awsproof.plan`): ``Iris`` and ``Frame``. Context: ``env``, ``aws_proof_run`` and
``aws_proof_model_<key>`` (each model file's path).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from cdk_sklearn.config import ConfigError, load_environment
from cdk_sklearn.endpoint import SklearnLambdaEndpoint
from devtools.awsproof.deploy import CONTEXT_MODEL, CONTEXT_RUN
from devtools.awsproof.plan import RUN_TAG, environment_plan, read_environments

PROJECT_DIR = Path(__file__).resolve().parents[2]


def build_proof_app(context: Mapping[str, Any], project_dir: Path = PROJECT_DIR) -> cdk.App:
    """Build the proof app for the environment and run named in ``context``.

    Parameters
    ----------
    context
        ``env``, ``aws_proof_run`` and ``aws_proof_model_<key>`` for each model of the environment;
        plus any CDK context (``aws:cdk:bundling-stacks`` in tests).
    project_dir
        Where cdk.json is.

    Raises
    ------
    ConfigError
        When a context value is missing or an environment's settings are invalid.
    """
    app = cdk.App(context=dict(context))
    name = app.node.try_get_context("env")
    run_id = app.node.try_get_context(CONTEXT_RUN)
    if not isinstance(name, str) or not isinstance(run_id, str):
        raise ConfigError(f"the proof app needs context env and {CONTEXT_RUN}")
    environments = read_environments(project_dir / "cdk.json")
    if name not in environments:
        raise ConfigError(f"unknown environment {name!r}; allowed: {', '.join(environments)}")
    plan = environment_plan(name, environments[name], run_id)
    stack = cdk.Stack(app, plan.stack_name, description=f"cdk-sklearn AWS proof {run_id}, environment {name}")
    for model in plan.models:
        path = app.node.try_get_context(CONTEXT_MODEL.format(key=model.key))
        if not isinstance(path, str):
            raise ConfigError(f"the proof app needs context {CONTEXT_MODEL.format(key=model.key)}")
        settings = {
            **environments[name],
            "model_path": path,
            "model_name": model.model_name,
            "front_door": model.front_door,
            "auth": model.auth,
        }
        config = load_environment({"environments": {name: settings}, "env": name})
        SklearnLambdaEndpoint(stack, model.construct_id, props=config.endpoint)
    cdk.Tags.of(stack).add(RUN_TAG, run_id)
    cdk.Tags.of(stack).add("cdk-sklearn:environment", name)
    return app


def main() -> int:
    try:
        app = build_proof_app({})
    except (ConfigError, ValueError) as exc:
        print(f"aws-proof app: {exc}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
