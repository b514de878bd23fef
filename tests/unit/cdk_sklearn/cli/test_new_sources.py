"""How ``cdk-sklearn new`` requires cdk-sklearn, and the feature flags it reads from aws-cdk-lib."""

from __future__ import annotations

import glob
import json
import tarfile
from pathlib import Path

import aws_cdk
import pytest

from cdk_sklearn.cli.new_sources import own_requirement, recommended_feature_flags
from tests.helpers.wheels import make_wheel


def test_index_install_is_a_version_pin() -> None:
    assert own_requirement(None, "1.2.3", "wheels").lines == ("cdk-sklearn==1.2.3",)


def test_wheel_install_is_find_links_and_a_version_pin(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "cdk_sklearn", "1.2.3")
    own = own_requirement({"url": wheel.as_uri(), "archive_info": {}}, "1.2.3", "wheels")
    assert own.lines == ("--find-links ./wheels", "cdk-sklearn==1.2.3")


def test_wheel_install_names_the_wheel_to_copy(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "cdk_sklearn", "1.2.3")
    own = own_requirement({"url": wheel.as_uri(), "archive_info": {}}, "1.2.3", "wheels")
    assert own.wheel == wheel and own.note is None


def test_wheel_install_lines_name_no_machine_path(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "cdk_sklearn", "1.2.3")
    own = own_requirement({"url": wheel.as_uri(), "archive_info": {}}, "1.2.3", "wheels")
    assert str(tmp_path) not in "\n".join([*own.lines, own.onnx])


def test_wheel_install_adds_the_onnx_extra_by_version(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "cdk_sklearn", "1.2.3")
    own = own_requirement({"url": wheel.as_uri(), "archive_info": {}}, "1.2.3", "wheels")
    assert own.onnx == "cdk-sklearn[onnx]==1.2.3"


def test_folder_install_says_how_to_build_the_wheel(tmp_path: Path) -> None:
    own = own_requirement({"url": tmp_path.as_uri(), "dir_info": {"editable": True}}, "1.2.3", "wheels")
    assert own.wheel is None
    assert own.note is not None and f"python -m pip wheel --no-deps -w {{wheels}} {tmp_path}" in own.note


def test_folder_install_still_requires_the_wheels_folder(tmp_path: Path) -> None:
    own = own_requirement({"url": tmp_path.as_uri(), "dir_info": {}}, "1.2.3", "wheels")
    assert own.lines == ("--find-links ./wheels", "cdk-sklearn==1.2.3")


def test_vanished_wheel_says_it_no_longer_exists(tmp_path: Path) -> None:
    gone = tmp_path / "cdk_sklearn-1.2.3-py3-none-any.whl"
    own = own_requirement({"url": gone.as_uri(), "archive_info": {}}, "1.2.3", "wheels")
    assert own.note is not None and "no longer exists" in own.note


def test_git_install_is_the_url_at_its_commit() -> None:
    direct = {"url": "https://example.com/o/cdk-sklearn", "vcs_info": {"vcs": "git", "commit_id": "abc1"}}
    own = own_requirement(direct, "1.2.3", "wheels")
    assert own.lines == ("cdk-sklearn @ git+https://example.com/o/cdk-sklearn@abc1",)
    assert own.onnx == "cdk-sklearn[onnx] @ git+https://example.com/o/cdk-sklearn@abc1"


def _bundled_flags() -> dict[str, object]:
    # Read beside the aws_cdk package, the way a reader of the npm package would find the file.
    [bundle] = glob.glob(str(Path(aws_cdk.__file__).parent / "_jsii" / "aws-cdk-lib@*.jsii.tgz"))
    with tarfile.open(bundle) as archive:
        member = archive.extractfile("package/recommended-feature-flags.json")
        assert member is not None
        flags: dict[str, object] = json.load(member)
        return flags


def test_feature_flags_are_aws_cdk_libs_recommended_ones() -> None:
    assert recommended_feature_flags() == _bundled_flags()


def test_feature_flags_include_a_flag_cdk_init_writes() -> None:
    assert recommended_feature_flags()["@aws-cdk/core:checkSecretUsage"] is True


@pytest.mark.parametrize("flag", ["@aws-cdk/core:target-partitions"])
def test_feature_flags_keep_their_json_values(flag: str) -> None:
    assert recommended_feature_flags()[flag] == ["aws", "aws-cn"]
