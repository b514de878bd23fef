"""Convert a scikit-learn model to ONNX on the deployer's machine and prove the graph answers like it.

The ONNX engine serves a graph with onnxruntime instead of unpickling the model in Lambda. That is only
worth having if the graph gives the answers scikit-learn gives, so :func:`convert` never returns a graph
it has not checked: every row of a sample the user provides, plus edge rows built from it (an unseen
category, NaN, values ten times beyond the sample's range), goes through the original model and through
onnxruntime, and the two must agree. Any failure of the converter or of onnxruntime is a one-line
:class:`ConversionError`, never a traceback.

The stages, bottom to top: :mod:`.settings` and :mod:`.errors`; :mod:`.estimators` (what is inside a
model); :mod:`.loading` (the model file and the sample); :mod:`.report` (the result, its tolerances and
its report file); :mod:`.custom` and :mod:`.trees` (converters written here); :mod:`.converters`
(registrations, casts, output types) and :mod:`.conversion` (skl2onnx, the session); :mod:`.verify`
(sample and edge rows); :mod:`.metadata` (the record in the graph); :mod:`.cost` (session time and
memory, measured once); :mod:`.orchestrate` (:func:`convert`). Callers import from this package only.

It needs cdk-sklearn's ``onnx`` extra (the packages and version ranges of ``pyproject.toml``'s
``onnx`` optional dependencies; :func:`cdk_sklearn.distribution.install_extra` prints the pip command);
skl2onnx, onnx and onnxruntime are imported inside the functions, so importing this package does not
load them.
"""

from __future__ import annotations

from cdk_sklearn.model.onnx.errors import ConversionError, VerificationError
from cdk_sklearn.model.onnx.loading import Sample, load_model, load_sample
from cdk_sklearn.model.onnx.orchestrate import convert
from cdk_sklearn.model.onnx.report import (
    ConversionResult,
    EdgeCase,
    GraphInput,
    GraphOutputs,
    Tolerance,
    report_path,
)
from cdk_sklearn.model.onnx.settings import (
    CONVERTER_DISTRIBUTIONS,
    DEFAULT_RTOL,
    DEFAULT_TOLERANCE,
    TARGET_OPSET,
)

__all__ = [
    "CONVERTER_DISTRIBUTIONS",
    "DEFAULT_RTOL",
    "DEFAULT_TOLERANCE",
    "TARGET_OPSET",
    "ConversionError",
    "ConversionResult",
    "EdgeCase",
    "GraphInput",
    "GraphOutputs",
    "Sample",
    "Tolerance",
    "VerificationError",
    "convert",
    "load_model",
    "load_sample",
    "report_path",
]
