"""The one shape of a props error: which prop, the value received, and what is allowed."""

from __future__ import annotations


def invalid(prop: str, value: object, allowed: str, *, owner: str = "SklearnLambdaEndpoint") -> ValueError:
    """Return a ``ValueError`` reading ``<owner>: <prop>=<value> is invalid; allowed: <allowed>``."""
    return ValueError(f"{owner}: {prop}={value!r} is invalid; allowed: {allowed}")
