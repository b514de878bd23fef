"""The function code of a cdk-sklearn endpoint: an AWS Lambda handler serving one scikit-learn model.

This package ships alone in the function zip (handler string ``lambda_runtime.handler.handler``). It
never imports ``aws_cdk`` or ``cdk_sklearn``, and every module-level import here is paid on each cold
start, so the only heavy dependencies are numpy, scikit-learn and joblib (plus boto3 when the model
lives in S3, pandas when a request carries named columns and skops for ``.skops`` files).
"""

__version__ = "0.2.0"
