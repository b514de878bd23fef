"""The scikit-learn engine: joblib, pickle and skops files, run by the estimator itself.

Deserializing is safe only because :mod:`lambda_runtime.store` checked ``MODEL_SHA256`` first. ``.skops``
files are loaded with ``skops.io`` and an explicit list of trusted types, never with pickle.
scikit-learn, joblib and pandas are imported on first use, never by importing this module.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from typing import Any

import numpy as np

from ..codec import Table
from ..config import Settings
from ..contract import ENV_MODEL_SKLEARN_VERSION, PREDICTION_METHODS, SKOPS_FORMAT
from ..errors import BadRequest, ServiceUnavailable
from ..model import LoadedModel, ModelInput, ModelLoadError
from .checks import (
    PANDAS_MISSING,
    TAKES_NUMBERS,
    missing_refused,
    named_rows,
    numeric_rows,
    refuse_names,
    refused_cell,
)
from .sklearn_columns import (
    BOOL_TEXT,
    CATEGORIES,
    COLUMN_KINDS,
    ColumnKind,
    check_cell,
    column_kinds,
    takes,
)
from .sklearn_errors import missing_cell, value_refusal

_SCALARS = (str, int, float, bool)


class SklearnEngine:
    """Serves a scikit-learn estimator (or pipeline) unpickled by joblib or loaded by skops."""

    name = "sklearn"

    def load(self, data: bytes, settings: Settings, file_format: str) -> LoadedModel:
        """Deserialize the verified bytes with joblib (``joblib``/``pickle``) or skops (``skops``)."""
        # Record what unpickling warns about (InconsistentVersionWarning above all) under the default
        # filters. An "always" filter here would also turn on the DeprecationWarnings that SciPy and
        # scikit-learn raise and ignore while the unpickler imports them: about 100 ms of cold start.
        with warnings.catch_warnings(record=True) as caught:
            warnings.filterwarnings("always", category=UserWarning)
            try:
                if file_format == SKOPS_FORMAT:
                    estimator = _load_skops(data, settings.skops_trusted_types)
                else:
                    estimator = _load_joblib(data)
            except _DeserializeFailed as failed:
                raise _deserialize_error(failed, _training_version(settings, caught)) from None
        methods = tuple(m for m in PREDICTION_METHODS if _has(estimator, m))
        if not methods:
            raise ModelLoadError(
                f"the model file holds a {_class_name(estimator)}, which has none of the methods "
                f"{', '.join(PREDICTION_METHODS)}; save a fitted scikit-learn estimator or pipeline",
            )
        names = _feature_names_in(estimator)
        return LoadedModel(
            estimator=estimator,
            sha256=settings.model_sha256 or "",
            file_format=file_format,
            size_bytes=len(data),
            estimator_class=_class_name(estimator),
            n_features_in=_n_features_in(estimator),
            feature_names_in=names,
            classes=_classes(estimator),
            methods=methods,
            load_warnings=tuple(f"{w.category.__name__}: {w.message}" for w in caught),
            load_seconds=0.0,  # the store times the whole load
            engine=self,
            # Read once here, so each request to a DataFrame model is checked cell by cell for free.
            details={COLUMN_KINDS: column_kinds(estimator, len(names)) if names else None},
        )

    def prepare(self, table: Table, model: LoadedModel) -> ModelInput:
        """Turn ``table`` into the estimator's input, checking it against ``model``.

        Models fitted on a DataFrame (``feature_names_in_``) get a DataFrame with their columns in
        their order; others get a float64 array.
        """
        if model.feature_names_in is not None:
            rows = named_rows(table, model.feature_names_in)
            return _dataframe(rows, model.feature_names_in, model.details.get(COLUMN_KINDS))
        refuse_names(table, model.n_features_in)
        return numeric_rows(table.rows or [], model.n_features_in)

    def predict(self, model: LoadedModel, method: str, model_input: ModelInput) -> Any:
        """Call ``method`` on the estimator and return its raw result.

        Raises
        ------
        BadRequest
            The estimator refused the input (``ValueError``/``TypeError``: unknown category, NaN it
            cannot take...). Input checks already ran, so these are about the values themselves; the
            message names the row and column at fault when rerunning rows finds them
            (:mod:`.sklearn_errors`).
        """
        try:
            return self.call(model, method, model_input)
        except (ValueError, TypeError) as exc:

            def call(data: Any) -> Any:
                return getattr(model.estimator, method)(data)

            names = model.feature_names_in or ()
            if model_input.has_missing and "nan" in str(exc).lower():
                raise missing_refused(model, missing_cell(call, model_input, names)) from None
            short = model.estimator_class.rsplit(".", 1)[-1]
            raise value_refusal(exc, call, model_input, names, short) from None

    def call(self, model: LoadedModel, method: str, model_input: ModelInput) -> Any:
        """Call ``method`` on the estimator; its exceptions propagate."""
        return getattr(model.estimator, method)(model_input.data)

    def warm_up_input(self, model: LoadedModel) -> ModelInput | None:
        """A row of zeros: a DataFrame for named columns (needs pandas), else a float64 array."""
        names = model.feature_names_in
        if names is not None:
            try:
                import pandas as pd  # every request to this model builds a DataFrame
            except ImportError as exc:
                raise ModelLoadError(PANDAS_MISSING, detail=f"import pandas: {exc!r}") from None
            return ModelInput(pd.DataFrame([[0.0] * len(names)], columns=list(names)), 1, False)
        if model.n_features_in is not None:
            return ModelInput(np.zeros((1, model.n_features_in)), 1, False)
        return None

    def describe(self, model: LoadedModel) -> dict[str, Any]:
        """``engine`` and the scikit-learn version running the model."""
        return {"engine": self.name, "runtime_sklearn_version": _installed_sklearn_version()}


ENGINE = SklearnEngine()
"""The one instance the app uses."""


def _dataframe(
    rows: list[list[Any]], names: tuple[str, ...], kinds: tuple[ColumnKind | None, ...] | None
) -> ModelInput:
    """The DataFrame of ``rows``, each cell checked against what its column takes (``kinds``)."""
    has_missing = False
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            if cell is None:
                has_missing = True
            elif not isinstance(cell, _SCALARS):
                raise refused_cell(i, names[j], cell, takes(kinds, j, "single values"))
            elif isinstance(cell, float) and not math.isfinite(cell):
                if math.isinf(cell):
                    raise BadRequest(f"row {i}, column {names[j]!r} is infinite; send finite numbers")
                has_missing = True
            elif isinstance(cell, int) and not isinstance(cell, bool) and abs(cell) > 2**63:
                raise BadRequest(f"row {i}, column {names[j]!r} is too large; send numbers within 64 bits")
            elif kinds is not None and (kind := kinds[j]) is not None:
                check_cell(cell, kind, i, names[j])
    try:
        import pandas as pd
    except ImportError:
        raise ServiceUnavailable(PANDAS_MISSING) from None
    frame = pd.DataFrame(rows, columns=list(names))
    if has_missing:
        # A JSON null in a string column stays None in an object column, which imputers and encoders
        # fitted on pandas data (where a missing string is NaN) do not see as missing.
        frame = frame.where(frame.notna(), np.nan)
    for j, kind in enumerate(kinds or ()):
        if kind is not None:
            frame[names[j]] = _typed(frame[names[j]], kind.takes)
    return ModelInput(frame, len(rows), has_missing)


def _typed(column: Any, kind: str) -> Any:
    """``column`` with the dtype a DataFrame read by pandas would give a column that takes ``kind``.

    JSON and CSV carry no dtypes: a numeric column holding a bool or a number written as text is an
    object column, which scikit-learn converts but XGBoost and LightGBM refuse; their category columns
    must be pandas categories.
    """
    if kind == CATEGORIES:
        return column.astype("category")
    if kind != TAKES_NUMBERS or column.dtype.kind in "biuf":
        return column
    # An object column, or pandas 3's ``str`` column when every cell is text.
    typed = column.astype(object).map(
        lambda cell: BOOL_TEXT.get(cell, cell) if isinstance(cell, str) else cell
    )
    typed = typed.infer_objects()
    return typed.astype("float64") if typed.dtype.kind not in "biuf" else typed


def _load_joblib(data: bytes) -> Any:
    import joblib

    _preimport_sklearn()
    try:
        return joblib.load(io.BytesIO(data))
    except Exception as exc:
        raise _DeserializeFailed("joblib", exc) from None


class _DeserializeFailed(Exception):
    """Deserializing failed with ``error``; :func:`_deserialize_error` explains it to the caller."""

    def __init__(self, loader: str, error: BaseException) -> None:
        super().__init__(loader, error)
        self.loader = loader
        self.error = error


def _training_version(settings: Settings, caught: list[warnings.WarningMessage]) -> str | None:
    # MODEL_SKLEARN_VERSION comes from the construct's reading of the file; without it (a function
    # configured by hand), an estimator unpickled before the failure may have said which version
    # saved it (InconsistentVersionWarning).
    if settings.training_sklearn_version:
        return settings.training_sklearn_version
    for caught_warning in caught:
        version = getattr(caught_warning.message, "original_sklearn_version", None)
        if isinstance(version, str) and version:
            return version
    return None


def _installed_sklearn_version() -> str | None:
    try:
        import sklearn
    except ImportError:
        return None
    return str(sklearn.__version__)


def _deserialize_error(failed: _DeserializeFailed, trained_with: str | None) -> ModelLoadError:
    """Explain why the model did not deserialize, naming both versions when they differ.

    A model saved by another scikit-learn often fails on a private module or class that moved between
    versions (``No module named '_loss'``); naming that module would send the user looking for a
    package to install, when the fix is to match the versions.
    """
    exc = failed.error
    installed = _installed_sklearn_version()
    detail = (
        f"{failed.loader} load: {exc!r}; trained with scikit-learn {trained_with or 'unknown'}, "
        f"the function has {installed or 'none'}"
    )
    missing = exc.name if isinstance(exc, ModuleNotFoundError) and exc.name else None
    # A private top-level name ('_loss') is a compiled scikit-learn module pickled under its short
    # name: no package provides it, only the scikit-learn version that wrote it.
    of_sklearn = missing is not None and (missing.split(".")[0] == "sklearn" or missing.startswith("_"))
    third_party = missing is not None and not of_sklearn
    if installed and trained_with and trained_with != installed and not third_party:
        return ModelLoadError(
            f"the model was trained with scikit-learn {trained_with}, but the function has scikit-learn "
            f"{installed}, and the model does not load with it ({_cause(exc, installed)}); redeploy so "
            f"that the function's layer pins scikit-learn=={trained_with}, or retrain the model with "
            f"scikit-learn {installed} and deploy the new file",
            detail=detail,
        )
    if of_sklearn and installed and trained_with is None:
        return ModelLoadError(
            f"the model refers to the module {missing!r}, which scikit-learn {installed} in the function "
            "does not have, so it was probably saved with another scikit-learn version (not known here: "
            f"{ENV_MODEL_SKLEARN_VERSION} is not set); deploy it with the scikit-learn version it was "
            f"trained with, or retrain it with scikit-learn {installed}",
            detail=detail,
        )
    if missing is not None:
        return ModelLoadError(
            f"the model needs the Python module {missing!r}, which is not installed in the function; "
            "add the package that provides it to the layer",
            detail=detail,
        )
    if failed.loader == SKOPS_FORMAT:
        return ModelLoadError(
            f"the .skops model file could not be loaded ({type(exc).__name__}); check the skops and "
            "scikit-learn versions in the layer",
            detail=detail,
        )
    return ModelLoadError(
        f"the model file could not be deserialized with joblib ({type(exc).__name__}); check that it "
        "was saved with joblib.dump and that the layer's scikit-learn version matches the training one",
        detail=detail,
    )


def _cause(exc: BaseException, installed: str) -> str:
    name = getattr(exc, "name", None)
    if isinstance(exc, ModuleNotFoundError) and name:
        return f"it refers to the module {name!r}, which is not in scikit-learn {installed}"
    if isinstance(exc, AttributeError) and isinstance(name, str) and name:
        return f"it refers to {name!r}, which is not in scikit-learn {installed}"
    return f"{type(exc).__name__} while deserializing"


def _preimport_sklearn() -> None:
    # Import scikit-learn's core (and with it SciPy) from this shallow frame rather than letting the
    # unpickler do it from deep inside joblib's pure-Python unpickler and importlib: the same modules
    # measured 70-110 ms slower that way under CPython 3.13 (~15% of a cold start, benchmarks/).
    # Importing each module the pickle names up front as well gained nothing measurable.
    # A model of another library without scikit-learn: the unpickler imports what it needs.
    with contextlib.suppress(ImportError):
        import sklearn.base  # noqa: F401


def _load_skops(data: bytes, trusted: tuple[str, ...]) -> Any:
    try:
        import skops.io as sio
    except ImportError:
        raise ModelLoadError(
            "the model is a .skops file but skops is not installed in the function; add skops to the layer",
        ) from None
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:
        raise ModelLoadError(
            f"the .skops model file could not be read ({type(exc).__name__}); save it with skops.io.dump",
            detail=f"skops get_untrusted_types: {exc!r}",
        ) from None
    refused = sorted(set(untrusted) - set(trusted))
    if refused:
        raise ModelLoadError(
            f"the .skops model file contains types that are not trusted: {', '.join(refused)}; if you trust "
            "them, add them to SKOPS_TRUSTED_TYPES (comma-separated)",
        )
    try:
        return sio.loads(data, trusted=list(trusted) or None)
    except Exception as exc:
        raise _DeserializeFailed(SKOPS_FORMAT, exc) from None


def _has(estimator: Any, name: str) -> bool:
    # Pipelines expose methods through `available_if`, whose check can raise more than AttributeError.
    try:
        return callable(getattr(estimator, name, None))
    except Exception:
        return False


def _class_name(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _n_features_in(estimator: Any) -> int | None:
    try:
        value = getattr(estimator, "n_features_in_", None)
    except Exception:
        return None
    if isinstance(value, int) or _is_integer(value):
        return int(value)  # type: ignore[arg-type]  # a numpy integer
    return None


def _is_integer(value: Any) -> bool:
    try:
        import numpy as np

        return isinstance(value, np.integer)
    except ImportError:  # pragma: no cover
        return False


def _feature_names_in(estimator: Any) -> tuple[str, ...] | None:
    try:
        names = getattr(estimator, "feature_names_in_", None)
    except Exception:
        return None
    if names is None:
        return None
    return tuple(str(n) for n in names)


def _classes(estimator: Any) -> list[Any] | None:
    try:
        classes = getattr(estimator, "classes_", None)
    except Exception:
        return None
    if classes is None:
        return None
    if isinstance(classes, list):  # multi-output classifiers keep one array per output
        return [_to_list(c) for c in classes]
    return _to_list(classes)


def _to_list(values: Any) -> list[Any]:
    converted = values.tolist() if hasattr(values, "tolist") else list(values)
    return converted if isinstance(converted, list) else [converted]
