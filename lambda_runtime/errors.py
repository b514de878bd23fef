"""HTTP errors raised anywhere in the runtime and turned into responses in one place (``app``).

Each error carries a message written for the API caller: what is wrong, the value received, and how
to fix it. Nothing else is ever shown to the caller; unexpected exceptions become a generic 500.
"""

from __future__ import annotations


class HttpError(Exception):
    """An error with an HTTP status and a message safe to show to the caller.

    Parameters
    ----------
    status
        The HTTP status code of the response.
    message
        What went wrong and how to fix it; sent as ``{"error": message}``.
    headers
        Extra response headers (for example ``Allow`` on a 405).
    """

    status: int = 500

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})


class BadRequest(HttpError):
    """400: the request is malformed or does not fit the model."""

    status = 400


class NotFound(HttpError):
    """404: no such route (or no such model name on the inference-protocol routes)."""

    status = 404


class MethodNotAllowed(HttpError):
    """405: the route exists but not for this HTTP verb; ``Allow`` lists the verbs it takes."""

    status = 405

    def __init__(self, message: str, *, allowed: tuple[str, ...]) -> None:
        super().__init__(message, headers={"Allow": ", ".join(allowed)})


class NotAcceptable(HttpError):
    """406: the ``Accept`` header asks for a representation this endpoint cannot produce."""

    status = 406


class PayloadTooLarge(HttpError):
    """413: the request body is larger than ``MAX_BODY_BYTES``."""

    status = 413


class UnsupportedMediaType(HttpError):
    """415: the ``Content-Type`` of the body is not one this route reads."""

    status = 415


class ServiceUnavailable(HttpError):
    """503: the model is not loaded (not configured, failed verification, or failed to load)."""

    status = 503
