"""Response helpers: content types, the 413 for answers Lambda could not return, the last-resort 500."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from . import contract as c
from .codec import encode_json
from .errors import PayloadTooLarge
from .events import build_response, request_id_of

JSON_TYPE = "application/json"
CSV_TYPE = "text/csv; charset=utf-8"
INTERNAL_ERROR = (
    "internal error while handling the request; it has been logged. Quote the request_id when reporting it"
)
# Lambda counts the whole response object as its runtime serializes it, not just the body; keep a
# margin below the limit for differences in how it writes the JSON (separators, key order).
_RESPONSE_MARGIN_BYTES = 4096
_RESPONSE_BUDGET_BYTES = c.SYNC_PAYLOAD_LIMIT_BYTES - _RESPONSE_MARGIN_BYTES
MEASURE_BODY_FROM = (_RESPONSE_BUDGET_BYTES - _RESPONSE_MARGIN_BYTES) // 12
"""Bodies up to this length always fit, so only larger ones are serialized to be measured.

json.dumps writes at most 12 characters for one character of the body (a character outside the Basic
Multilingual Plane becomes two \\uXXXX escapes), and the headers fit in the margin: this keeps the check
off the warm path of ordinary responses."""

Response = tuple[int, str | bytes, str, Mapping[str, str]]
"""status, body (bytes are sent base64-encoded), content type, extra headers."""


def check_response_size(response: dict[str, Any], rows: int | None) -> None:
    """Refuse (413) a response Lambda would reject as larger than a synchronous response may be.

    Raises
    ------
    PayloadTooLarge
        The serialized response is over :data:`contract.SYNC_PAYLOAD_LIMIT_BYTES` less a margin.
    """
    # Measured as the Lambda runtime serializes it: the whole object, the body escaped as a JSON
    # string (ASCII-only, so characters are bytes).
    size = len(json.dumps(response))
    if size <= _RESPONSE_BUDGET_BYTES:
        return
    message = (
        f"the response would be {size} bytes, over the {c.SYNC_PAYLOAD_LIMIT_BYTES}-byte limit of a "
        "synchronous Lambda response"
    )
    if rows:
        # The fixed part of the response is counted in every row: a slight underestimate, never over.
        fit = _RESPONSE_BUDGET_BYTES * rows // size
        per_row = -(-size // rows)
        if fit:
            message += f"; at about {per_row} bytes per row, send at most {fit} rows per request"
        else:
            message += f"; one row's answer alone is about {per_row} bytes"
    else:
        message += "; ask for less in one request"
    raise PayloadTooLarge(message)


def safe_request_id(event: Any, context: Any) -> str:
    """The event's request id, or ``"unknown"`` when even that cannot be read."""
    try:
        return request_id_of(event, context)
    except Exception:
        return "unknown"


def internal_error_response(request_id: str) -> dict[str, Any]:
    """The 500 response, built so that it cannot fail."""
    try:
        return build_response(
            500,
            encode_json({"error": INTERNAL_ERROR, "request_id": request_id}),
            content_type=JSON_TYPE,
            request_id=request_id,
        )
    except Exception:  # pragma: no cover - last resort: a constant response
        return {
            "statusCode": 500,
            "headers": {"Content-Type": JSON_TYPE},
            "body": '{"error":"internal error"}',
        }
