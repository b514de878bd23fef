"""``cdk-sklearn new``: a ready CDK app, written without importing aws_cdk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from cdk_sklearn.cli import main
from cdk_sklearn.cli.main import UsageError
from cdk_sklearn.cli.new import local_requirements, scaffold, setup_block
from tests.conftest import PROJECT_DIR
from tests.helpers import models
from tests.helpers.wheels import make_wheel

WHEEL = f"cdk_sklearn-{metadata.version('cdk-sklearn')}-py3-none-any.whl"
FILES = {".gitignore", "README.md", "app.py", "cdk.json", "models", "package-lock.json", "package.json"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, iris_model: Path) -> Path:
    # Shared by the tests that only read it; a test that changes a project writes its own.
    folder = tmp_path_factory.mktemp("new") / "my-endpoint"
    assert main(["new", str(folder), "--model", str(iris_model)]) == 0
    return folder


@pytest.fixture
def frame_project(tmp_path: Path) -> Path:
    model = tmp_path / "churn.joblib"
    models.save(models.frame_pipeline(), model)
    scaffold(tmp_path / "churn", model)
    return tmp_path / "churn"


@pytest.fixture
def wheel_project(tmp_path: Path, iris_model: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # As pip records an install from a wheel file (PEP 610), for a real wheel in a temporary folder.
    wheel = make_wheel(tmp_path / "dist", "cdk_sklearn", metadata.version("cdk-sklearn"))
    record = {"url": wheel.as_uri(), "archive_info": {}}
    monkeypatch.setattr("cdk_sklearn.cli.new.direct_url", lambda: record)
    scaffold(tmp_path / "shared", iris_model)
    return tmp_path / "shared"


def test_writes_a_cdk_init_layout_with_the_model(project: Path) -> None:
    assert {p.name for p in project.iterdir()} == FILES | {"requirements.txt"}
    assert (project / "models" / "iris.joblib").is_file()


def test_cdk_json_runs_app_py_through_the_launcher(project: Path) -> None:
    assert json.loads((project / "cdk.json").read_text())["app"] == "python -m cdk_sklearn.launcher app.py"


def test_environments_mirror_the_repository_app(project: Path) -> None:
    ours = json.loads((PROJECT_DIR / "cdk.json").read_text())["context"]["environments"]
    theirs = json.loads((project / "cdk.json").read_text())["context"]["environments"]
    for settings in ours.values():
        settings["model_path"] = "models/iris.joblib"
    assert theirs == ours


def test_requirements_pin_the_running_aws_cdk_lib(project: Path) -> None:
    lines = (project / "requirements.txt").read_text().splitlines()
    assert f"aws-cdk-lib=={metadata.version('aws-cdk-lib')}" in lines
    assert any(line.startswith("cdk-sklearn") for line in lines)


def test_shipped_package_json_pins_only_the_repositorys_cdk_cli() -> None:
    # The repository's own package.json also pins development tools (asl-validator); a new app
    # needs the CDK CLI alone, at the version this repository is tested with.
    shipped = json.loads((PROJECT_DIR / "cdk_sklearn" / "templates" / "package.json").read_text())
    ours = json.loads((PROJECT_DIR / "package.json").read_text())
    assert shipped["devDependencies"] == {"aws-cdk": ours["devDependencies"]["aws-cdk"]}


def test_shipped_package_lock_locks_the_repositorys_cdk_cli() -> None:
    shipped = json.loads((PROJECT_DIR / "cdk_sklearn" / "templates" / "package-lock.json").read_text())
    ours = json.loads((PROJECT_DIR / "package-lock.json").read_text())
    assert shipped["packages"]["node_modules/aws-cdk"] == ours["packages"]["node_modules/aws-cdk"]


def test_package_lock_pins_the_cdk_cli_of_the_repository(project: Path) -> None:
    lock = json.loads((project / "package-lock.json").read_text())
    ours = json.loads((PROJECT_DIR / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/aws-cdk"] == ours["packages"]["node_modules/aws-cdk"]
    assert lock["name"] == lock["packages"][""]["name"] == "my-endpoint"


def test_readme_names_the_setup_and_deploy_commands(project: Path) -> None:
    text = (project / "README.md").read_text()
    assert setup_block(text).splitlines() == [
        "python -m pip install -r requirements.txt",
        "npm ci",
        "cdk-sklearn doctor",
    ]
    assert "npx cdk deploy -c env=dev" in text


@pytest.mark.parametrize(
    "command", ["cdk-sklearn serve", "cdk-sklearn convert", "cdk-sklearn batch", "cdk-sklearn cost"]
)
def test_readme_covers_the_local_loop(project: Path, command: str) -> None:
    assert f"{command} " in (project / "README.md").read_text()


def test_readme_shows_a_request_shaped_for_the_model(project: Path) -> None:
    # The iris model takes 4 numbers per row.
    assert (
        """-d '{"instances": [[0.0, 0.0, 0.0, 0.0]]}' localhost:8080/predict"""
        in (project / "README.md").read_text()
    )


def test_readme_says_how_to_add_an_environment(project: Path) -> None:
    assert "npx cdk deploy -c env=qa" in (project / "README.md").read_text()


def test_cdk_json_carries_aws_cdk_libs_recommended_flags(project: Path) -> None:
    context = json.loads((project / "cdk.json").read_text())["context"]
    assert context["@aws-cdk/core:checkSecretUsage"] is True
    assert context["@aws-cdk/core:target-partitions"] == ["aws", "aws-cn"]


def test_requirements_carry_the_models_run_time_needs(frame_project: Path) -> None:
    import sklearn

    lines = (frame_project / "requirements.txt").read_text().splitlines()
    assert f"scikit-learn=={sklearn.__version__}" in lines and "pandas" in lines


def test_requirements_of_an_array_model_leave_out_pandas(project: Path) -> None:
    assert "pandas" not in (project / "requirements.txt").read_text().splitlines()


def test_wheel_install_copies_the_wheel_into_wheels(wheel_project: Path) -> None:
    assert (wheel_project / "wheels" / WHEEL).is_file()


def test_wheel_install_requires_it_from_wheels_by_version(wheel_project: Path) -> None:
    lines = (wheel_project / "requirements.txt").read_text().splitlines()
    assert lines[1:3] == ["--find-links ./wheels", f"cdk-sklearn=={metadata.version('cdk-sklearn')}"]


def test_no_file_names_a_path_of_this_machine(wheel_project: Path, tmp_path: Path) -> None:
    machine = {str(PROJECT_DIR), sys.prefix, str(Path.home()), str(tmp_path), str(wheel_project)}
    for path in wheel_project.rglob("*"):
        if path.is_file() and path.suffix not in (".whl", ".joblib"):
            text = path.read_text()
            assert [m for m in machine if m in text] == [], path.name


def test_fails_on_a_file_that_is_not_a_model(tmp_path: Path) -> None:
    bad = tmp_path / "notes.joblib"
    bad.write_text("not a model")
    with pytest.raises(UsageError, match=r"--model .*notes\.joblib: "):
        scaffold(tmp_path / "p", bad)


def test_without_model_points_cdk_json_at_models_model_joblib(tmp_path: Path) -> None:
    scaffold(tmp_path / "p", None)
    environments = json.loads((tmp_path / "p" / "cdk.json").read_text())["context"]["environments"]
    assert {settings["model_path"] for settings in environments.values()} == {"models/model.joblib"}


def test_fails_on_a_non_empty_directory(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", str(project)]) == 2
    assert "is not empty (8 entries: .gitignore, README.md, app.py, cdk.json, models, ...)" in (
        capsys.readouterr().err
    )


def test_force_writes_into_a_non_empty_directory(tmp_path: Path, iris_model: Path) -> None:
    project = tmp_path / "edited"
    scaffold(project, iris_model)
    (project / "app.py").write_text("# edited\n")
    assert main(["new", str(project), "--force"]) == 0
    assert "load_environment" in (project / "app.py").read_text()


def test_fails_on_a_missing_model(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"--model .*missing\.joblib: no such file"):
        scaffold(tmp_path / "p", tmp_path / "missing.joblib")


def test_does_not_import_aws_cdk(tmp_path: Path) -> None:
    code = (
        "import sys; from cdk_sklearn.cli import main; main(['new', sys.argv[1]]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'jsii')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "p")],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines()[-1] == "[]"


def test_project_synthesizes_offline(project: Path, tmp_path: Path) -> None:
    # The library comes from this checkout (PYTHONPATH); bundling skipped: no layer build.
    env = dict(
        os.environ,
        PYTHONPATH=str(PROJECT_DIR),
        CDK_OUTDIR=str(tmp_path / "cdk.out"),
        CDK_CONTEXT_JSON=json.dumps({"env": "prod", "aws:cdk:bundling-stacks": []}),
    )
    shutil.rmtree(project / "cdk.out", ignore_errors=True)
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    template = json.loads((tmp_path / "cdk.out" / "SklearnEndpoint-prod.template.json").read_text())
    assert any(r["Type"] == "AWS::Lambda::Function" for r in template["Resources"].values())


def test_prints_the_readmes_setup_lines(
    tmp_path: Path, iris_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", str(tmp_path / "p"), "--model", str(iris_model)]) == 0
    out = capsys.readouterr().out
    assert "python -m pip install -r requirements.txt\nnpm ci\ncdk-sklearn doctor" in out


def test_folder_install_prints_how_to_build_the_wheel(
    tmp_path: Path, iris_model: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # As pip records an install from a checkout folder (PEP 610): there is no wheel to copy.
    monkeypatch.setattr("cdk_sklearn.cli.new.direct_url", lambda: {"url": tmp_path.as_uri(), "dir_info": {}})
    assert main(["new", str(tmp_path / "p"), "--model", str(iris_model)]) == 0
    err = capsys.readouterr().err
    assert f"python -m pip wheel --no-deps -w {tmp_path / 'p' / 'wheels'} {tmp_path}" in err


def test_cpu_only_xgboost_is_the_regular_one_on_macos() -> None:
    # xgboost-cpu publishes no macOS wheel; the layer's pin must still install there.
    assert local_requirements(["scikit-learn==1.9.1", "xgboost-cpu==3.0.2"]) == [
        "scikit-learn==1.9.1",
        'xgboost-cpu==3.0.2; sys_platform != "darwin"',
        'xgboost==3.0.2; sys_platform == "darwin"',
    ]
