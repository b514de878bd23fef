"""cdk-sklearn: serve a scikit-learn model from AWS Lambda, defined with AWS CDK v2.

The construct library runs on the deployer's machine at synth time. The function code lives in the
separate top-level package ``lambda_runtime`` and is shipped to Lambda as files; this package never
imports it.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
