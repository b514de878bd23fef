"""The ``cdk-sklearn`` command line; one module per sub-command, :mod:`.main` ties them together.

Nothing here imports aws_cdk: ``serve`` and ``cost`` never start jsii or Node.
"""

from __future__ import annotations

from cdk_sklearn.cli.main import UsageError, build_parser, main

__all__ = ["UsageError", "build_parser", "main"]
