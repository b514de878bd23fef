"""The layer a model ships with: one pipeline for :class:`cdk_sklearn.layer.SklearnLayer` and
``cdk-sklearn layer build``, so both give the same files for the same model, runtime and architecture.

The steps: find the bytecode interpreter, swap GPU-bound requirements for their CPU wheels
(:mod:`.cpu_wheels`), build (or take from the cache) the locked layer (:mod:`.build`), and rebuild it
slim (sourceless ``.pyc``, :mod:`.slim`) when the full layer is over :data:`AUTO_SLIM_BYTES` and an
interpreter can compile it. jsii-free: the CLI runs it without loading aws_cdk.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cdk_sklearn.packaging.build import LayerBuild, build_layer, resolve_bytecode
from cdk_sklearn.packaging.bytecode import Interpreter
from cdk_sklearn.packaging.cpu_wheels import WheelPlan, plan_cpu_wheels
from cdk_sklearn.packaging.target import LambdaTarget

AUTO_SLIM_BYTES = 230_000_000
"""A full layer larger than this is rebuilt slim (sourceless .pyc): Lambda's 262 MB limit counts the
function code too, and the headroom left must still fit the user's code_paths."""


@dataclass(frozen=True)
class LayerRecipe:
    """What decides a layer's files.

    Attributes
    ----------
    requirements
        The merged requirement strings (model pins, then extras).
    target
        The Lambda runtime and architecture.
    engine
        ``"sklearn"`` or ``"onnx"`` (numpy + onnxruntime only).
    slim
        Sourceless ``.pyc``; after :func:`ship_layer`, what was shipped (automatic slimming included).
    lock
        The lock file holding the layer's entry; ``None`` for the cache's private lock.
    """

    requirements: tuple[str, ...]
    target: LambdaTarget
    engine: str = "sklearn"
    slim: bool = False
    lock: Path | None = None


@dataclass(frozen=True)
class ShippedLayer:
    """A layer as it ships, and how to take it from the cache again.

    Attributes
    ----------
    build
        The built layer (files, sizes, lock).
    recipe
        The recipe it was built from, with ``slim`` as shipped.
    plan
        How its requirements were installed (CPU wheel substitutions).
    interpreter
        The CPython that compiled its ``.pyc``, or ``None``.
    auto_slimmed
        True when it was made slim because the full layer was over the threshold.
    """

    build: LayerBuild
    recipe: LayerRecipe
    plan: WheelPlan
    interpreter: Interpreter | None
    auto_slimmed: bool = False

    def from_cache(self) -> LayerBuild:
        """The same layer again (from the cache: no network, no closure check), e.g. for bundling."""
        return build_planned(self.plan, self.recipe, self.interpreter, log=lambda _line: None)


def ship_layer(
    recipe: LayerRecipe,
    *,
    bytecode_python: str | None = None,
    modules: Collection[str] = (),
    code_paths: Sequence[Path] = (),
    auto_slim_bytes: int | None = None,
    say: Callable[[str], None] | None = None,
) -> ShippedLayer:
    """Build (or take from the cache) the layer a model ships with.

    Parameters
    ----------
    recipe
        Requirements, target, engine, ``slim`` as asked, lock.
    bytecode_python
        The interpreter the user named for ``.pyc``; ``None`` finds one (see
        :func:`cdk_sklearn.packaging.build.resolve_bytecode`).
    modules, code_paths
        What the closure check requires (the model's referenced modules, the user's code paths).
    auto_slim_bytes
        The full layer size above which it ships slim; default :data:`AUTO_SLIM_BYTES`.
    say
        Where progress lines go (stderr by default).

    Returns
    -------
    ShippedLayer

    Raises
    ------
    ValueError, cdk_sklearn.packaging.lock.LockError, cdk_sklearn.packaging.closure.ClosureError
        As :func:`cdk_sklearn.packaging.build.build_layer`.
    """
    tell = say or (lambda line: print(line, file=sys.stderr))
    threshold = AUTO_SLIM_BYTES if auto_slim_bytes is None else auto_slim_bytes
    interpreter = resolve_bytecode(recipe.target, bytecode_python)
    plan = plan_cpu_wheels(recipe.requirements, recipe.target)
    for note in plan.notes:
        tell(f"cdk-sklearn: {note}")
    build = build_planned(plan, recipe, interpreter, log=tell, modules=modules, code_paths=code_paths)
    if recipe.slim or interpreter is None or build.layer_bytes <= threshold:
        return ShippedLayer(build, recipe, plan, interpreter)
    tell(
        f"cdk-sklearn: the layer is {build.layer_bytes / 1e6:.0f} MB, over {threshold / 1e6:.0f} MB: "
        "shipping it slim (sourceless .pyc; tracebacks keep file and line, not the source text)"
    )
    slim = replace(recipe, slim=True)
    build = build_planned(plan, slim, interpreter, log=tell, modules=modules, code_paths=code_paths)
    return ShippedLayer(build, slim, plan, interpreter, auto_slimmed=True)


def build_planned(
    plan: WheelPlan,
    recipe: LayerRecipe,
    interpreter: Interpreter | None,
    *,
    log: Callable[[str], None] | None = None,
    modules: Collection[str] = (),
    code_paths: Sequence[Path] = (),
) -> LayerBuild:
    """Build (or take from the cache) ``recipe``'s layer as ``plan`` installs it."""
    return build_layer(
        plan.requirements,
        recipe.target,
        interpreter,
        slim=recipe.slim,
        log=log,
        lock=recipe.lock,
        without_dependencies=plan.without_dependencies,
        modules=modules,
        code_paths=code_paths,
        engine=recipe.engine,
    )
