"""Docker-less build of the scikit-learn Lambda layer.

Shared by ``SklearnLayer`` and ``cdk-sklearn layer build``.

One module per job: :mod:`.target` (what a Lambda runtime is), :mod:`.install` (resolve and install wheels
with pip), :mod:`.prune` (drop what never runs), :mod:`.bytecode` (compile .pyc for the target Python),
:mod:`.budget` (sizes against Lambda's limit), :mod:`.cache` (where builds are kept) and :mod:`.build`
(the pipeline).
"""

from __future__ import annotations
