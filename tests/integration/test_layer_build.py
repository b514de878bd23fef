"""The layer built for real: pip resolution for a Lambda target, pruning, lock, cache, CDK bundling.

Needs network to PyPI (wheels are cached by pip afterwards); about a minute on a cold pip cache.
"""

from __future__ import annotations

import csv
import hashlib
import os
import time
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_

from cdk_sklearn.layer import SklearnLayer
from cdk_sklearn.model.artifact import inspect_model
from cdk_sklearn.packaging import pipeline
from cdk_sklearn.packaging.build import build_layer
from cdk_sklearn.packaging.bytecode import find_interpreter
from cdk_sklearn.packaging.install import ResolutionError
from cdk_sklearn.packaging.pipeline import AUTO_SLIM_BYTES
from cdk_sklearn.packaging.target import LambdaTarget

pytestmark = pytest.mark.slow

ARM64_313 = LambdaTarget("python3.13", "arm64")
REQUIREMENTS = ("scikit-learn==1.9.1",)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    path = tmp_path_factory.mktemp("layer-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CDK_SKLEARN_CACHE", str(path))
        yield path


@pytest.fixture(scope="module")
def arm64_build(cache):
    return build_layer(REQUIREMENTS, ARM64_313, None, log=lambda _: None)


def test_installs_training_version_for_target_platform(arm64_build):
    site = arm64_build.layer_dir / "python"
    assert "scikit-learn==1.9.1" in arm64_build.lock
    assert any(line.startswith("numpy==2.") for line in arm64_build.lock)
    extensions = list(site.glob("sklearn/tree/_tree.cpython-313-aarch64-linux-gnu.so"))
    assert extensions, "expected the cp313 aarch64 wheel of scikit-learn"


def test_writes_hash_pinned_lock_next_to_python(arm64_build):
    lock = (arm64_build.layer_dir / "requirements.lock").read_text().splitlines()
    assert any(line.startswith("scikit-learn==1.9.1 --hash=sha256:") for line in lock)
    assert sorted(p.name for p in arm64_build.layer_dir.iterdir()) == ["python", "requirements.lock"]


def test_prunes_tests_sources_and_host_bytecode(arm64_build):
    site = arm64_build.layer_dir / "python"
    assert not [p for p in site.rglob("tests") if p.is_dir()]
    assert not list(site.rglob("*.pyx")) and not list(site.rglob("*.h"))
    assert not list(site.rglob("*.pyc")), "no interpreter was given, so no bytecode at all"
    assert not (site / "bin").exists()
    assert arm64_build.pruned_bytes > 20_000_000


def test_shared_objects_are_exactly_as_in_the_wheels(arm64_build):
    site = arm64_build.layer_dir / "python"
    checked = 0
    for record in site.glob("*.dist-info/RECORD"):
        for row in csv.reader(record.read_text().splitlines()):
            path, size = site / row[0], row[2]
            if ".so" in path.name and path.exists():
                assert path.stat().st_size == int(size), path
                checked += 1
    assert checked > 100


def test_second_build_is_reused_in_seconds(arm64_build):
    started = time.monotonic()
    again = build_layer(REQUIREMENTS, ARM64_313, None)
    assert again.reused and time.monotonic() - started < 2
    assert again.content_hash == arm64_build.content_hash


def test_fails_without_wheel_for_amazon_linux_2(cache):
    message = (
        r"scikit-learn 1\.9\.1 has no wheel for python3\.11 on Amazon Linux 2 \(glibc 2\.26, x86_64\); "
        r"use runtime python3\.12\+ or retrain with scikit-learn<=1\.7\.2"
    )
    with pytest.raises(ResolutionError, match=message):
        build_layer(REQUIREMENTS, LambdaTarget("python3.11", "x86_64"), None)


