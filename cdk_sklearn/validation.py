"""The one shape of a props error, and the checks every props type is built from.

Every error a user can get from a prop reads ``<owner>: <prop>=<value> is invalid; allowed: <allowed>``:
which construct, which prop, the value received and what would be accepted. Props types raise
:class:`PropsError`; a construct that composes another's props (the endpoint composes the front door's,
the monitoring's, ...) re-labels the error with its own name and the user's prop name
(:meth:`PropsError.relabel`) instead of checking the value again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self, TypeVar, cast

P = TypeVar("P")


class PropsError(ValueError):
    """A prop has a value its owner cannot build.

    Parameters
    ----------
    owner
        The construct (or props type) whose prop it is, e.g. ``SklearnLambdaEndpoint``.
    prop
        The prop's name as the user wrote it (``cold_start.min`` for a nested one).
    value
        The value received.
    allowed
        What would be accepted, written for the user.
    """

    def __init__(self, owner: str, prop: str, value: object, allowed: str) -> None:
        super().__init__(f"{owner}: {prop}={_shown(value)} is invalid; allowed: {allowed}")
        self.owner = owner
        self.prop = prop
        self.value = value
        self.allowed = allowed

    def relabel(self, owner: str, names: Mapping[str, str] | None = None, prefix: str = "") -> PropsError:
        """The same error as seen from ``owner``, whose prop for this one is ``names[prop]`` (or
        ``prefix + prop``)."""
        prop = (names or {}).get(self.prop, prefix + self.prop)
        return PropsError(owner, prop, self.value, self.allowed)


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def invalid(prop: str, value: object, allowed: str, *, owner: str = "SklearnLambdaEndpoint") -> PropsError:
    """Return the :class:`PropsError` for ``prop`` (raise it)."""
    return PropsError(owner, prop, value, allowed)


def check_int(
    prop: str, value: object, low: int, high: int | None = None, *, owner: str = "SklearnLambdaEndpoint"
) -> int:
    """Return ``value`` if it is an integer in ``[low, high]``, else raise :class:`PropsError`.

    ``bool`` is refused although it is an ``int``: ``True`` for a memory size is a typo.
    """
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < low
        or (high is not None and value > high)
    ):
        allowed = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"
        raise invalid(prop, value, allowed, owner=owner)
    return value


def check_positive_number(
    prop: str, value: object, high: float | None = None, *, owner: str = "SklearnLambdaEndpoint"
) -> float:
    """Return ``value`` as a float if it is a finite number > 0 (and <= ``high``), else raise."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    if not ok or (high is not None and float(value) > high):  # type: ignore[arg-type]
        allowed = f"a finite number > 0 and <= {high:g}" if high is not None else "a finite number > 0"
        raise invalid(prop, value, allowed, owner=owner)
    return float(value)  # type: ignore[arg-type]


def check_choice(
    prop: str, value: object, choices: Sequence[str], *, owner: str = "SklearnLambdaEndpoint"
) -> str:
    """Return ``value`` if it is one of ``choices``, else raise."""
    if not isinstance(value, str) or value not in choices:
        raise invalid(prop, value, ", ".join(choices), owner=owner)
    return value


def check_bool(prop: str, value: object, *, owner: str = "SklearnLambdaEndpoint") -> bool:
    """Return ``value`` if it is ``True`` or ``False``, else raise."""
    if not isinstance(value, bool):
        raise invalid(prop, value, "True or False", owner=owner)
    return value


