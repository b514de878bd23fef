"""The layer as synth builds it for real models: what each model kind gets, and the 230 MB line.

Builds real layers (network to PyPI on a cold pip cache) with the trixie userland's CPython 3.13 as
the bytecode compiler, so it needs root like the boot tests; skipped with the reason elsewhere.
"""

from __future__ import annotations

import aws_cdk as cdk
import joblib
import pytest
from aws_cdk import aws_lambda as lambda_

from cdk_sklearn.layer import AUTO_SLIM_BYTES, SklearnLayer
from cdk_sklearn.model.artifact import inspect_model
from tests.helpers import models
from tests.support.userland import host_architecture, make_userland, missing_tools

pytestmark = [pytest.mark.slow, pytest.mark.root]


@pytest.fixture(scope="module")
def compiler():
    missing = missing_tools(host_architecture())
    if missing:
        pytest.skip(f"needs the userland's CPython 3.13 as bytecode compiler: {', '.join(missing)}")
    return str(make_userland(host_architecture()).host_python())


def _layer(model, path, compiler, architecture):
    joblib.dump(model, path)
    stack = cdk.Stack(cdk.App(), "Stack")
    return SklearnLayer(
        stack,
        "Layer",
        model=inspect_model(path),
        runtime=lambda_.Runtime.PYTHON_3_13,
        architecture=architecture,
        bytecode_python=compiler,
    )


def test_dataframe_pipeline_layer_on_arm64_holds_pandas_within_230_mb(tmp_path, compiler, capsys):
    layer = _layer(models.frame_pipeline(), tmp_path / "frame.joblib", compiler, lambda_.Architecture.ARM_64)
    assert layer.build is not None
    assert any(line.startswith("pandas==") for line in layer.build.lock)
    assert (layer.build.layer_dir / "python" / "pandas" / "__init__.pyc").is_file()
    assert layer.build.layer_bytes <= 230_000_000 == AUTO_SLIM_BYTES
    assert layer.slim and "shipping it slim" in capsys.readouterr().err


def test_xgboost_layer_holds_the_cpu_build_and_scikit_learn(tmp_path, compiler):
    import xgboost

    layer = _layer(models.xgb_classifier(), tmp_path / "xgb.joblib", compiler, lambda_.Architecture.ARM_64)
    assert layer.build is not None
    lock = set(layer.build.lock)
    assert f"xgboost-cpu=={xgboost.__version__}" in lock
    assert any(line.startswith("scikit-learn==") for line in lock)
    assert any(line.startswith("joblib==") for line in lock)
    assert not any(line.startswith(("nvidia-", "xgboost==")) for line in lock)
