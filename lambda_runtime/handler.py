"""AWS Lambda entry point: ``lambda_runtime.handler.handler``.

The model is fetched, verified and loaded here, at import time, so that provisioned concurrency and
SnapStart capture a ready model and no request pays for it. Importing this module never raises: without
a usable model the handler answers 503 saying why.
"""

from __future__ import annotations

from typing import Any

from .app import App, create_app
from .snapstart import register_hooks

APP: App = create_app()
register_hooks(APP)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one API Gateway (REST or HTTP API) or Function URL event."""
    return APP.handle(event, context)
