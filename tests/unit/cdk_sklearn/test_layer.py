"""SklearnLayer with bundling skipped: template shape, validation, nothing built."""

from __future__ import annotations

from dataclasses import fields

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from cdk_sklearn.layer import LayerProps, LayerSettings, ModelDependencyWarning, SklearnLayer
from cdk_sklearn.model.artifact import inspect_model
from cdk_sklearn.packaging.closure import ClosureError
from tests.conftest import SKIP_BUNDLING


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _stack():
    return cdk.Stack(cdk.App(context=SKIP_BUNDLING), "Stack")


def test_layer_declares_runtime_and_architecture(iris_model):
    stack = _stack()
    layer = SklearnLayer(
        stack,
        "Layer",
        model=inspect_model(iris_model),
        runtime=lambda_.Runtime.PYTHON_3_13,
        architecture=lambda_.Architecture.ARM_64,
    )
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Lambda::LayerVersion",
        {
            "CompatibleRuntimes": ["python3.13"],
            "CompatibleArchitectures": ["arm64"],
            "Description": Match.string_like_regexp("scikit-learn==1.9.1"),
        },
    )
    assert layer.requirements[0] == "scikit-learn==1.9.1"
    assert isinstance(layer.layer_version, lambda_.LayerVersion)


def test_extra_requirements_follow_model_pins(iris_model):
    layer = SklearnLayer(
        _stack(),
        "Layer",
        model=inspect_model(iris_model),
        runtime=lambda_.Runtime.PYTHON_3_12,
        architecture=lambda_.Architecture.X86_64,
        extra_requirements=["pandas>=2"],
    )
    assert layer.requirements == ("scikit-learn==1.9.1", "numpy>=2", "pandas>=2")


