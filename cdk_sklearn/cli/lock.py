"""``cdk-sklearn lock``: show, re-resolve or remove entries of the app's layer lock.

The lock (``pylock.cdk-sklearn.toml`` beside ``cdk.json``, see :mod:`cdk_sklearn.packaging.lock`) is
written by synth and only ever changed there for a layer it has no entry for. Moving the pins of an
existing layer forward (a numpy bug fix, a scipy security release) is a deliberate act:
``cdk-sklearn lock --upgrade [--entry KEY]`` re-resolves and prints what moved (``name old -> new``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cdk_sklearn.packaging.bytecode import find_interpreter
from cdk_sklearn.packaging.lock import LOCK_ENV, LayerSpec, Lock, lock_path, remove, upgrade


def register(subparsers: Any) -> None:
    """Add ``lock`` to the CLI."""
    parser = subparsers.add_parser(
        "lock",
        help="show or re-resolve the app's layer lock (pylock.cdk-sklearn.toml)",
        description=(
            "Show the entries of the layer lock that synth writes beside cdk.json, re-resolve them "
            "(--upgrade) or remove one no stack uses any more (--remove)."
        ),
    )
    parser.add_argument(
        "--file",
        type=Path,
        default=None,
        help=f"the lock file (default: ${LOCK_ENV}, else pylock.cdk-sklearn.toml in the current folder)",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--upgrade", action="store_true", help="re-resolve entries (all, or those named with --entry)"
    )
    action.add_argument("--remove", metavar="KEY", default=None, help="delete one entry and its packages")
    parser.add_argument(
        "--entry",
        action="append",
        default=None,
        metavar="KEY",
        help="with --upgrade: the entry to re-resolve (repeatable; default: every entry)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Show, upgrade or remove entries; return the exit code."""
    path: Path = args.file if args.file is not None else lock_path()
    if args.entry and not args.upgrade:
        raise ValueError("--entry selects what --upgrade re-resolves; add --upgrade")
    if args.remove:
        removed = remove(path, args.remove)
        print(f"removed entry {removed.key} ({removed.spec.describe()}) from {path}")
        return 0
    if args.upgrade:
        changes = upgrade(path, args.entry, _bytecode_release)
        for key, lines in changes.items():
            print(f"{key}: {'no change' if not lines else f'{len(lines)} changed'}")
            for line in lines:
                print(f"  {line}")
        print(f"{path} {'updated' if any(changes.values()) else 'unchanged'}")
        return 0
    if not path.exists():
        raise FileNotFoundError(f"no lock file at {path}; synthesize the app once to create it")
    lock = Lock.read(path)
    for key, entry in sorted(lock.entries.items()):
        pins = " ".join(f"{p.name}=={p.version}" for p in entry.packages)
        print(f"{key}  {entry.spec.describe()}\n  {pins}")
    return 0


def _bytecode_release(spec: LayerSpec) -> str | None:
    # The interpreter a synth on this machine would compile with, so the entry records it.
    interpreter = find_interpreter(spec.target.version_tuple)
    return interpreter.release if interpreter else None
