"""Will it fit Lambda? The memory and INIT estimates of a model function, made at synth.

A function that needs more memory than it has is killed on every request (``Runtime exited with error:
signal: killed``), and one whose INIT takes longer than Lambda allows is restarted until it gives up. Both
are decided by the model file and the settings, so both are estimated before anything is deployed:
:mod:`~cdk_sklearn.fit.memory` (refuses a ``memory_size`` below the estimate, with the value to set) and
:mod:`~cdk_sklearn.fit.init_time` (warns, naming the fixes). Their inputs are the engine's baseline, measured
in the Lambda-shaped userland and kept as data (``baselines.json``, with the date it was measured), and what
static inspection of the model file found (:attr:`~cdk_sklearn.model.artifact.ModelArtifact.data_bytes`).
"""
