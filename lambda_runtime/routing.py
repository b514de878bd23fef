"""Match a request's path against the contract's routes (with the optional route prefix and stage).

Generic over what a route is bound to, so the app keeps its handlers and this module knows none of them.
"""

from __future__ import annotations

from typing import TypeVar

from .contract import Route
from .errors import NotFound
from .events import Request

H = TypeVar("H")
Bound = tuple[Route, H]
"""A contract route and what answers it."""


def match(
    request: Request, routes: tuple[Bound[H], ...], prefix: tuple[str, ...] = ()
) -> tuple[Bound[H], dict[str, str]]:
    """The route ``request`` names and the path parameters it binds.

    Raises
    ------
    NotFound
        No route matches; the message lists them.
    """
    segments = _segments(request.path)
    # On an API shared by several models this model's routes sit under its prefix.
    if prefix:
        if segments[: len(prefix)] != list(prefix):
            raise NotFound(
                f"no route {request.path[:100]!r}; this model's routes are under /{'/'.join(prefix)}/"
            )
        segments = segments[len(prefix) :]
    found = _find(routes, segments)
    # HTTP APIs on a named stage keep the stage in rawPath; REST APIs do not. Try both.
    if found is None and request.stage and segments[:1] == [request.stage]:
        found = _find(routes, segments[1:])
    if found is None:
        listed = ", ".join(f"{'|'.join(r.verbs)} {r.path}" for r, _ in routes)
        raise NotFound(f"no route {request.path[:100]!r}; the routes are {listed}")
    return found


def _segments(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def _find(routes: tuple[Bound[H], ...], segments: list[str]) -> tuple[Bound[H], dict[str, str]] | None:
    for bound in routes:
        template = bound[0].segments
        if len(template) != len(segments):
            continue
        params: dict[str, str] = {}
        for want, got in zip(template, segments, strict=True):
            if want.startswith("{"):
                params[want[1:-1]] = got
            elif want != got:
                break
        else:
            return bound, params
    return None
