"""The one shape of a props error: which prop, the value received, and what is allowed."""

from __future__ import annotations

import math


def invalid(prop: str, value: object, allowed: str, *, owner: str = "SklearnLambdaEndpoint") -> ValueError:
    """Return a ``ValueError`` reading ``<owner>: <prop>=<value> is invalid; allowed: <allowed>``."""
    return ValueError(f"{owner}: {prop}={value!r} is invalid; allowed: {allowed}")


def check_int(
    prop: str, value: object, low: int, high: int | None = None, *, owner: str = "SklearnLambdaEndpoint"
) -> int:
    """Return ``value`` if it is an integer in ``[low, high]``, else raise :func:`invalid`.

    ``bool`` is refused although it is an ``int``: ``True`` for a memory size is a typo.
    """
    ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):  # type: ignore[operator]
        allowed = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"
        raise invalid(prop, value, allowed, owner=owner)
    return value  # type: ignore[return-value]


def check_positive_number(
    prop: str, value: object, high: float | None = None, *, owner: str = "SklearnLambdaEndpoint"
) -> float:
    """Return ``value`` as a float if it is a finite number > 0 (and <= ``high``), else raise."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    if not ok or (high is not None and value > high):  # type: ignore[operator]
        allowed = f"a number > 0 and <= {high:g}" if high is not None else "a number > 0"
        raise invalid(prop, value, allowed, owner=owner)
    return float(value)  # type: ignore[arg-type]
