"""The ``cdk-sklearn`` command line: ``new``, ``doctor``, ``serve``, ``batch``, ``convert``,
``layer build``, ``lock``, ``cost`` and ``cache``.

Each sub-command is a module of this package exposing ``register(subparsers)``, which adds its parser
and sets ``func`` to a callable taking the parsed namespace and returning an exit code. A sub-command's
heavy imports (matplotlib, scikit-learn) happen inside its ``func``, so they are paid only when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from cdk_sklearn import __version__

# Order is the order in `cdk-sklearn --help`.
COMMAND_MODULES: tuple[str, ...] = (
    "new",
    "doctor",
    "serve",
    "batch",
    "convert",
    "layer",
    "lock",
    "cost",
    "cache",
)

EXIT_BROKEN_PIPE = 141
"""Exit code when the reader of stdout went away (``cdk-sklearn cost | head -1``): 128 + SIGPIPE,
what a shell reports for a program SIGPIPE ended, so ``set -o pipefail`` scripts see the usual code."""


class UsageError(Exception):
    """A mistake in what the user asked for; printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every available sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="cdk-sklearn",
        description="Serve scikit-learn models from AWS Lambda: local server, layer builder, cost model.",
    )
    parser.add_argument("--version", action="version", version=f"cdk-sklearn {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"cdk_sklearn.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code.

    Parameters
    ----------
    argv
        Arguments without the program name; ``sys.argv[1:]`` when omitted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        code = int(func(args))
        # Flush here, inside the handler, rather than at interpreter exit, where a closed pipe
        # would print "Exception ignored ... BrokenPipeError" instead of ending quietly.
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except (UsageError, ValueError, FileNotFoundError) as exc:
        print(f"cdk-sklearn {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _silence_stdout() -> None:
    # Python flushes sys.stdout once more at exit; pointing its descriptor at /dev/null makes that
    # flush succeed instead of raising BrokenPipeError a second time.
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


if __name__ == "__main__":  # pragma: no cover - exercised through the console script
    sys.exit(main())