def test_skipped_bundling_builds_nothing(iris_model, isolated_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("CDK_SKLEARN_LOCK", str(tmp_path / "pylock.cdk-sklearn.toml"))
    layer = SklearnLayer(
        _stack(),
        "Layer",
        model=inspect_model(iris_model),
        runtime=lambda_.Runtime.PYTHON_3_13,
        architecture=lambda_.Architecture.X86_64,
    )
    assert layer.build is None
    assert not (isolated_cache / "layers").exists()
    assert not (tmp_path / "pylock.cdk-sklearn.toml").exists(), "no lock without bundling"


def test_stand_in_asset_hash_changes_with_requirements(iris_model):
    hashes = set()
    for extra in ([], ["pandas"]):
        stack = _stack()
        SklearnLayer(
            stack,
            "Layer",
            model=inspect_model(iris_model),
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.X86_64,
            extra_requirements=extra,
        )
        resource = next(iter(Template.from_stack(stack).find_resources("AWS::Lambda::LayerVersion").values()))
        hashes.add(resource["Properties"]["Content"]["S3Key"])
    assert len(hashes) == 2


def test_warns_about_modules_it_cannot_install(tmp_path):
    model = tmp_path / "custom.pkl"
    model.write_bytes(b"cmycorp.models\nThing\n(tR.")  # protocol 0: mycorp.models.Thing()
    with pytest.warns(ModelDependencyWarning, match="mycorp"):
        SklearnLayer(
            _stack(),
            "Layer",
            model=inspect_model(model),
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.X86_64,
            extra_requirements=["mycorp-models"],
        )


def test_fails_on_unsupported_runtime(iris_model):
    with pytest.raises(ValueError, match=r"'python3.10' is not supported by the scikit-learn layer"):
        SklearnLayer(
            _stack(),
            "Layer",
            model=inspect_model(iris_model),
            runtime=lambda_.Runtime.PYTHON_3_10,
            architecture=lambda_.Architecture.X86_64,
        )


def test_fails_on_string_extra_requirements(iris_model):
    with pytest.raises(ValueError, match="write extra_requirements=\\['pandas'\\]"):
        SklearnLayer(
            _stack(),
            "Layer",
            model=inspect_model(iris_model),
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.X86_64,
            extra_requirements="pandas",
        )


def test_fails_on_negative_function_code_size(iris_model):
    with pytest.raises(ValueError, match="function_code_bytes=-1 is invalid; allowed: an integer >= 0"):
        SklearnLayer(
            _stack(),
            "Layer",
            model=inspect_model(iris_model),
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.X86_64,
            function_code_bytes=-1,
        )


def test_slim_layer_is_a_different_asset(iris_model):
    def asset_key(slim: bool) -> str:
        stack = _stack()
        SklearnLayer(
            stack,
            "Layer",
            model=inspect_model(iris_model),
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            slim=slim,
        )
        layer = Template.from_stack(stack).find_resources("AWS::Lambda::LayerVersion")
        return next(iter(layer.values()))["Properties"]["Content"]["S3Key"]

    assert asset_key(True) != asset_key(False)


def test_fails_when_the_model_references_the_training_script(tmp_path):
    model = tmp_path / "script.pkl"
    model.write_bytes(b"c__main__\nCleaner\n(tR.")  # protocol 0: __main__.Cleaner()
    with pytest.raises(ClosureError, match=r"references __main__.*code_paths=\['features\.py'\]"):
        SklearnLayer(
            _stack(),
            "Layer",
            model=inspect_model(model),
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.X86_64,
        )


def test_modules_shipped_in_code_paths_are_not_warned_about(tmp_path, recwarn):
    model = tmp_path / "custom.pkl"
    model.write_bytes(b"cfeatures\nCleaner\n(tR.")  # protocol 0: features.Cleaner()
    module = tmp_path / "features.py"
    module.write_text("class Cleaner: ...\n")
    SklearnLayer(
        _stack(),
        "Layer",
        model=inspect_model(model),
        runtime=lambda_.Runtime.PYTHON_3_13,
        architecture=lambda_.Architecture.X86_64,
        code_paths=[module],
    )
    assert not [w for w in recwarn if issubclass(w.category, ModelDependencyWarning)]


def test_model_recording_no_scikit_learn_version_still_gets_scikit_learn_and_joblib(tmp_path):
    model = tmp_path / "custom.pkl"
    model.write_bytes(b"cfeatures\nCleaner\n(tR.")
    with pytest.warns(ModelDependencyWarning):
        layer = SklearnLayer(
            _stack(),
            "Layer",
            model=inspect_model(model),
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.X86_64,
        )
    assert layer.requirements == ("scikit-learn", "joblib")


def test_settings_are_the_props_fields_but_owner():
    assert set(LayerSettings.__annotations__) == {f.name for f in fields(LayerProps)} - {"owner"}


def test_props_and_keyword_settings_make_the_same_layer(iris_model):
    def asset_key(**given) -> str:
        stack = _stack()
        SklearnLayer(
            stack,
            "Layer",
            model=inspect_model(iris_model),
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            **given,
        )
        resource = next(iter(Template.from_stack(stack).find_resources("AWS::Lambda::LayerVersion").values()))
        return resource["Properties"]["Content"]["S3Key"]

    keywords = asset_key(extra_requirements=["pandas"], slim=True)
    assert asset_key(props=LayerProps(extra_requirements=["pandas"], slim=True)) == keywords
    assert asset_key(slim=True) != keywords


def test_fails_on_props_and_keyword_settings_together(iris_model):
    with pytest.raises(TypeError, match="pass props= or keyword props \\(slim\\), not both"):
        SklearnLayer(
            _stack(),
            "Layer",
            model=inspect_model(iris_model),
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.X86_64,
            props=LayerProps(),
            slim=True,
        )


def test_fails_on_an_unknown_setting_listing_the_allowed_ones(iris_model):
    with pytest.raises(
        TypeError, match="unknown prop\\(s\\) extras; allowed: extra_requirements, bytecode_python"
    ):
        SklearnLayer(
            _stack(),
            "Layer",
            model=inspect_model(iris_model),
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.X86_64,
            extras=["pandas"],
        )


def test_fails_on_a_bad_setting_naming_the_owner_of_the_props(iris_model):
    with pytest.raises(ValueError, match="SklearnLambdaEndpoint"):
        SklearnLayer(
            _stack(),
            "Layer",
            model=inspect_model(iris_model),
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.X86_64,
            props=LayerProps(owner="SklearnLambdaEndpoint", slim="yes"),
        )
