"""``SklearnLayer``: the scikit-learn Lambda layer, pinned to the model and built without Docker.

The layer's asset is bundled locally (:class:`aws_cdk.ILocalBundling`) by :mod:`cdk_sklearn.packaging`:
pip installs wheels for the Lambda runtime's platform, the build is pruned, compiled to .pyc for the
runtime's Python, measured against Lambda's size limit and kept in the user cache. What it installs is
pinned, with wheel hashes, in the app's lock file ``pylock.cdk-sklearn.toml`` (beside ``cdk.json``, or
``$CDK_SKLEARN_LOCK``): the first synth writes a layer's entry, later synths install exactly that (see
:mod:`cdk_sklearn.packaging.lock`). When the stack does not need bundling (``cdk ls``, unit tests with
``aws:cdk:bundling-stacks: []``) nothing is built, downloaded or locked.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypedDict, Unpack, overload

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk_sklearn.model.artifact import ModelArtifact
from cdk_sklearn.packaging.build import (
    LayerBuild,
    copy_layer,
    parse_requirement,
    stand_in_key,
)
from cdk_sklearn.packaging.cache import cache_root
from cdk_sklearn.packaging.lock import lock_path
from cdk_sklearn.packaging.model_check import layer_requirements
from cdk_sklearn.packaging.pipeline import AUTO_SLIM_BYTES as AUTO_SLIM_BYTES
from cdk_sklearn.packaging.pipeline import LayerRecipe, ShippedLayer, ship_layer
from cdk_sklearn.packaging.target import LambdaTarget
from cdk_sklearn.validation import ConfigSection, check_bool, check_int, check_strings, invalid, props_from

OWNER = "SklearnLayer"
_DESCRIPTION_LIMIT = 256  # LayerVersion.Description maximum length


class LayerSettings(TypedDict, total=False):
    """The keyword form of :class:`LayerProps` (``SklearnLayer(..., slim=True)``)."""

    extra_requirements: Sequence[str]
    bytecode_python: str | None
    slim: bool


SETTINGS: tuple[str, ...] = tuple(LayerSettings.__annotations__)
"""Every keyword setting of :class:`SklearnLayer`: the fields of :class:`LayerProps` but ``owner``."""


@dataclass(frozen=True, kw_only=True)
class LayerProps(ConfigSection):
    """The user's settings of a layer, checked once when made.

    Parameters
    ----------
    extra_requirements
        More pip requirement strings (PEP 508) for the layer. Default none.
    bytecode_python
        A CPython of the runtime's version to compile ``.pyc`` with. Default: found automatically.
    slim
        Ship sourceless ``.pyc`` (see :class:`SklearnLayer`). Default False.
    owner
        The construct named in error messages.
    """

    extra_requirements: Sequence[str] = ()
    bytecode_python: str | None = None
    slim: bool = False
    owner: str = field(default=OWNER, compare=False, repr=False)
    config_section = "layer"
    config_keys = SETTINGS
    default_owner = OWNER

    def __post_init__(self) -> None:
        owner = self.owner
        if isinstance(self.extra_requirements, str):
            raise invalid(
                "extra_requirements",
                self.extra_requirements,
                f"a list of requirement strings: write extra_requirements=[{self.extra_requirements!r}]",
                owner=owner,
            )
        extras = check_strings(
            "extra_requirements",
            self.extra_requirements,
            owner=owner,
            what="a list of pip requirement strings, e.g. ['pandas>=2']",
        )
        for text in extras:
            try:
                parse_requirement(text)
            except ValueError as exc:
                raise invalid("extra_requirements", list(extras), str(exc), owner=owner) from None
        object.__setattr__(self, "extra_requirements", extras)
        if self.bytecode_python is not None and (
            not isinstance(self.bytecode_python, str) or not self.bytecode_python
        ):
            raise invalid(
                "bytecode_python",
                self.bytecode_python,
                "the path or name of a python3.X interpreter",
                owner=owner,
            )
        check_bool("slim", self.slim, owner=owner)


class ModelDependencyWarning(UserWarning):
    """The model references a module that neither the standard library nor a known package provides."""


class SklearnLayer(Construct):
    """A Lambda layer with the scikit-learn (and friends) the model was trained with.

    Parameters
    ----------
    scope, id
        Construct scope and id.
    model
        The inspected model (:func:`cdk_sklearn.model.artifact.inspect_model`): its requirements pin
        scikit-learn to the training version and add what the model references (pandas, xgboost...).
    runtime
        A Lambda Python runtime, python3.11 to python3.14.
    architecture
        ``Architecture.X86_64`` or ``Architecture.ARM_64``.
    function_code_bytes
        Unzipped size of the function code, counted with the layer against Lambda's 262,144,000-byte
        limit (default 0).
    code_paths
        The user's modules shipped with the function code (``.py`` files and package folders): the
        closure check accepts the modules the model references from them (default none).
    props
        The settings as a :class:`LayerProps`; or pass its fields as keyword arguments
        (:class:`LayerSettings`), not both:

        ``extra_requirements``
            More pip requirement strings to put in the layer (default none).
        ``bytecode_python``
            A CPython of the runtime's version to compile .pyc with. Default: the
            ``CDK_SKLEARN_BYTECODE_PYTHON`` environment variable, the running interpreter if its version
            matches, or ``python3.X`` on PATH; without one the layer ships without .pyc (with a warning).
        ``slim``
            Ship each module as a sourceless .pyc instead of .py plus .pyc: about 27 MB (15 %) smaller
            for scikit-learn + numpy + scipy; tracebacks then show file and line but not the source line
            (default False). Needs a bytecode interpreter (see ``bytecode_python``). A full layer over
            :data:`AUTO_SLIM_BYTES` is made slim anyway when an interpreter is available (said in one
            line).

    Attributes
    ----------
    layer_version
        The ``aws_lambda.LayerVersion``.
    requirements
        The requirement strings the layer is built from.
    build
        The built layer (sizes, lock), or ``None`` when the stack is not bundled.

    Raises
    ------
    TypeError
        An unknown setting, or both ``props`` and keyword settings.
    ValueError
        A setting that cannot be built, or a model the layer cannot serve on ``runtime``.

    Notes
    -----
    A bundled synth reads the app's lock (``pylock.cdk-sklearn.toml`` in the working directory, or
    ``$CDK_SKLEARN_LOCK``), adds this layer's entry when it has none, and installs the locked wheels;
    see :mod:`cdk_sklearn.packaging.lock`. The files are those of ``cdk-sklearn layer build`` for the
    same model, runtime and architecture (:mod:`cdk_sklearn.packaging.pipeline`).
    """

    @overload
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model: ModelArtifact,
        runtime: lambda_.Runtime,
        architecture: lambda_.Architecture,
        function_code_bytes: int = 0,
        code_paths: Sequence[str | os.PathLike[str]] = (),
        props: LayerProps,
    ) -> None: ...

    @overload
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model: ModelArtifact,
        runtime: lambda_.Runtime,
        architecture: lambda_.Architecture,
        function_code_bytes: int = 0,
        code_paths: Sequence[str | os.PathLike[str]] = (),
        **settings: Unpack[LayerSettings],
    ) -> None: ...

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        model: ModelArtifact,
        runtime: lambda_.Runtime,
        architecture: lambda_.Architecture,
        function_code_bytes: int = 0,
        code_paths: Sequence[str | os.PathLike[str]] = (),
        props: LayerProps | None = None,
        **settings: Any,  # typed by the overloads: LayerSettings
    ) -> None:
        # Validate before creating anything, so a typo never leaves half a construct tree.
        self.props = props_from(OWNER, LayerProps, props, settings, SETTINGS)
        check_int("function_code_bytes", function_code_bytes, 0, owner=OWNER)
        target = LambdaTarget(runtime.name, architecture.name)
        user_code = tuple(Path(p).expanduser().resolve() for p in code_paths)
        self._target = target
        self._requirements = self._check_model(model, target, user_code)
        super().__init__(scope, id)
        recipe = LayerRecipe(self._requirements, target, self._engine, self.props.slim)
        self._shipped: ShippedLayer | None = None
        if Stack.of(self).bundling_required:
            self._shipped = self._ship(recipe, model, user_code, function_code_bytes)
            recipe = self._shipped.recipe
            asset_hash = self._shipped.build.content_hash
            description = " ".join(self._shipped.build.lock)
        else:
            # Not bundled (cdk ls, unit tests): no network, no build, no lock; a stable stand-in hash.
            asset_hash = stand_in_key(recipe.requirements, target, recipe.slim)
            description = " ".join(recipe.requirements)
        self._slim = recipe.slim
        self._layer_version = self._create_layer_version(
            runtime, architecture, recipe, asset_hash, description
        )

    def _check_model(
        self, model: ModelArtifact, target: LambdaTarget, user_code: Sequence[Path]
    ) -> tuple[str, ...]:
        # Decidable from the model file alone, so every synth fails on it, bundled or not.
        requirements = layer_requirements(model, self.props.extra_requirements, target)
        self._warn_unknown_modules(model, user_code)
        for advisory in model.advisories:
            _warn_about(model, advisory)
        # A graph verified at synth needs no scikit-learn: the ONNX engine's layer (numpy + onnxruntime).
        self._engine = "onnx" if model.format == "onnx" else "sklearn"
        return requirements

    def _ship(
        self,
        recipe: LayerRecipe,
        model: ModelArtifact,
        user_code: Sequence[Path],
        function_code_bytes: int,
    ) -> ShippedLayer:
        # The lock is the app's (read only when bundling: an unbundled synth must not write one).
        shipped = ship_layer(
            replace(recipe, lock=lock_path()),
            bytecode_python=self.props.bytecode_python,
            modules=model.referenced,
            code_paths=user_code,
        )
        budget = shipped.build.budget(function_code_bytes)
        print(budget.render(f"cdk-sklearn: {self.node.path} ({self._target.describe()})"), file=sys.stderr)
        budget.check(self.props.extra_requirements)
        return shipped

    def _create_layer_version(
        self,
        runtime: lambda_.Runtime,
        architecture: lambda_.Architecture,
        recipe: LayerRecipe,
        asset_hash: str,
        description: str,
    ) -> lambda_.LayerVersion:
        code = lambda_.Code.from_asset(
            str(self._write_recipe(recipe.requirements, recipe.target, asset_hash, recipe.slim)),
            asset_hash=asset_hash,
            asset_hash_type=AssetHashType.CUSTOM,
            bundling=BundlingOptions(
                # Never pulled: local bundling always succeeds or raises.
                image=DockerImage.from_registry("cdk-sklearn-local-bundling-only"),
                local=_LocalLayerBundling(self._shipped),
            ),
        )
        target = recipe.target
        return lambda_.LayerVersion(
            self,
            "Layer",
            code=code,
            compatible_runtimes=[runtime],
            compatible_architectures=[architecture],
            description=_description(f"cdk-sklearn {target.runtime} {target.architecture}: {description}"),
        )

    @property
    def layer_version(self) -> lambda_.LayerVersion:
        """The Lambda layer version."""
        return self._layer_version

    @property
    def requirements(self) -> tuple[str, ...]:
        """The requirement strings (model pins, then extras) the layer is built from."""
        return self._requirements

    @property
    def engine(self) -> str:
        """``"sklearn"``, or ``"onnx"`` for a graph's layer (numpy + onnxruntime only)."""
        return self._engine

    @property
    def target(self) -> LambdaTarget:
        """The runtime and architecture the layer is built for."""
        return self._target

    @property
    def slim(self) -> bool:
        """True when the layer ships sourceless .pyc (see :mod:`cdk_sklearn.packaging.slim`)."""
        return self._slim

    @property
    def build(self) -> LayerBuild | None:
        """The built layer (lock, sizes), or ``None`` when the stack is not bundled."""
        return self._shipped.build if self._shipped is not None else None

    def _warn_unknown_modules(self, model: ModelArtifact, user_code: Sequence[Path]) -> None:
        shipped = {path.stem if path.is_file() else path.name for path in user_code}
        unknown = sorted(model.unknown_modules - shipped)
        if not unknown:
            return
        _warn_about(
            model,
            f"model {model.path.name} references modules {', '.join(unknown)} that cdk-sklearn does not know "
            "how to install; add their packages to extra_requirements, or ship your own modules with "
            "code_paths=[...], or the model will not load on Lambda",
        )

    @staticmethod
    def _write_recipe(
        requirements: tuple[str, ...], target: LambdaTarget, asset_hash: str, slim: bool
    ) -> Path:
        # The asset's source folder: a small description of the build, so skipped bundling stages
        # something meaningful and bundling has a real input folder.
        recipe = cache_root() / "recipes" / asset_hash
        recipe.mkdir(parents=True, exist_ok=True)
        content = {
            "requirements": list(requirements),
            "runtime": target.runtime,
            "architecture": target.architecture,
            "slim": slim,
        }
        (recipe / "recipe.json").write_text(json.dumps(content, indent=2) + "\n")
        return recipe


@jsii.implements(ILocalBundling)
class _LocalLayerBundling:
    """Bundles the layer on the synth machine: takes it from the cache (building it if missing)."""

    def __init__(self, shipped: ShippedLayer | None) -> None:
        self._shipped = shipped

    def try_bundle(self, output_dir: str, *_options: Any, **_keywords: Any) -> bool:
        # The construct already built and checked this layer; this only takes it from the cache.
        if self._shipped is None:
            raise RuntimeError("the layer was not built: this stack's synth skipped bundling")
        copy_layer(self._shipped.from_cache(), Path(output_dir))
        return True


def _warn_about(model: ModelArtifact, message: str) -> None:
    # Attributed to the model file: a stack level would point into jsii's runtime, which constructs
    # every construct, and tell the user nothing.
    warnings.warn_explicit(message, ModelDependencyWarning, filename=str(model.path), lineno=0)


def _description(text: str) -> str:
    return text if len(text) <= _DESCRIPTION_LIMIT else text[: _DESCRIPTION_LIMIT - 3] + "..."
