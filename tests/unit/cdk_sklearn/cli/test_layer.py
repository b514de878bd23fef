"""``cdk-sklearn layer build``: argument handling that needs no network."""

from __future__ import annotations

import pytest

from cdk_sklearn.cli import build_parser, main


def test_layer_build_is_registered():
    args = build_parser().parse_args(
        [
            "layer",
            "build",
            "--model",
            "m.joblib",
            "--output",
            "out",
            "--architecture",
            "arm64",
            "--extra",
            "pandas",
        ]
    )
    assert (args.runtime, args.architecture, args.extra) == ("python3.13", "arm64", ["pandas"])


def test_fails_on_unsupported_runtime(capsys):
    with pytest.raises(SystemExit):
        main(["layer", "build", "--model", "m.joblib", "--output", "out", "--runtime", "python3.9"])
    assert "invalid choice: 'python3.9'" in capsys.readouterr().err


def test_fails_when_output_is_not_empty(tmp_path, iris_model, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["layer", "build", "--model", str(iris_model), "--output", str(tmp_path)]) == 2
    assert "exists and is not an empty folder" in capsys.readouterr().err


def test_fails_on_a_file_that_is_not_a_model(tmp_path, capsys):
    model = tmp_path / "notes.txt"
    model.write_text("not a model\n")
    assert main(["layer", "build", "--model", str(model), "--output", str(tmp_path / "out")]) == 2
    assert "notes.txt is not a readable pickle stream" in capsys.readouterr().err


def test_layer_build_slim_flag():
    common = ["layer", "build", "--model", "m.joblib", "--output", "out"]
    assert build_parser().parse_args([*common, "--slim"]).slim
    assert not build_parser().parse_args(common).slim


def test_layer_build_defaults_to_arm64_like_the_construct():
    args = build_parser().parse_args(["layer", "build", "--model", "m.joblib", "--output", "out"])
    assert args.architecture == "arm64"


def test_layer_build_defaults_to_python313_like_the_construct():
    args = build_parser().parse_args(["layer", "build", "--model", "m.joblib", "--output", "out"])
    assert args.runtime == "python3.13"


def test_layer_build_takes_the_onnx_engine():
    args = build_parser().parse_args(["layer", "build", "--engine", "onnx", "--output", "out"])
    assert (args.engine, args.model) == ("onnx", None)


def test_onnx_layer_requirements_pin_the_local_onnxruntime():
    from importlib import metadata

    from cdk_sklearn.cli.layer import onnx_layer_requirements

    assert onnx_layer_requirements() == ("numpy", f"onnxruntime=={metadata.version('onnxruntime')}")


def test_fails_sklearn_layer_without_a_model(tmp_path, capsys):
    assert main(["layer", "build", "--output", str(tmp_path / "out")]) == 2
    assert "--model is required" in capsys.readouterr().err


def test_fails_onnx_layer_for_python311(tmp_path, capsys):
    argv = ["layer", "build", "--engine", "onnx", "--runtime", "python3.11", "--output", str(tmp_path / "o")]
    assert main(argv) == 2
    assert "python3.12 or newer" in capsys.readouterr().err


def test_layer_build_uses_the_app_lock_named_by_the_environment(tmp_path, monkeypatch):
    from cdk_sklearn.cli.layer import cli_lock

    monkeypatch.setenv("CDK_SKLEARN_LOCK", str(tmp_path / "app.toml"))
    assert cli_lock(None) == tmp_path / "app.toml"


def test_layer_build_uses_the_lock_beside_it_when_there_is_one(tmp_path, monkeypatch):
    from cdk_sklearn.cli.layer import cli_lock

    monkeypatch.delenv("CDK_SKLEARN_LOCK", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pylock.cdk-sklearn.toml").write_text("")
    assert cli_lock(None) == tmp_path / "pylock.cdk-sklearn.toml"


def test_layer_build_outside_an_app_uses_the_cache_lock(tmp_path, monkeypatch):
    from cdk_sklearn.cli.layer import cli_lock

    monkeypatch.delenv("CDK_SKLEARN_LOCK", raising=False)
    monkeypatch.chdir(tmp_path)
    assert cli_lock(None) is None
    assert not (tmp_path / "pylock.cdk-sklearn.toml").exists()


def test_layer_build_takes_an_explicit_lock_and_code_paths(tmp_path):
    common = ["layer", "build", "--model", "m.joblib", "--output", "out"]
    args = build_parser().parse_args([*common, "--lock", "my.toml", "--code-path", "a", "--code-path", "b"])
    assert (args.lock.name, [p.name for p in args.code_paths]) == ("my.toml", ["a", "b"])


def test_layer_build_never_imports_aws_cdk():
    import subprocess
    import sys

    from tests.conftest import PROJECT_DIR

    code = "import sys, cdk_sklearn.cli.layer; print('aws_cdk' in sys.modules, 'jsii' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT_DIR
    )
    assert out.stdout.strip() == "False False"
