"""The deploy proof's own pieces: template values resolved, folders zipped as the CDK CLI does."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import pytest

from tests.support.deploy_proof import read_deployment, resolve, unzip, zip_directory

BUCKET_SUB = {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}


def test_resolve_fills_in_pseudo_parameters_in_joins_and_subs():
    value = {"Fn::Join": ["", ["s3://", BUCKET_SUB, "/", {"Ref": "AWS::Partition"}, ".joblib"]]}
    assert resolve(value) == "s3://cdk-hnb659fds-assets-123456789012-us-east-1/aws.joblib"


def test_resolve_takes_fn_sub_variables():
    assert resolve({"Fn::Sub": ["${A}-${AWS::Region}", {"A": "x"}]}) == "x-us-east-1"


def test_fails_to_resolve_a_value_known_only_after_deploy():
    with pytest.raises(ValueError, match="Fn::GetAtt"):
        resolve({"Fn::GetAtt": ["Bucket", "Arn"]}, "environment X")


def _tree(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("x = 1\n")
    (root / ".hidden").write_text("dot\n")
    (root / "tool").write_text("#!/bin/sh\n")
    (root / "tool").chmod(0o755)
    (root / "empty").mkdir()
    (root / "link.py").symlink_to(root / "pkg" / "mod.py")


def test_zip_holds_every_file_with_its_mode_and_no_folders_or_links(tmp_path: Path):
    _tree(tmp_path / "src")
    archive = zip_directory(tmp_path / "src", tmp_path / "a.zip")
    with zipfile.ZipFile(archive) as opened:
        entries = {info.filename: info for info in opened.infolist()}
        assert sorted(entries) == [".hidden", "link.py", "pkg/mod.py", "tool"]
        assert opened.read("link.py") == b"x = 1\n"  # the link's target, as a plain file
    assert stat.S_IMODE(entries["tool"].external_attr >> 16) == 0o755
    assert stat.S_ISREG(entries["link.py"].external_attr >> 16)
    assert {info.date_time for info in entries.values()} == {(1980, 1, 1, 0, 0, 0)}


def test_unzip_restores_files_and_modes(tmp_path: Path):
    _tree(tmp_path / "src")
    unzip(zip_directory(tmp_path / "src", tmp_path / "a.zip"), tmp_path / "out")
    assert (tmp_path / "out" / "pkg" / "mod.py").read_text() == "x = 1\n"
    assert not (tmp_path / "out" / "link.py").is_symlink()
    assert stat.S_IMODE((tmp_path / "out" / "tool").stat().st_mode) == 0o755
    assert not (tmp_path / "out" / "empty").exists()


def _assembly(out: Path, model_key: str) -> None:
    (out / "asset.code").mkdir(parents=True)
    (out / "asset.layer").mkdir()
    (out / "asset.model.joblib").write_bytes(b"model")
    bucket = "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"

    def asset(path: str, packaging: str, key: str) -> dict[str, object]:
        return {
            "source": {"path": path, "packaging": packaging},
            "destinations": {"d": {"bucketName": bucket, "objectKey": key}},
        }

    manifest = {
        "files": {
            "code": asset("asset.code", "zip", "code.zip"),
            "layer": asset("asset.layer", "zip", "layer.zip"),
            "model": asset("asset.model.joblib", "file", "model.joblib"),
        }
    }
    template = {
        "Resources": {
            "Layer": {
                "Type": "AWS::Lambda::LayerVersion",
                "Properties": {"Content": {"S3Bucket": BUCKET_SUB, "S3Key": "layer.zip"}},
            },
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.13",
                    "Architectures": ["arm64"],
                    "Handler": "lambda_runtime.handler.handler",
                    "Code": {"S3Bucket": BUCKET_SUB, "S3Key": "code.zip"},
                    "Layers": [{"Ref": "Layer"}],
                    "Environment": {
                        "Variables": {
                            "MODEL_URI": {"Fn::Join": ["", ["s3://", BUCKET_SUB, f"/{model_key}"]]},
                            "MODEL_NAME": "model",
                        }
                    },
                },
            },
        }
    }
    (out / "S.assets.json").write_text(json.dumps(manifest))
    (out / "S.template.json").write_text(json.dumps(template))


def test_read_deployment_follows_the_template_to_the_assets(tmp_path: Path):
    _assembly(tmp_path, "model.joblib")
    deployment = read_deployment(tmp_path, "S")
    assert deployment.code.source == tmp_path / "asset.code"
    assert [layer.source for layer in deployment.layers] == [tmp_path / "asset.layer"]
    assert deployment.model.source == tmp_path / "asset.model.joblib"
    assert deployment.model.bucket == "cdk-hnb659fds-assets-123456789012-us-east-1"
    assert deployment.environment["MODEL_URI"] == f"s3://{deployment.model.bucket}/model.joblib"
    assert deployment.architecture == "arm64"


def test_fails_when_model_uri_names_no_asset(tmp_path: Path):
    _assembly(tmp_path, "other.joblib")
    with pytest.raises(AssertionError, match="not where any asset"):
        read_deployment(tmp_path, "S")