def check_strings(
    prop: str, value: object, *, owner: str = "SklearnLambdaEndpoint", what: str = "a list of strings"
) -> tuple[str, ...]:
    """Return ``value`` as a tuple if it is a list of non-empty strings (not one string), else raise."""
    if (
        isinstance(value, str | bytes)
        or not isinstance(value, Sequence)
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise invalid(prop, value, what, owner=owner)
    return tuple(value)


def props_from(
    owner: str,
    props_type: type[P],
    props: P | None,
    settings: Mapping[str, object],
    allowed: Sequence[str],
) -> P:
    """The props a construct was given: ``props`` itself, or ``props_type`` built from keyword settings.

    Every public construct takes its props one way, ``props=XProps(...)`` or the same fields as keyword
    arguments (typed with ``Unpack[XSettings]``); this is the one place that tells the two apart.

    Parameters
    ----------
    owner
        The construct named in errors.
    props_type
        The construct's frozen props type; its constructor validates every value.
    props
        Props already made (what a composing construct or the cdk.json loader passes), or None.
    settings
        The keyword settings, or empty.
    allowed
        Every keyword setting's name (the settings type's keys), listed when one is unknown.

    Raises
    ------
    TypeError
        Both ``props`` and keyword settings, or an unknown setting (the message lists every allowed one).
    PropsError
        A value the props type cannot build.
    """
    if props is not None:
        if settings:
            given = ", ".join(sorted(settings))
            raise TypeError(f"{owner}: pass props= or keyword props ({given}), not both")
        if not isinstance(props, props_type):
            raise TypeError(f"{owner}: props= takes a {props_type.__name__}, not {type(props).__name__}")
        return props
    check_known(owner, settings, allowed)
    return props_type(**settings)


def check_known(owner: str, settings: Mapping[str, object], allowed: Sequence[str]) -> None:
    """Raise ``TypeError`` naming every setting not in ``allowed``, and listing the allowed ones."""
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise TypeError(f"{owner}: unknown prop(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")


class ConfigSection:
    """What makes a part's props type readable from a cdk.json section: :meth:`from_config`.

    A props type inherits it and names its section (``config_section``), its keys (``config_keys``:
    its settings type's keys, the props fields but ``owner``) and the construct its errors name by
    default (``default_owner``).
    """

    config_section: ClassVar[str]
    config_keys: ClassVar[tuple[str, ...]]
    default_owner: ClassVar[str]

    @classmethod
    def from_config(
        cls, value: Mapping[str, Any] | Self | None, *, owner: str | None = None, section: str | None = None
    ) -> Self:
        """Build from a cdk.json object of the settings keys, e.g. ``{"strategy": "linear"}`` for the
        rollout (or pass props through).

        Parameters
        ----------
        value
            The section: an object of the settings keys; props of this type are returned unchanged, and
            None gives the defaults.
        owner
            The construct named in errors. Default: the props type's own construct.
        section
            The object's key in cdk.json, written before each prop in errors
            (``monitoring.latency_p99_threshold_ms``). Default: the props type's section.

        Raises
        ------
        PropsError
            Not an object, an unknown key (the message lists the allowed ones), or a value the props
            type refuses, named ``<section>.<key>``.
        """
        owner = owner or cls.default_owner
        section = section or cls.config_section
        if isinstance(value, cls):
            return value
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            raise PropsError(owner, section, value, f"an object with the keys {', '.join(cls.config_keys)}")
        unknown = sorted((str(key), key) for key in value if key not in cls.config_keys)
        if unknown:
            name, key = unknown[0]
            raise PropsError(
                owner,
                f"{section}.{name}",
                value[key],
                f"the keys {', '.join(cls.config_keys)} (unknown: {', '.join(n for n, _ in unknown)})",
            )
        try:
            return cls._from_keys(value, owner)
        except PropsError as exc:
            raise exc.relabel(owner, prefix=f"{section}.") from None

    @classmethod
    def _from_keys(cls, keys: Mapping[str, Any], owner: str) -> Self:
        # The props types are dataclasses with an ``owner`` field; one without overrides this.
        return cast(Self, cast(Any, cls)(**keys, owner=owner))


# CloudWatch namespaces: 1 to 255 of these characters; "AWS/" is reserved for AWS services.
_NAMESPACE = re.compile(r"[A-Za-z0-9 ._/#:-]{1,255}")


def check_namespace(prop: str, value: object, *, owner: str) -> str:
    """Return ``value`` if it is a CloudWatch namespace a custom metric may use, else raise."""
    if not isinstance(value, str) or not _NAMESPACE.fullmatch(value) or value.startswith("AWS/"):
        raise invalid(
            prop,
            value,
            "1 to 255 of letters, digits, space and . _ / # : -, not starting with 'AWS/'",
            owner=owner,
        )
    return value
