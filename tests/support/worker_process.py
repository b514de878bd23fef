"""One worker process of a managed-instances execution environment, for tests that start several at once.

Imports nothing but the standard library before the handler, as awslambdaric's forked worker does:
whatever loads numpy first decides its thread pools, and that must be the runtime
(:mod:`lambda_runtime.processes`), not the test.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def serve_once(environ: dict[str, str], barrier: Any, results: Any, event: dict[str, Any]) -> None:
    """Wait for the siblings at ``barrier``, import the handler (INIT), answer ``event``, report.

    The report has the process id, the loaded model's digest (or the load error), the response's status
    and body, the native thread pools' sizes, joblib's worker count for ``n_jobs=-1`` and the names of the
    process's threads besides the main one, after answering.
    """
    os.environ.update(environ)
    barrier.wait(timeout=60)  # every process starts its INIT at the same moment
    from lambda_runtime.handler import APP, handler

    class Context:
        aws_request_id = f"worker-{os.getpid()}"

        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 30_000

    response = handler(event, Context())
    import joblib
    from threadpoolctl import threadpool_info

    tasks = Path("/proc/self/task")
    # Every thread but the main one, by the name the kernel knows it by (native pools included).
    threads = sorted(
        (tasks / t / "comm").read_text().strip() for t in os.listdir(tasks) if int(t) != os.getpid()
    )
    results.put(
        {
            "pid": os.getpid(),
            "sha256": APP.model.sha256 if APP.model is not None else None,
            "load_error": APP.load_error.detail if APP.load_error is not None else None,
            "status": response["statusCode"],
            "body": json.loads(response["body"]),
            "pools": sorted({pool["num_threads"] for pool in threadpool_info()}),
            "joblib_jobs": joblib.effective_n_jobs(-1),
            "other_threads": threads,
        }
    )
