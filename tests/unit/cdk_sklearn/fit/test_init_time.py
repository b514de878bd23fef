"""The INIT estimate and Lambda's INIT rules (a warning, never a refusal)."""

from __future__ import annotations

from dataclasses import replace

import joblib
import pytest
from sklearn.linear_model import LogisticRegression

from cdk_sklearn.fit.init_time import estimate_init, init_warning
from cdk_sklearn.model.artifact import inspect_model

GB = 1024**3


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("m") / "small.joblib"
    joblib.dump(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), path)
    return inspect_model(path)


def test_cpu_bound_parts_scale_with_the_cpu_share(small) -> None:
    full = estimate_init(small, "sklearn", 1769)
    half = estimate_init(small, "sklearn", 1769 // 2)
    assert full.cpu_share == 1.0
    assert half.imports_seconds == pytest.approx(full.imports_seconds * 1769 / (1769 // 2))
    assert half.download_seconds == full.download_seconds


def test_small_model_fits_on_demand(small) -> None:
    estimate = estimate_init(small, "sklearn", 1024)
    assert init_warning(estimate, strategy="none", timeout_seconds=30, memory_size=1024) is None


def test_large_model_on_demand_is_told_the_fixes(small) -> None:
    large = replace(small, size_bytes=2 * GB, data_bytes=2 * GB)
    warning = init_warning(
        estimate_init(large, "sklearn", 4096), strategy="none", timeout_seconds=30, memory_size=4096
    )
    assert warning is not None
    assert all(
        fix in warning for fix in ("SnapStart", "provisioned concurrency", "ONNX engine", "more memory")
    )


def test_provisioned_concurrency_allows_the_larger_of_130_s_and_the_timeout(small) -> None:
    large = replace(small, size_bytes=2 * GB, data_bytes=2 * GB)
    estimate = estimate_init(large, "sklearn", 4096)
    assert 10 < estimate.total_seconds < 130
    assert init_warning(estimate, strategy="provisioned", timeout_seconds=30, memory_size=4096) is None
    huge = estimate_init(replace(small, size_bytes=20 * GB, data_bytes=20 * GB), "sklearn", 4096)
    assert init_warning(huge, strategy="snapstart", timeout_seconds=30, memory_size=4096) is not None
    assert init_warning(huge, strategy="provisioned", timeout_seconds=900, memory_size=4096) is None or (
        huge.total_seconds > 900
    )


def test_managed_instances_allow_the_larger_of_130_s_and_the_timeout(small) -> None:
    large = replace(small, size_bytes=2 * GB, data_bytes=2 * GB)
    estimate = estimate_init(large, "sklearn", 4096)
    assert 10 < estimate.total_seconds < 130
    assert init_warning(estimate, strategy="none", timeout_seconds=30, memory_size=4096) is not None
    assert init_warning(estimate, strategy="managed_instances", timeout_seconds=30, memory_size=4096) is None
