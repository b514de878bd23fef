"""The fit check a model function runs at synth: refuse a memory size below the estimate, warn on INIT."""

from __future__ import annotations

from dataclasses import dataclass

from cdk_sklearn.fit.init_time import InitEstimate, estimate_init, init_warning
from cdk_sklearn.fit.memory import MemoryEstimate, estimate_memory
from cdk_sklearn.model.artifact import ModelArtifact
from cdk_sklearn.validation import PropsError
from lambda_runtime import limits


@dataclass(frozen=True)
class Fit:
    """How a model function fits Lambda.

    Attributes
    ----------
    memory
        The peak memory estimate.
    init
        The INIT estimate at the function's memory size.
    warning
        Why the INIT may fail and what to do, or None.
    """

    memory: MemoryEstimate
    init: InitEstimate
    warning: str | None

    def summary(self, memory_size: int) -> str:
        """The synth line's part: memory against the setting, and INIT."""
        return (
            f"memory ~{self.memory.total_mb} MB of {memory_size} MB; INIT ~{self.init.total_seconds:.1f} s "
            "(estimates)"
        )


def check_fit(
    model: ModelArtifact,
    engine: str,
    *,
    memory_size: int,
    timeout_seconds: int,
    strategy: str,
    owner: str,
) -> Fit:
    """Estimate memory and INIT; refuse a ``memory_size`` the model cannot load in.

    Raises
    ------
    PropsError
        The model needs more than Lambda's largest function (10,240 MB on demand, 32,768 MB with
        ``strategy="managed_instances"``), or ``memory_size`` is below the estimated peak: Lambda would
        stop the function on every request (``Runtime exited with error: signal: killed``). The message
        gives the value to set.
    """
    memory = estimate_memory(model, engine)
    managed = strategy == "managed_instances"
    managed_top = limits.MANAGED_INSTANCES_MEMORY_MB[1]
    largest = managed_top if managed else limits.MEMORY_MB[1]
    if memory.suggested_memory_size > largest:
        beyond = (
            ""
            if managed or memory.suggested_memory_size > managed_top
            else f", compute='managed_instances' (functions of up to {managed_top} MB)"
        )
        where = "on Lambda Managed Instances" if managed else "on demand"
        raise PropsError(
            owner,
            "model_path",
            str(model.path),
            f"a model that fits a Lambda function: {model.path.name} on the {engine} engine needs "
            f"{memory.describe()}, more than the {largest} MB Lambda's largest function has {where}. Try "
            f"engine='auto' (the ONNX engine holds the model once){beyond}, a smaller model, or batch "
            "scoring on SageMaker",
        )
    if memory_size < memory.total_mb:
        raise PropsError(
            owner,
            "memory_size",
            memory_size,
            f"at least {memory.suggested_memory_size} for {model.path.name} on the {engine} engine, which "
            f"needs {memory.describe()}; below that Lambda stops the function on every request "
            "(Runtime exited with error: signal: killed). "
            f"Set memory_size={memory.suggested_memory_size} or more",
        )
    init = estimate_init(model, engine, memory_size)
    warning = init_warning(init, strategy=strategy, timeout_seconds=timeout_seconds, memory_size=memory_size)
    return Fit(memory, init, warning)
