"""Template checks for every environment: cdk-nag's AwsSolutions, NIST 800-53 R5, HIPAA Security and
PCI DSS 3.2.1 packs, and cfn-lint.

``python -m devtools.checks --app app:build_app`` builds the app once per environment in
cdk.json (asset bundling skipped: the checks read templates and the construct tree, not the
layer), runs every cdk-nag pack of :data:`NAG_PACKS` on the construct tree and cfn-lint on the
synthesized template, prints
every finding and exits 1 if there is any. ``make lint`` runs it.

Then once more for one environment (``--flags-env``, default ``prod``: the one with the most parts)
under the feature flags ``cdk init`` writes, those of the installed aws-cdk-lib that ``cdk-sklearn
new`` puts in a new project's cdk.json: they change templates, and users' apps run with them.

cdk-nag and cfn-lint are development dependencies; they are imported only here.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from cdk_sklearn.cli.new_sources import recommended_feature_flags

# W3005 flags a DependsOn that a GetAtt already implies. CDK itself writes those (a function
# depends on its role's default policy); the template is correct, and we cannot remove them
# without escape hatches on CDK internals.
CFN_LINT_IGNORED = ("W3005",)
SKIP_BUNDLING: dict[str, list[str]] = {"aws:cdk:bundling-stacks": []}

NAG_PACKS = ("AwsSolutionsChecks", "NIST80053R5Checks", "HIPAASecurityChecks", "PCIDSS321Checks")
"""The cdk-nag packs run on every environment (class names in ``cdk_nag``)."""

AppBuilder = Callable[[Mapping[str, Any] | None], cdk.App]


def nag_findings(app: cdk.App, packs: Sequence[str] = NAG_PACKS) -> list[str]:
    """Run the cdk-nag ``packs`` on ``app``; return one line per unacknowledged finding."""
    import cdk_nag

    findings: list[str] = []
    for pack in packs:
        report = getattr(cdk_nag, pack)().validate_scope(app)
        findings += [
            f"{violation.rule_name}: {resource.construct_path or resource.resource_logical_id}: "
            f"{violation.description}"
            for violation in report.violations
            for resource in violation.violating_resources
        ]
    return findings


def lint_findings(templates: Sequence[Path]) -> list[str]:
    """Run cfn-lint on ``templates``; return one line per error or warning."""
    if not templates:
        return []
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--format",
            "parseable",
            "--ignore-checks",
            *CFN_LINT_IGNORED,
            "--",
            *map(str, templates),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 2, 4, 6, 8, 10, 12, 14) or "Traceback" in result.stderr:
        raise RuntimeError(f"cfn-lint failed to run: {result.stderr.strip()}")
    return [line for line in result.stdout.splitlines() if line.strip()]


def check_environment(build_app: AppBuilder, context: Mapping[str, Any], env: str) -> list[str]:
    """Build ``env`` with ``build_app`` and return every cdk-nag and cfn-lint finding."""
    # Outside the CDK CLI, App writes its assembly to a fresh temporary folder.
    app = build_app({**context, **SKIP_BUNDLING, "env": env})
    findings = [f"cdk-nag {env}: {line}" for line in nag_findings(app)]
    assembly = app.synth()
    templates = [Path(assembly.directory) / stack.template_file for stack in assembly.stacks]
    return findings + [f"cfn-lint {env}: {line}" for line in lint_findings(templates)]


def main(argv: Sequence[str] | None = None) -> int:
    """Check every environment of cdk.json; print findings; exit 1 if any."""
    parser = argparse.ArgumentParser(prog="python -m devtools.checks", description=__doc__)
    parser.add_argument("--app", default="app:build_app", help="module:function building the cdk.App")
    parser.add_argument("--cdk-json", type=Path, default=Path("cdk.json"))
    parser.add_argument(
        "--flags-env",
        default="prod",
        help="the environment checked again under aws-cdk-lib's recommended feature flags ('' skips it)",
    )
    args = parser.parse_args(argv)
    module_name, _, func_name = args.app.partition(":")
    sys.path.insert(0, str(Path.cwd()))
    build_app: AppBuilder = getattr(importlib.import_module(module_name), func_name)
    context: dict[str, Any] = json.loads(args.cdk_json.read_text()).get("context", {})
    runs = [(env, env, context) for env in context.get("environments", {})]
    if args.flags_env:
        flagged = {**context, **recommended_feature_flags()}
        runs.append((f"{args.flags_env} (recommended feature flags)", args.flags_env, flagged))
    failed = False
    packs = ", ".join(name.removesuffix("Checks") for name in NAG_PACKS)
    for label, env, env_context in runs:
        findings = check_environment(build_app, env_context, env)
        failed |= bool(findings)
        status = "clean" if not findings else f"{len(findings)} finding(s)"
        print(f"{label}: cdk-nag {packs} + cfn-lint: {status}")
        for line in findings:
            print(f"  {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
