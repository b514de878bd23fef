"""The function code asset, bundled for real (local bundling, no Docker)."""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from cdk_sklearn.function_code import code_size_bytes, function_code, runtime_source_dir


def test_bundles_lambda_runtime_at_zip_root(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Code")
    code, size = function_code("python3.13", None)
    lambda_.Function(
        stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_13, handler="lambda_runtime.handler.handler", code=code
    )
    assembly = app.synth()
    (asset_dir,) = [p for p in Path(assembly.directory).glob("asset.*") if p.is_dir()]
    assert (asset_dir / "lambda_runtime" / "handler.py").is_file()
    # Compiled for the runtime's version only (the host is CPython 3.11 here: python3.13 has no .pyc
    # unless a 3.13 interpreter is found).
    assert not [p for p in asset_dir.rglob("*.pyc") if ".cpython-313." not in p.name]
    assert [p.name for p in asset_dir.iterdir()] == ["lambda_runtime"]
    shipped = sum(p.stat().st_size for p in asset_dir.rglob("*") if p.is_file() and p.suffix != ".pyc")
    assert shipped == size


def test_function_code_is_precompiled_for_the_host_version(tmp_path):
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Code")
    code, _ = function_code("python3.11", sys.executable)
    lambda_.Function(
        stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_11, handler="lambda_runtime.handler.handler", code=code
    )
    assembly = app.synth()
    (asset_dir,) = [p for p in Path(assembly.directory).glob("asset.*") if p.is_dir()]
    compiled = {p.name for p in asset_dir.rglob("*.pyc")}
    assert "handler.cpython-311.pyc" in compiled


def test_source_dir_is_the_package():
    source = runtime_source_dir()
    assert (source / "handler.py").is_file()
    assert code_size_bytes(source) > 0
