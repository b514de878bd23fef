"""Budget: sizes per package and the Lambda unzipped limit."""

from __future__ import annotations

import pytest

from cdk_sklearn.packaging.budget import (
    LAMBDA_UNZIPPED_LIMIT,
    Budget,
    BudgetExceededError,
    directory_size,
    package_sizes,
)


def test_package_sizes_group_libs_and_dist_info_under_import_name(tmp_path):
    for relative, size in {
        "sklearn/base.py": 100,
        "scikit_learn.libs/libgomp.so": 50,
        "scikit_learn-1.9.1.dist-info/METADATA": 5,
        "numpy/__init__.py": 30,
        "numpy.libs/libopenblas.so": 70,
        "threadpoolctl.py": 7,
    }.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
    assert package_sizes(tmp_path) == {"sklearn": 155, "numpy": 100, "threadpoolctl": 7}
    assert directory_size(tmp_path) == 262


def test_render_shows_total_against_limit():
    text = Budget({"scipy": 100_000_000}, 100_000_000, 1_000_000).render("layer")
    assert "scipy" in text and "100.0 MB" in text
    assert "101.0 MB of 262.1 MB" in text


def test_within_limit_passes():
    Budget({}, LAMBDA_UNZIPPED_LIMIT - 10, 10).check()


def test_fails_over_limit_with_what_to_do():
    budget = Budget({"pandas": 70_000_000}, LAMBDA_UNZIPPED_LIMIT, 1)
    with pytest.raises(
        BudgetExceededError, match=r"over Lambda's 262,144,000-byte unzipped limit by 1 bytes"
    ):
        budget.check()
    with pytest.raises(
        BudgetExceededError, match=r"build the layer slim .*or serve this model from a container"
    ):
        budget.check()


def test_advises_removing_extra_requirements_only_when_there_are_some():
    budget = Budget({"xgboost": 400_000_000}, LAMBDA_UNZIPPED_LIMIT + 1)
    with pytest.raises(BudgetExceededError) as without_extras:
        budget.check()
    assert "extra_requirements" not in str(without_extras.value)
    with pytest.raises(BudgetExceededError, match=r"remove some of extra_requirements \(catboost\)"):
        budget.check(["catboost"])
