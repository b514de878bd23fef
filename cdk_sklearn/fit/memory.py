"""The memory a model function needs at its peak, estimated at synth from the model file.

The peak is reached while the model loads: the engine's imports (the baseline), the downloaded file (one
buffer of its size, freed after loading), and the loaded model's arrays. Measured in the Lambda-shaped
userland (CPython 3.13, the layers synth builds, the runtime's own load path), the loaded arrays cost once
their size, and twice for scikit-learn's trees, whose ``Tree.__setstate__`` copies the node arrays it is
given before they are freed:

====================  =========  ==========  ================  ==========
model                 file (MB)  data (MB)   peak - baseline   estimate
====================  =========  ==========  ================  ==========
forest, 60 trees      13.1       13.0        40                39 + 10%
forest, compressed    2.7        13.0        30                29 + 10%
MLP 900x900x900       50.1       50.1        101               100 + 10%
logistic regression   0.0        0.0         0                 0 + 16
====================  =========  ==========  ================  ==========

With the ONNX engine the session holds the graph's weights once more; the conversion report's measured
``session_peak_rss_mb`` is used when it has one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from cdk_sklearn.fit.baselines import Baseline, baseline_for
from cdk_sklearn.model.artifact import ModelArtifact

MB = 1024 * 1024
HEADROOM_MB = 16.0
"""Request and response buffers, the runtime's own objects, a library's shared objects (XGBoost's and
LightGBM's measured 4-7 MB): what no file size shows."""
HEADROOM_SHARE = 0.10
"""And a tenth of the model's own share, for the allocator's slack on large arrays."""
MEMORY_STEP_MB = 64
"""The suggested ``memory_size`` is rounded up to this (Lambda takes any MB; 64 reads as a setting)."""
# Classes whose __setstate__ copies the arrays it is given (scikit-learn's trees, KD and ball trees):
# both copies are alive until the state is dropped.
_COPYING_MODULES = frozenset(
    # XGBoost's Booster parses its raw model into a model of about the same size.
    {"sklearn.tree._tree", "sklearn.neighbors._kd_tree", "sklearn.neighbors._ball_tree", "xgboost.core"}
)


@dataclass(frozen=True)
class MemoryEstimate:
    """The peak memory of a model function, in MB, and what it is made of.

    Attributes
    ----------
    baseline_mb
        The engine's imports (measured; see :mod:`cdk_sklearn.fit.baselines`).
    download_mb
        The model file as downloaded (one buffer, alive while the model loads).
    model_mb
        The loaded model's arrays (twice for scikit-learn's trees; the session for the ONNX engine).
    headroom_mb
        Buffers and slack no file shows.
    baseline
        The baseline used, with when and how it was measured.
    """

    baseline_mb: float
    download_mb: float
    model_mb: float
    headroom_mb: float
    baseline: Baseline

    @property
    def total_mb(self) -> int:
        """The estimated peak, rounded up to a whole MB."""
        return math.ceil(self.baseline_mb + self.download_mb + self.model_mb + self.headroom_mb)

    @property
    def suggested_memory_size(self) -> int:
        """The smallest ``memory_size`` to set: the peak rounded up to ``MEMORY_STEP_MB``, at least 128."""
        return max(128, math.ceil(self.total_mb / MEMORY_STEP_MB) * MEMORY_STEP_MB)

    def describe(self) -> str:
        """One line: the total and its parts."""
        return (
            f"about {self.total_mb} MB at peak: {self.baseline_mb:.0f} MB for the {self.baseline.key} "
            f"engine's imports + {self.download_mb:.0f} MB download + {self.model_mb:.0f} MB loaded model + "
            f"{self.headroom_mb:.0f} MB headroom"
        )


def estimate_memory(model: ModelArtifact, engine: str) -> MemoryEstimate:
    """The peak memory of a function serving ``model`` with ``engine`` (``sklearn`` or ``onnx``).

    Parameters
    ----------
    model
        The model file's inspection (with the ONNX engine, the verified graph).
    engine
        The engine that serves it.
    """
    baseline = baseline_for(engine, model)
    libraries = baseline.libraries_mb
    download = model.size_bytes / MB
    data = (model.data_bytes or model.size_bytes) / MB
    if engine == "onnx":
        loaded = _session_mb(model) or 2 * data
    else:
        loaded = data * (2 if model.referenced & _COPYING_MODULES else 1) + model.object_bytes / MB
    headroom = HEADROOM_MB + HEADROOM_SHARE * (download + loaded)
    return MemoryEstimate(baseline.rss_mb + libraries, download, loaded, headroom, baseline)


def _session_mb(model: ModelArtifact) -> float | None:
    """The session's memory measured at conversion, when the report records it."""
    if model.onnx_report is None or not model.onnx_report.is_file():
        return None
    try:
        report = json.loads(model.onnx_report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = report.get("session_peak_rss_mb") if isinstance(report, dict) else None
    return float(value) if isinstance(value, int | float) and value >= 0 else None
