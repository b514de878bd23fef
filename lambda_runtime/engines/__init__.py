"""Engines: what loads a verified model file and runs it. The app talks to this interface only.

* ``sklearn`` (:mod:`.sklearn`): joblib, pickle and skops files, run by scikit-learn itself;
* ``onnx`` (:mod:`.onnx`): a graph converted at synth, run by onnxruntime, without scikit-learn,
  SciPy, pandas or joblib in the function.

:data:`contract.ENGINES` maps ``MODEL_FORMAT`` to the engine. Only the chosen engine's module is
imported: every import is paid on each cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ..contract import ENGINES

if TYPE_CHECKING:
    from ..codec import Table
    from ..config import Settings
    from ..inference import ModelInput
    from ..model_store import LoadedModel


class Engine(Protocol):
    """The operations the app needs from an engine; each takes the :class:`LoadedModel` it made."""

    name: str

    def load(self, data: bytes, settings: Settings, file_format: str) -> LoadedModel:
        """Deserialize verified model bytes (``MODEL_SHA256`` already checked).

        Raises
        ------
        ModelLoadError
            The bytes are not a model this engine can serve; the message says how to fix it.
        """
        ...

    def prepare(self, table: Table, model: LoadedModel) -> ModelInput:
        """Check ``table`` against the model (400 on any mistake) and build the model's input."""
        ...

    def predict(self, model: LoadedModel, method: str, model_input: ModelInput) -> Any:
        """Run ``method`` (one of ``model.methods``); a refusal of the values is a 400."""
        ...

    def call(self, model: LoadedModel, method: str, model_input: ModelInput) -> Any:
        """Run ``method`` as :meth:`predict` does, but let the model's own exceptions through.

        The warm-up uses it to tell a missing dependency from data the model refuses.
        """
        ...

    def warm_up_input(self, model: LoadedModel) -> ModelInput | None:
        """One row of zeros (or empty strings) to call the model with at init; ``None`` to skip.

        Raises
        ------
        ModelLoadError
            The model can never predict here (a dependency is missing).
        """
        ...

    def describe(self, model: LoadedModel) -> dict[str, Any]:
        """Engine-specific fields of ``/metadata`` (``engine`` and the versions that run the model)."""
        ...


def engine_for_format(file_format: str) -> Engine:
    """The engine serving ``file_format`` (``MODEL_FORMAT``); scikit-learn's when unknown."""
    return engine_named(ENGINES.get(file_format, "sklearn"))


def engine_named(name: str) -> Engine:
    """The engine called ``name`` (``LoadedModel.engine``), importing its module on first use."""
    if name == "onnx":
        from .onnx import ENGINE as onnx_engine

        return onnx_engine
    from .sklearn import ENGINE as sklearn_engine

    return sklearn_engine
