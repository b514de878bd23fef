"""``python -m cdk_sklearn.cli``: the same as the ``cdk-sklearn`` console script."""

import sys

from cdk_sklearn.cli.main import main

sys.exit(main())
