"""The function ``serve`` imitates: memory from --memory-mb, --env's cdk.json settings or the default;
the environment it sets; and what a model needs that the local Python lacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cdk_sklearn.cli.local_function import LocalFunction, local_function, missing_locally
from cdk_sklearn.model.artifact import inspect_model
from cdk_sklearn.packaging.install import LockedPackage
from cdk_sklearn.packaging.lock import LayerSpec, Lock, LockEntry
from cdk_sklearn.packaging.target import LambdaTarget
from tests.helpers import models

REPO = Path(__file__).resolve().parents[4]


def write_cdk_json(folder: Path, **prod: object) -> None:
    environments = {"dev": {"model_path": "m.joblib"}, "prod": {"model_path": "m.joblib", **prod}}
    (folder / "cdk.json").write_text(json.dumps({"context": {"environments": environments}}))


def test_without_flags_the_function_has_the_constructs_default_memory(tmp_path: Path) -> None:
    assert local_function(None, None, tmp_path) == LocalFunction(1024, "the construct's default")


def test_memory_mb_wins_over_the_cdk_json_environment(tmp_path: Path) -> None:
    write_cdk_json(tmp_path, memory_size=3008)
    assert local_function(2048, "prod", tmp_path).memory_mb == 2048


def test_env_reads_memory_environment_model_name_and_extras_from_cdk_json(tmp_path: Path) -> None:
    write_cdk_json(
        tmp_path,
        memory_size=3008,
        environment={"FEATURE_FLAG": "on"},
        model_name="churn",
        skops_trusted_types=["numpy.dtype"],
        layer={"extra_requirements": ["pandas>=2"]},
    )
    assert local_function(None, "prod", tmp_path) == LocalFunction(
        memory_mb=3008,
        source="cdk.json environment 'prod'",
        variables={"FEATURE_FLAG": "on"},
        model_name="churn",
        skops_trusted_types=("numpy.dtype",),
        extra_requirements=("pandas>=2",),
    )


def test_an_environment_without_memory_size_has_the_default(tmp_path: Path) -> None:
    write_cdk_json(tmp_path)
    function = local_function(None, "dev", tmp_path)
    assert (function.memory_mb, function.source) == (
        1024,
        "the construct's default (cdk.json environment 'dev' sets no memory_size)",
    )


def test_the_environment_is_the_functions_for_its_memory() -> None:
    function = LocalFunction(memory_mb=2048, skops_trusted_types=("a.B", "c.D"))
    assert function.environment() == {
        "OMP_NUM_THREADS": "2",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "2048",
        "SKOPS_TRUSTED_TYPES": "a.B,c.D",
    }


def test_the_cdk_json_environments_variables_win_as_on_lambda() -> None:
    function = LocalFunction(memory_mb=10240, variables={"OMP_NUM_THREADS": "1"})
    environ = {"MKL_NUM_THREADS": "8", "HOME": "/home/me"}
    line = function.apply(environ)
    assert environ == {
        "HOME": "/home/me",
        "OMP_NUM_THREADS": "1",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "10240",
    }
    assert line == (
        "threads: OMP_NUM_THREADS=1 (set by the cdk.json environment's environment, as on the function); "
        "your shell's MKL_NUM_THREADS=8 is not used"
    )


def test_fails_on_env_without_a_cdk_json(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=r"--env prod: there is no cdk.json in .*; run serve in the CDK app's"
    ):
        local_function(None, "prod", tmp_path)


def test_fails_on_an_unknown_env_naming_the_known_ones(tmp_path: Path) -> None:
    write_cdk_json(tmp_path)
    with pytest.raises(
        ValueError, match=r"no environment 'staging' under context.environments \(it has: dev, prod\)"
    ):
        local_function(None, "staging", tmp_path)


def test_fails_on_a_memory_size_outside_lambdas_range_in_cdk_json(tmp_path: Path) -> None:
    write_cdk_json(tmp_path, memory_size=20000)
    with pytest.raises(
        ValueError, match=r"cdk.json environment 'prod': memory_size must be an integer from 128"
    ):
        local_function(None, "prod", tmp_path)


def test_fails_on_memory_mb_outside_lambdas_range(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"--memory-mb must be between 128 and 10240"):
        local_function(100, None, tmp_path)


def test_nothing_is_missing_where_the_model_was_trained(tmp_path: Path) -> None:
    path = tmp_path / "m.joblib"
    models.save(models.column_transformer(), path)
    assert missing_locally(inspect_model(path)) is None


# --- a real virtualenv without pandas ------------------------------------------------------------

WITHOUT_PANDAS = ("numpy", "scipy", "scikit-learn", "joblib", "threadpoolctl", "packaging", "pyelftools")


@pytest.fixture(scope="module")
def venv_without_pandas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv (no system site-packages) with what serve imports, but not pandas."""
    folder = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    python = folder / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *WITHOUT_PANDAS],
        env={"PIP_CONSTRAINT": str(REPO / "constraints.txt"), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
    )
    assert subprocess.run([str(python), "-c", "import pandas"], capture_output=True).returncode != 0
    return python


