"""The types every layer of the runtime shares: the loaded model, the model's input, the engine seam
and the load error.

The bottom of the runtime: it imports no engine, no store and no route, so the engines (:mod:`.engines`),
the store (:mod:`.store`), the predict step (:mod:`.predict`) and the entry points above them can all
name these types without importing each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .codec import Table
    from .config import Settings


class ModelLoadError(Exception):
    """The model could not be loaded.

    Parameters
    ----------
    public_message
        Shown to callers in 503 responses: says what is wrong and how to fix it, without bucket
        names, file paths or tracebacks.
    detail
        Logged only: everything an operator needs (URI, digests, exception text).
    retryable
        True when a later attempt may succeed (the file could not be fetched); False when the file
        itself is wrong (digest mismatch, not a model, cannot be deserialized).
    """

    def __init__(self, public_message: str, *, detail: str = "", retryable: bool = False) -> None:
        super().__init__(public_message)
        self.public_message = public_message
        self.detail = detail or public_message
        self.retryable = retryable


@dataclass(frozen=True)
class ModelInput:
    """What the engine calls its model with, its row count, and whether it holds missing values.

    The scikit-learn engine passes a float64 array or a pandas DataFrame; the ONNX engine a mapping
    of graph input names to arrays.
    """

    data: Any
    n_rows: int
    has_missing: bool


class Engine(Protocol):
    """What loads a verified model file and runs it; each operation takes the model it made."""

    name: str
    """``"sklearn"`` or ``"onnx"`` (:data:`contract.ENGINES`)."""

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


@dataclass(frozen=True)
class LoadedModel:
    """A verified, deserialized model, the engine serving it, and the facts requests and metadata need.

    Attributes
    ----------
    estimator
        What the engine runs: the scikit-learn estimator (or pipeline), or for ONNX an
        :class:`engines.onnx.OnnxModel` (the session and the graph's inputs and outputs).
    sha256
        Hex digest of the model file, equal to ``MODEL_SHA256``.
    file_format
        ``"joblib"``, ``"pickle"``, ``"skops"`` or ``"onnx"`` (``MODEL_FORMAT``).
    size_bytes
        Size of the model file.
    estimator_class
        Fully qualified class name, e.g. ``sklearn.pipeline.Pipeline``.
    n_features_in
        ``n_features_in_`` of the estimator, when it has one.
    feature_names_in
        ``feature_names_in_`` (the columns it was fitted on), when it was fitted on a DataFrame.
    classes
        ``classes_`` as JSON-ready values, for classifiers; one list per output for a multi-output
        classifier.
    methods
        The prediction methods this estimator has, among :data:`~lambda_runtime.contract.PREDICTION_METHODS`.
    load_warnings
        Warnings raised while deserializing (for example scikit-learn version mismatches).
    load_seconds
        Time spent fetching, verifying and deserializing.
    engine
        The engine that loaded the model and runs it.
    details
        Engine-specific facts ``/metadata`` reports (versions, the ONNX converter's record).
    input_specs
        The model's inputs as Open Inference Protocol tensors (``name``, ``datatype``, ``shape``) when
        the engine knows them (ONNX graphs declare them); ``None`` lets the protocol derive them.
    """

    estimator: Any
    sha256: str
    file_format: str
    size_bytes: int
    estimator_class: str
    n_features_in: int | None
    feature_names_in: tuple[str, ...] | None
    classes: list[Any] | None
    methods: tuple[str, ...]
    load_warnings: tuple[str, ...]
    load_seconds: float
    engine: Engine
    details: Mapping[str, Any] = field(default_factory=dict)
    input_specs: tuple[Mapping[str, Any], ...] | None = None

    @property
    def classes_per_output(self) -> list[list[Any]] | None:
        """The classes of each output of a multi-output classifier; ``None`` for one output.

        A multi-output classifier's scores (``predict_proba``) come as one array per output, each
        with a row per input row: the predict step regroups them by row from this declaration.
        """
        classes = self.classes
        if classes and all(isinstance(k, list) for k in classes):
            return classes
        return None
