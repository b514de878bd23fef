"""What is inside a fitted model, as far as conversion cares: its members, its name, what to refuse.

Nothing here imports a converter: these run on the loaded model before any conversion.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from cdk_sklearn.model.onnx.errors import ConversionError


def _children(estimator: Any) -> Iterator[Any]:
    for step in getattr(estimator, "steps", None) or ():
        yield step[1]
    for item in getattr(estimator, "transformers_", None) or ():
        yield item[1]
    for item in getattr(estimator, "transformer_list", None) or ():
        yield item[1]
    estimators = getattr(estimator, "estimators_", None)
    if isinstance(estimators, list | tuple):
        for item in estimators:
            if isinstance(item, list | tuple | np.ndarray):
                yield from item
            else:
                yield item
    for name in ("final_estimator_", "estimator_"):
        child = getattr(estimator, name, None)
        if child is not None:
            yield child
    for calibrated in getattr(estimator, "calibrated_classifiers_", None) or ():
        yield calibrated.estimator


def walk(estimator: Any) -> Iterator[Any]:
    """Yield ``estimator`` and every fitted estimator inside it (pipeline steps, transformers, members)."""
    stack, seen = [estimator], set()
    while stack:
        current = stack.pop()
        if id(current) in seen or isinstance(current, str) or current is None:
            continue
        seen.add(id(current))
        yield current
        stack.extend(reversed(list(_children(current))))


def describe(estimator: Any) -> str:
    """A short name: the class, or ``Pipeline(StepA, StepB)`` for a pipeline."""
    steps = getattr(estimator, "steps", None)
    if steps:
        return f"{type(estimator).__name__}({', '.join(describe(s[1]) for s in steps)})"
    return type(estimator).__name__


def refuse_unsafe(model: Any) -> None:
    """Raise :class:`ConversionError` for features converters are known to get silently wrong.

    HistGradientBoosting with native categorical features: its category bitsets have no faithful
    counterpart in the converters, so the graph would answer, and answer differently.
    """
    for estimator in walk(model):
        categorical = getattr(estimator, "is_categorical_", None)
        if categorical is not None and bool(np.any(categorical)):
            raise ConversionError(
                f"{type(estimator).__name__} uses native categorical features (categorical_features="
                f"{getattr(estimator, 'categorical_features', None)!r}); ONNX converters do not reproduce "
                "its categorical splits. Encode the categories before it (OrdinalEncoder or OneHotEncoder "
                "in a ColumnTransformer) and pass categorical_features=None, or serve it with the "
                "scikit-learn engine"
            )


def final_estimator(model: Any) -> Any:
    """The last step of a pipeline (of the last step, recursively), or ``model`` itself."""
    steps = getattr(model, "steps", None)
    return final_estimator(steps[-1][1]) if steps else model


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value JSON can hold; anything else unchanged."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def public_class_name(estimator: Any) -> str:
    """The estimator's class by the import path users know (no private module in it)."""
    # sklearn.ensemble._forest.RandomForestClassifier -> sklearn.ensemble.RandomForestClassifier:
    # the import path users know, not the private module that happens to define the class.
    parts = type(estimator).__module__.split(".")
    public = [part for part in parts if not part.startswith("_")] or parts[:1]
    return ".".join([*public, type(estimator).__qualname__])


def mlp_weights(model: Any) -> int | None:
    """How many weights the model's multi-layer perceptron holds (``coefs_``), or ``None`` for another model.

    ``engine="auto"`` reads it from the report: a wide MLP runs slower warm on onnxruntime's one thread
    than on scikit-learn (see :mod:`cdk_sklearn.model.engine`).
    """
    final = final_estimator(model)
    coefs = getattr(final, "coefs_", None)
    if coefs is None:
        return None
    return int(sum(np.asarray(layer).size for layer in coefs))
