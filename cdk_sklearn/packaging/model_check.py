"""What a layer can be built for, decided from the model file alone (no construct, no jsii).

The construct runs these checks before it creates anything (a failure leaves no half-built tree), and the
layer runs them again when it is made on its own; ``cdk-sklearn layer build`` reaches them through the
layer pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdk_sklearn.model.artifact import ModelArtifact
from cdk_sklearn.packaging.build import merge_requirements
from cdk_sklearn.packaging.closure import ClosureError, script_problems
from cdk_sklearn.packaging.target import LambdaTarget


def layer_requirements(
    model: ModelArtifact, extra_requirements: Sequence[str], target: LambdaTarget
) -> tuple[str, ...]:
    """The requirements of the layer that serves ``model`` on ``target``, or the reason there is none.

    Raises
    ------
    ValueError
        The model references no package a layer could provide, or it is an ONNX graph and the runtime is
        older than python3.12.
    ClosureError
        The model cannot load on Lambda whatever the layer holds (it references ``__main__``, ...).
    """
    requirements = merge_requirements(model.requirements, extra_requirements)
    if not requirements:
        raise ValueError(
            f"model {model.path} references no package the layer could provide (modules: "
            f"{', '.join(sorted(model.modules))}); pass extra_requirements=[...] to say what it needs"
        )
    script = script_problems(model.referenced)
    if script:
        raise ClosureError(f"model {model.path.name} cannot be loaded on Lambda: {script[0]}")
    if model.format == "onnx" and target.version_tuple < (3, 12):
        raise ValueError(
            f"model {model.path.name} is served by the ONNX engine, whose layer needs python3.12 or "
            f"newer: {target.runtime} runs on Amazon Linux 2, whose glibc 2.26 cannot load current "
            "onnxruntime wheels; set runtime='python3.13'"
        )
    return requirements
