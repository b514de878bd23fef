"""Engines: what loads a verified model file and runs it (the :class:`~lambda_runtime.model.Engine` seam).

* ``sklearn`` (:mod:`.sklearn`): joblib, pickle and skops files, run by scikit-learn itself;
* ``onnx`` (:mod:`.onnx`): a graph converted at synth, run by onnxruntime, without scikit-learn,
  SciPy, pandas or joblib in the function.

The store (:mod:`lambda_runtime.store`) picks the engine from ``MODEL_FORMAT``
(:data:`contract.ENGINES`) and imports only that engine's module: every import is paid on each cold
start. This package imports nothing, so importing one engine never imports the other; the engines
import only the shared types (:mod:`lambda_runtime.model`), their checks (:mod:`.checks`), the codec,
the errors, the contract and the settings.
"""
