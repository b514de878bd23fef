"""The fit check at synth: a memory size the model cannot load in fails, with the value to set."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from cdk_sklearn.batch import SklearnBatchScoring
from cdk_sklearn.endpoint import SklearnLambdaEndpoint
from cdk_sklearn.validation import PropsError
from tests.conftest import SKIP_BUNDLING


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(context=SKIP_BUNDLING), "Test")


def test_fails_on_128_mb_for_the_scikit_learn_engine(iris_model: Path) -> None:
    # numpy + SciPy + scikit-learn alone peak above 128 MB: such an endpoint could never answer.
    stack = _stack()
    with pytest.raises(
        PropsError, match=r"memory_size=128 is invalid; allowed: at least 192 .*Set memory_size=192"
    ):
        SklearnLambdaEndpoint(stack, "Iris", model_path=str(iris_model), memory_size=128)
    assert stack.node.try_find_child("Iris") is None


def test_the_demo_fits_the_default_memory(iris_model: Path) -> None:
    endpoint = SklearnLambdaEndpoint(_stack(), "Iris", model_path=str(iris_model))
    assert 123 < endpoint.memory_estimate_mb < 1024


def test_the_synth_line_gives_memory_and_init(iris_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    SklearnLambdaEndpoint(_stack(), "Iris", model_path=str(iris_model), memory_size=512)
    line = next(x for x in capsys.readouterr().err.splitlines() if "Test/Iris: engine" in x)
    assert "of 512 MB" in line and "INIT ~" in line


def test_batch_job_function_fails_the_same_way(iris_model: Path) -> None:
    stack = _stack()
    with pytest.raises(PropsError, match=r"SklearnBatchScoring: memory_size=128 is invalid"):
        SklearnBatchScoring(
            stack,
            "Batch",
            model_path=str(iris_model),
            memory_size=128,
            input_bucket=s3.Bucket.from_bucket_name(stack, "In", "input-data"),
            input_prefix="in/",
            output_prefix="out/",
        )


def test_fails_on_a_model_no_lambda_function_can_hold(iris_model: Path) -> None:
    from dataclasses import replace

    from cdk_sklearn.fit.check import check_fit
    from cdk_sklearn.model.artifact import inspect_model

    huge = replace(inspect_model(iris_model), size_bytes=6 * 1024**3, data_bytes=6 * 1024**3)
    with pytest.raises(PropsError, match=r"model_path=.* more than the 10240 MB .*engine='auto'"):
        check_fit(huge, "sklearn", memory_size=10240, timeout_seconds=30, strategy="none", owner="X")


def _model_of(iris_model: Path, gib: int):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from cdk_sklearn.model.artifact import inspect_model

    return replace(inspect_model(iris_model), size_bytes=gib * 1024**3, data_bytes=gib * 1024**3)


def test_a_model_too_big_on_demand_points_to_managed_instances(iris_model: Path) -> None:
    from cdk_sklearn.fit.check import check_fit

    with pytest.raises(
        PropsError,
        match=r"10240 MB .* on demand.*compute='managed_instances' \(functions of up to 32768 MB\)",
    ):
        check_fit(
            _model_of(iris_model, 6),
            "sklearn",
            memory_size=10240,
            timeout_seconds=30,
            strategy="none",
            owner="X",
        )


def test_a_model_too_big_on_demand_fits_a_function_on_managed_instances(iris_model: Path) -> None:
    from cdk_sklearn.fit.check import check_fit

    fit = check_fit(
        _model_of(iris_model, 6),
        "sklearn",
        memory_size=32768,
        timeout_seconds=30,
        strategy="managed_instances",
        owner="X",
    )
    assert 10240 < fit.memory.total_mb <= 32768


def test_fails_on_a_model_no_managed_instance_function_can_hold(iris_model: Path) -> None:
    from cdk_sklearn.fit.check import check_fit

    with pytest.raises(PropsError) as info:
        check_fit(
            _model_of(iris_model, 20),
            "sklearn",
            memory_size=32768,
            timeout_seconds=30,
            strategy="managed_instances",
            owner="X",
        )
    assert "more than the 32768 MB Lambda's largest function has on Lambda Managed Instances" in str(
        info.value
    )
    assert "compute='managed_instances' (" not in str(info.value)


def test_a_model_referencing_main_fails_before_any_construct(tmp_path: Path) -> None:
    import subprocess
    import sys

    # A class defined in a script pickles as __main__.<name>: it can never load on Lambda.
    script = tmp_path / "train.py"
    script.write_text(
        "import joblib\n"
        "from sklearn.base import BaseEstimator\n"
        "class Mine(BaseEstimator):\n"
        "    def predict(self, X):\n"
        "        return X\n"
        f"joblib.dump(Mine(), {str(tmp_path / 'main.joblib')!r})\n"
    )
    subprocess.run([sys.executable, str(script)], check=True)
    stack = _stack()
    with pytest.raises(ValueError, match="__main__"):
        SklearnLambdaEndpoint(stack, "Main", model_path=str(tmp_path / "main.joblib"))
    assert stack.node.try_find_child("Main") is None