def _synth(outdir: Path, model: Path, extra: list[str]) -> tuple[str, Path]:
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "LayerStack")
    SklearnLayer(
        stack,
        "Sklearn",
        model=inspect_model(model),
        runtime=lambda_.Runtime.PYTHON_3_13,
        architecture=lambda_.Architecture.ARM_64,
        extra_requirements=extra,
        bytecode_python=None,
    )
    assembly = app.synth()
    template = assembly.get_stack_by_name("LayerStack").template
    (layer,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::LayerVersion"]
    key = layer["Properties"]["Content"]["S3Key"]
    return key, outdir / f"asset.{key.removesuffix('.zip')}"


def test_synth_bundles_layer_and_asset_hash_follows_content(cache, iris_model, tmp_path, monkeypatch):
    monkeypatch.setenv("CDK_SKLEARN_BYTECODE_PYTHON", "")
    monkeypatch.setenv("PATH", "/usr/bin:/bin:" + str(Path(__import__("sys").prefix) / "bin"))
    first_key, asset = _synth(tmp_path / "one", iris_model, [])
    assert (asset / "python" / "sklearn" / "__init__.py").is_file()
    assert (asset / "requirements.lock").is_file()
    second_key, _ = _synth(tmp_path / "two", iris_model, [])
    assert second_key == first_key
    # threadpoolctl is already a dependency: new inputs, same content, so the same asset.
    third_key, _ = _synth(tmp_path / "three", iris_model, ["threadpoolctl"])
    assert third_key == first_key


def test_cli_writes_layer_and_lock(cache, iris_model, tmp_path, monkeypatch, capsys):
    from cdk_sklearn.cli import main

    monkeypatch.setenv("CDK_SKLEARN_BYTECODE_PYTHON", "")
    output = tmp_path / "layer"
    code = main(
        ["layer", "build", "--model", str(iris_model), "--architecture", "arm64", "--output", str(output)]
    )
    assert code == 0
    assert (output / "python" / "sklearn" / "__init__.py").is_file()
    assert "scikit-learn==1.9.1 --hash=sha256:" in (output / "requirements.lock").read_text()
    assert "total unzipped" in capsys.readouterr().out


def _tree(root: Path) -> dict[str, str]:
    """Every file under ``root``: relative name -> sha256 (a symlink: its target)."""
    files = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        if path.is_symlink():
            files[name] = f"-> {os.readlink(path)}"
        elif path.is_file():
            files[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


@pytest.fixture(scope="module")
def compiler():
    interpreter = find_interpreter((3, 13))
    if interpreter is None:
        pytest.skip("needs a CPython 3.13 to compile the layer (automatic slimming needs bytecode)")
    return interpreter.executable


# The real line is 230 MB; 1 byte makes every layer cross it, so both sides must slim it alike.
@pytest.mark.parametrize("auto_slim_bytes", [AUTO_SLIM_BYTES, 1], ids=["full", "auto-slim"])
def test_cli_writes_the_files_the_construct_ships(
    cache, compiler, iris_model, tmp_path, monkeypatch, capsys, auto_slim_bytes
):
    from cdk_sklearn.cli import main

    monkeypatch.setattr(pipeline, "AUTO_SLIM_BYTES", auto_slim_bytes)
    monkeypatch.setenv("CDK_SKLEARN_BYTECODE_PYTHON", str(compiler))
    monkeypatch.setenv("CDK_SKLEARN_LOCK", str(tmp_path / "pylock.cdk-sklearn.toml"))
    output = tmp_path / "cli"
    assert main(["layer", "build", "--model", str(iris_model), "--output", str(output)]) == 0
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "LayerStack")
    layer = SklearnLayer(
        stack,
        "Sklearn",
        model=inspect_model(iris_model),
        runtime=lambda_.Runtime.PYTHON_3_13,
        architecture=lambda_.Architecture.ARM_64,
    )
    template = app.synth().get_stack_by_name("LayerStack").template
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::LayerVersion"]
    asset = tmp_path / "cdk.out" / f"asset.{resource['Properties']['Content']['S3Key'].removesuffix('.zip')}"
    assert layer.slim == (auto_slim_bytes == 1)
    assert ("sourceless" in capsys.readouterr().out) == layer.slim
    cli_files = _tree(output)
    assert any(name.endswith(".pyc") for name in cli_files)
    assert cli_files == _tree(asset)
