"""AWS Lambda entry point: ``lambda_runtime.handler.handler``.

The model is fetched, verified and loaded here, at import time, so that provisioned concurrency and
SnapStart capture a ready model and no request pays for it. Importing this module never raises: without
a usable model the handler answers 503 saying why.
"""

from __future__ import annotations

import gc
import os

from .processes import one_thread_per_process

# Before anything loads numpy: on managed instances each of the environment's worker processes keeps
# to one thread (see processes.py); on demand this changes nothing.
_THREADS_REPLACED = one_thread_per_process(os.environ)

# Init allocates hundreds of thousands of long-lived objects (numpy, scikit-learn, SciPy, the model)
# and frees almost none, so cyclic collections during it only cost time: about 5% of a cold start
# (benchmarks/). Afterwards gc.freeze() moves them out of the collector's sight, so requests never
# pay for traversing the model's object graph.
gc.disable()
try:
    from typing import Any

    from .app import App, create_app
    from .contract import BATCH_EVENT_KEY
    from .snapstart import register_hooks

    APP: App = create_app()
    if _THREADS_REPLACED:
        APP.logger.warning(
            "one thread per worker process on managed instances: thread settings overridden",
            replaced=_THREADS_REPLACED,
        )
    register_hooks(APP)
finally:
    gc.freeze()
    gc.enable()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one API Gateway (REST or HTTP API) or Function URL event, or one batch event."""
    if isinstance(event, dict) and BATCH_EVENT_KEY in event:
        # Batch work on the endpoint's alias, with the model already loaded; boto3 is imported
        # only then, never on the request path.
        from .batch import handle_batch

        return handle_batch(event, APP.current_model)
    return APP.handle(event, context)
