"""The contract's routes as (verb, path) pairs: what every front door must forward, read from
``lambda_runtime.contract`` (the runtime's own table), never from the construct."""

from __future__ import annotations

from lambda_runtime.contract import ROUTES

ROUTE_KEYS: tuple[tuple[str, str], ...] = tuple(
    (verb, route.path) for route in ROUTES for verb in route.verbs
)
