"""What synth decides about a model before any construct exists: its engine, and whether it fits."""

from __future__ import annotations

from dataclasses import dataclass

from cdk_sklearn.fit.check import Fit, check_fit
from cdk_sklearn.model.artifact import inspect_model
from cdk_sklearn.model.engine import EngineChoice, EngineError, choose_engine
from cdk_sklearn.model.skops_trust import check_trusted
from cdk_sklearn.model_function.props import ModelFunctionProps
from cdk_sklearn.packaging.model_check import layer_requirements
from cdk_sklearn.packaging.target import LambdaTarget


@dataclass(frozen=True)
class PreparedModel:
    """What synth decided about a model before any construct exists.

    Attributes
    ----------
    choice
        The engine and the file it serves.
    fit
        The memory and INIT estimates at the function's settings.
    """

    choice: EngineChoice
    fit: Fit

    def summary(self, memory_size: int) -> str:
        """The synth line: the engine and why, then memory and INIT against the settings."""
        return f"engine {self.choice.engine}; {self.choice.detail}; {self.fit.summary(memory_size)}"


def prepare_model(props: ModelFunctionProps, *, cold_start: str = "none") -> PreparedModel:
    """Inspect the model, decide its engine and check it fits the function, before any construct exists.

    Parameters
    ----------
    props
        The function's props.
    cold_start
        The cold-start strategy (``none``, ``provisioned``, ``snapstart``), or ``managed_instances`` for a
        function on Lambda Managed Instances: what INIT may take depends on it.

    Raises
    ------
    PropsError
        The file is not a model, a ``.skops`` file needs types ``skops_trusted_types`` leaves out, or
        ``memory_size`` is below the model's estimated peak (the message gives the value to set).
    EngineError
        ``engine="onnx"`` and the model cannot be served by the ONNX engine (the reason in one line).
    """
    choice = _choose_engine(props)
    # What would stop the layer (a model referencing __main__, nothing to install) fails here, before
    # any construct exists, instead of leaving half a tree behind.
    layer_requirements(
        choice.model, props.layer.extra_requirements, LambdaTarget(props.runtime, props.architecture)
    )
    fit = check_fit(
        choice.model,
        choice.engine,
        memory_size=props.memory_size,
        timeout_seconds=props.timeout_seconds,
        strategy=cold_start,
        owner=props.owner,
    )
    return PreparedModel(choice, fit)


def _choose_engine(props: ModelFunctionProps) -> EngineChoice:
    source = inspect_model(props.model_path)
    if source.format == "skops":
        # Types skops would refuse at load must fail here, not as a 503 after deploy.
        check_trusted(source.path, props.skops_trusted_types)
    try:
        return choose_engine(
            source,
            engine=props.engine,
            runtime=props.runtime,
            sample_input=props.sample_input,
            tolerance=props.onnx_tolerance,
            trusted_types=props.skops_trusted_types,
        )
    except EngineError as exc:
        raise EngineError(
            f"{props.owner}: engine={props.engine!r} cannot serve {props.model_path.name}: {exc}"
        ) from None
