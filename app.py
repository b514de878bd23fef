#!/usr/bin/env python3
"""The example CDK app: one stack per environment defined in cdk.json.

``cdk synth -c env=prod`` (or ``python app.py`` with the same context through ``CDK_CONTEXT_JSON``)
synthesizes the selected environment; the default is ``dev``. ``cdk`` runs this file through
``python -m cdk_sklearn.launcher app.py`` (cdk.json), which chooses jsii's Node before the first import
below: ``aws_cdk`` may come first.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from cdk_sklearn.config import ConfigError, load_environment
from cdk_sklearn.stack import SklearnEndpointStack

PROJECT_DIR = Path(__file__).resolve().parent


def _cdk_json_context() -> dict[str, Any]:
    # The CDK CLI passes cdk.json context itself; reading it here too lets `python app.py`
    # and tests see the same defaults. CLI values (-c env=prod) still win: App reads them last.
    cdk_json = PROJECT_DIR / "cdk.json"
    context: dict[str, Any] = json.loads(cdk_json.read_text()).get("context", {})
    return context


def build_app(context: Mapping[str, Any] | None = None) -> cdk.App:
    """Build the app for the environment selected in ``context``.

    Parameters
    ----------
    context
        CDK context, merged over cdk.json's as ``cdk synth -c KEY=VALUE`` does: ``build_app({"env":
        "prod"})`` selects prod with cdk.json's environments. None uses cdk.json's (and the CLI's, when
        run by ``cdk``).

    Returns
    -------
    aws_cdk.App
        The app with one stack; call ``.synth()`` to write the cloud assembly.

    Raises
    ------
    ConfigError
        When the environment or one of its settings is invalid.
    """
    app = cdk.App(context={**_cdk_json_context(), **(context or {})})
    selected = {key: app.node.try_get_context(key) for key in ("environments", "env")}
    config = load_environment({key: value for key, value in selected.items() if value is not None})
    SklearnEndpointStack(app, config)
    return app


def main() -> int:
    try:
        app = build_app()
        app.synth()
    except (ConfigError, ValueError) as exc:
        # cdk-sklearn's errors (configuration, props, model, layer) are one line that says how to fix them.
        print(f"cdk-sklearn: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
