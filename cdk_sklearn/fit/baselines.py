"""The measured baselines of each engine: what a function costs before its model is loaded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from cdk_sklearn.model.artifact import ModelArtifact


@dataclass(frozen=True)
class Baseline:
    """One engine's cost before the model: peak RSS (MB) and import time (s, at one full vCPU).

    Attributes
    ----------
    key
        ``sklearn``, ``sklearn+pandas`` (a model fitted on named columns imports pandas too) or ``onnx``.
    rss_mb
        Peak resident memory after the engine's imports.
    import_seconds
        The imports' time at about one full vCPU.
    measured
        When and how the figures were measured (the data file's own words).
    libraries_mb
        What the model's own native libraries add when they load (XGBoost's, LightGBM's).
    """

    key: str
    rss_mb: float
    import_seconds: float
    measured: str
    libraries_mb: float = 0.0


@cache
def _data() -> dict[str, Any]:
    text = resources.files("cdk_sklearn.fit").joinpath("baselines.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def baseline_for(engine: str, model: ModelArtifact) -> Baseline:
    """The baseline of ``engine`` (``sklearn`` or ``onnx``) serving ``model``."""
    key = "onnx" if engine == "onnx" else ("sklearn+pandas" if model.named_columns else "sklearn")
    data = _data()
    figures = data["engines"][key]
    extra = data.get("libraries", {})
    # The native or pure-Python libraries the model loads with: those it references, and skops, whose
    # loader reads a .skops file.
    loads_with = model.modules | ({"skops"} if model.format == "skops" else set())
    libraries = 0.0 if engine == "onnx" else sum(float(extra[m]) for m in sorted(loads_with & set(extra)))
    return Baseline(
        key=key,
        rss_mb=float(figures["rss_mb"]),
        import_seconds=float(figures["import_seconds"]),
        measured=f"{data['measured']}: {data['how']}",
        libraries_mb=libraries,
    )
