"""Batch scoring on an endpoint: a Step Functions job that scores every object under an S3 prefix with
the endpoint's ``live`` alias, the model it already serves.

The job's tasks invoke the alias (so they count against its concurrency), and its failed-executions
alarm notifies the endpoint's alarm topic. Start a run with the ``StartExecutionCommand`` output, or
upload an object under ``scoring/in/`` (``trigger_on_upload``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3

from cdk_sklearn import SklearnBatchScoring, SklearnLambdaEndpoint

HERE = Path(__file__).resolve().parent
MODEL = HERE.parents[1] / "models" / "iris.joblib"  # `make demo` or `python examples/train_iris.py`


def build_app(context: Mapping[str, Any] | None = None) -> cdk.App:
    """The app: a data bucket, an endpoint, and a batch job on the endpoint's alias."""
    app = cdk.App(context=dict(context or {}))
    stack = cdk.Stack(app, "BatchOnEndpoint")
    data = s3.Bucket(
        stack,
        "Data",
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
    )
    # Each work item is one call of the alias: give it the most time Lambda allows.
    endpoint = SklearnLambdaEndpoint(
        stack, "Iris", model_path=MODEL, timeout_seconds=900, alarm_email="ml-team@example.com"
    )
    SklearnBatchScoring(
        stack,
        "Nightly",
        endpoint=endpoint,
        input_bucket=data,
        input_prefix="scoring/in/",
        output_prefix="scoring/out/",
        id_column="id",
        method="predict_proba",
        trigger_on_upload=True,
    )
    return app


if __name__ == "__main__":
    build_app().synth()
