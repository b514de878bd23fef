"""A layer's spec and its key: what decides whether two layers share one lock entry."""

from __future__ import annotations

import re

import pytest

from cdk_sklearn.packaging.lock_entry import LayerSpec
from cdk_sklearn.packaging.target import LambdaTarget

ARM64 = LambdaTarget("python3.13", "arm64")
X86 = LambdaTarget("python3.12", "x86_64")
REQUIREMENTS = ["scikit-learn==1.9.1", "numpy>=2"]


def test_entry_key_names_engine_runtime_architecture():
    assert re.fullmatch(r"sklearn-py313-arm64-[0-9a-f]{8}", LayerSpec.of(REQUIREMENTS, ARM64).key)
    assert re.fullmatch(r"sklearn-py312-x86-64-[0-9a-f]{8}", LayerSpec.of(REQUIREMENTS, X86).key)


def test_entry_key_ignores_requirement_order_and_spacing():
    a = LayerSpec.of(["scikit-learn==1.9.1", "numpy>=2"], ARM64)
    b = LayerSpec.of(["numpy >= 2", "scikit-learn == 1.9.1"], ARM64)
    assert a == b and a.key == b.key
    assert LayerSpec.of(["scikit-learn==1.9.2", "numpy>=2"], ARM64).key != a.key


def test_fails_on_an_engine_without_a_layer_lock():
    with pytest.raises(ValueError, match="engine 'torch' has no layer lock"):
        LayerSpec.of(REQUIREMENTS, ARM64, engine="torch")


def test_fails_on_an_invalid_requirement():
    with pytest.raises(ValueError, match="is not a valid pip requirement"):
        LayerSpec.of(["scikit-learn >= = 1"], ARM64)
