"""The package's public names: each resolves to its defining module, and none starts jsii until used."""

from __future__ import annotations

import subprocess
import sys

import cdk_sklearn


def test_managed_instances_props_are_exported_from_the_package() -> None:
    from cdk_sklearn.managed_instances import ManagedInstancesProps, ManagedInstancesSettings

    assert cdk_sklearn.ManagedInstancesProps is ManagedInstancesProps
    assert cdk_sklearn.ManagedInstancesSettings is ManagedInstancesSettings


def test_every_public_name_resolves() -> None:
    missing = [name for name in cdk_sklearn.__all__ if getattr(cdk_sklearn, name, None) is None]
    assert missing == []


def test_importing_the_package_starts_no_jsii() -> None:
    code = "import sys, cdk_sklearn; print('jsii' in sys.modules, 'aws_cdk' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