def _serve_in(python: Path, folder: Path, model: Path) -> subprocess.CompletedProcess[str]:
    command = [str(python), "-m", "cdk_sklearn.cli", "serve", "--model", str(model), "--port", "0"]
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=120)


def _frame_model(folder: Path) -> Path:
    path = folder / "churn.joblib"
    models.save(models.column_transformer(), path)
    return path


@pytest.mark.slow
def test_fails_naming_pandas_and_the_install_command_here_not_the_layer(
    venv_without_pandas: Path, tmp_path: Path
) -> None:
    result = _serve_in(venv_without_pandas, tmp_path, _frame_model(tmp_path))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "cdk-sklearn serve: error: the model needs pandas at run time (the function's layer ships it), "
        f"which this Python environment ({venv_without_pandas.parent.parent}) does not have; install it "
        "here and run serve again:",
        f"  {venv_without_pandas} -m pip install 'pandas'",
    ]


@pytest.mark.slow
def test_the_install_command_pins_the_version_the_layer_lock_holds(
    venv_without_pandas: Path, tmp_path: Path
) -> None:
    import sklearn

    model = _frame_model(tmp_path)
    spec = LayerSpec.of(inspect_model(model).requirements, LambdaTarget("python3.13", "arm64"))
    packages = (
        LockedPackage("numpy", "2.4.6", "numpy-2.4.6-cp313-cp313-manylinux_2_28_aarch64.whl", "c" * 64),
        LockedPackage("pandas", "2.3.3", "pandas-2.3.3-cp313-cp313-manylinux_2_28_aarch64.whl", "a" * 64),
        LockedPackage(
            "scikit-learn",
            sklearn.__version__,
            f"scikit_learn-{sklearn.__version__}-cp313-cp313-manylinux_2_28_aarch64.whl",
            "b" * 64,
        ),
    )
    entry = LockEntry(spec, spec.target.platform_tags, packages)
    Lock(tmp_path / "pylock.cdk-sklearn.toml", {entry.key: entry}).write()
    result = _serve_in(venv_without_pandas, tmp_path, model)
    assert result.stderr.splitlines()[-1] == f"  {venv_without_pandas} -m pip install 'pandas==2.3.3'"


def test_an_environment_on_managed_instances_has_one_thread_as_its_function_does(tmp_path: Path) -> None:
    # The endpoint sets OMP_NUM_THREADS=1 on managed instances: one thread per worker process.
    write_cdk_json(tmp_path, compute="managed_instances", memory_size=4096)
    function = local_function(None, "prod", tmp_path)
    environ: dict[str, str] = {}
    line = function.apply(environ)
    assert environ == {"OMP_NUM_THREADS": "1", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "4096"}
    assert line == (
        "threads: OMP_NUM_THREADS=1 (the cdk.json environment's compute is managed_instances: one per "
        "worker process, like the function)"
    )
