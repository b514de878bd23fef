"""Which types in a ``.skops`` file skops would refuse to load, decided at synth.

skops loads only types it trusts by default; any other type (a user's function, some scikit-learn
internals such as ``TreePredictor``) must be listed explicitly. The runtime passes the list it gets
(``SKOPS_TRUSTED_TYPES``) to ``skops.io.load``; checking it here turns a 503 after deploy into a synth
error that lists the types to review.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


class UntrustedTypesError(ValueError):
    """The ``.skops`` file holds types that are neither trusted by skops nor listed by the user."""


def skops_untrusted_types(path: str | os.PathLike[str]) -> tuple[str, ...]:
    """The types in the ``.skops`` file at ``path`` that skops does not trust by default, sorted.

    Reads the file's schema with ``skops.io.get_untrusted_types``, which constructs nothing.

    Raises
    ------
    ValueError
        When skops is not installed on the synth machine (the message says how to install it).
    """
    try:
        import skops.io  # a .skops model needs skops at synth only to be inspected
    except ModuleNotFoundError as exc:
        raise ValueError(
            f"model file {path} is a .skops file; install skops on the machine that runs cdk synth "
            "(pip install skops) so its untrusted types can be checked"
        ) from exc
    return tuple(sorted(skops.io.get_untrusted_types(file=Path(path))))


def check_trusted(path: str | os.PathLike[str], trusted: Sequence[str]) -> tuple[str, ...]:
    """Raise :class:`UntrustedTypesError` unless every untrusted type of the file is in ``trusted``.

    Returns
    -------
    tuple of str
        The file's untrusted types (all of them listed in ``trusted``).
    """
    untrusted = skops_untrusted_types(path)
    refused = [name for name in untrusted if name not in set(trusted)]
    if refused:
        listed = ", ".join(f"'{name}'" for name in refused)
        raise UntrustedTypesError(
            f"model file {Path(path).name} holds types skops does not trust by default: {listed}. Review "
            f"them (they run code when the model loads) and, if you trust them, pass "
            f"skops_trusted_types=[{listed}]"
        )
    return untrusted
