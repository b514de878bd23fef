"""The construct's defaults that the CLI also needs, in a module that imports nothing.

``cdk-sklearn layer build`` and ``cdk-sklearn cost`` must default to what
:class:`~cdk_sklearn.endpoint.SklearnLambdaEndpoint` deploys, without importing aws_cdk (which starts
jsii and Node). This module is the one home of those values: the construct reads them from here too.
"""

from __future__ import annotations

from typing import Final

DEFAULT_RUNTIME: Final = "python3.13"
"""The Lambda Python runtime an endpoint uses unless told otherwise."""

DEFAULT_ARCHITECTURE: Final = "arm64"
"""The Lambda architecture an endpoint uses unless told otherwise (Graviton: about 20% cheaper per GB-s)."""
