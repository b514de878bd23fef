"""How many processes serve this execution environment, and the threads each of them may use.

On Lambda Managed Instances the Python runtime serves concurrent requests with one process per request:
the platform sets ``AWS_LAMBDA_MAX_CONCURRENCY``, and AWS's runtime interface client (``awslambdaric``
4.2, ``__main__.py`` and ``lambda_multi_concurrent_utils.py``) then forks that many worker processes,
each importing the handler, loading the model and answering one request at a time
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-python-runtime.html). Those
processes share the environment's vCPUs, so a thread pool per process sized from the function's
memory (on demand, one vCPU per 1,769 MB) would put several threads on each core: each process keeps
to one thread instead.

Standard library only, imported first by the handler: the thread-pool variables must be set before
numpy, SciPy, scikit-learn or onnxruntime load their pools.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping

MAX_CONCURRENCY_ENV = "AWS_LAMBDA_MAX_CONCURRENCY"
"""Set by Lambda Managed Instances to the processes per execution environment (awslambdaric's switch to
its multi-process mode; unset on demand)."""

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "LOKY_MAX_CPU_COUNT")
"""The variables the numeric libraries size their pools from: OpenMP (scikit-learn's compiled loops),
OpenBLAS (numpy's and SciPy's wheels), MKL, and joblib's CPU count (an estimator saved with
``n_jobs=-1`` asks joblib for one worker per CPU)."""

_COUNT = re.compile(r"[0-9]{1,6}")


def worker_processes(environ: Mapping[str, str]) -> int | None:
    """The processes serving this execution environment on managed instances; ``None`` on demand.

    Parameters
    ----------
    environ
        The process environment (usually ``os.environ``).
    """
    raw = environ.get(MAX_CONCURRENCY_ENV, "").strip()
    # awslambdaric refuses anything but an integer, so any other value never reaches the handler.
    return int(raw) if _COUNT.fullmatch(raw) and int(raw) > 0 else None


def one_thread_per_process(environ: MutableMapping[str, str]) -> dict[str, str]:
    """On managed instances, set every variable of :data:`THREAD_VARIABLES` to ``1``; on demand, nothing.

    Returns
    -------
    dict
        The values replaced (variable name to its former value) when they asked for more than one
        thread, for the init log; empty when nothing was overridden.
    """
    if worker_processes(environ) is None:
        return {}
    replaced = {}
    for name in THREAD_VARIABLES:
        former = environ.get(name)
        if former is not None and former.strip() != "1":
            replaced[name] = former
        environ[name] = "1"
    return replaced
