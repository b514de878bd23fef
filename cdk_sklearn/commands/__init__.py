"""Sub-commands of the ``cdk-sklearn`` CLI, one module each.

Each module exposes ``register(subparsers)``, which adds its parser and sets ``func`` on it to a
callable taking the parsed ``argparse.Namespace`` and returning an exit code.
"""

from __future__ import annotations

# Order is the order in `cdk-sklearn --help`.
COMMAND_MODULES: tuple[str, ...] = ("serve", "layer", "cost")
