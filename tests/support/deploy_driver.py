"""Runs INSIDE a userland, as the Lambda runtime would: boots the deployed handler, then answers events.

Standard library only; never on ``sys.path`` itself (started with ``-P``), so the process sees exactly
what the environment gives it: ``PYTHONPATH`` (``/var/task``, the layer, ``/var/runtime``) and the
interpreter's standard library.

Protocol, one JSON document per line: the handler's own stdout (its logs, which Lambda sends to
CloudWatch) is moved to stderr, and the answers go to the original stdout. First line: a boot report
(interpreter, ``sys.path``, init time, an init traceback if the handler failed to import). Then, for
each event read from stdin, a response line. At end of input, a last line naming the folders every
imported module came from.

Usage: ``deploy_driver.py HANDLER`` where ``HANDLER`` is the function's ``Handler`` property from the
template, e.g. ``lambda_runtime.handler.handler``.
"""

import importlib
import json
import os
import platform
import sys
import time
import traceback
import uuid
from typing import Any

ORIGIN_ROOTS = ("/var/task", "/opt/python", "/var/runtime")


class Context:
    """The attributes and method of the Lambda Python runtime's context object."""

    def __init__(self, deadline: float) -> None:
        name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "function")
        region = os.environ.get("AWS_REGION", "us-east-1")
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = name
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"))
        self.invoked_function_arn = f"arn:aws:lambda:{region}:123456789012:function:{name}:live"
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", f"/aws/lambda/{name}")
        self.log_stream_name = "2026/01/01/[1]0123456789abcdef"
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> None:
    # Answers on a private copy of stdout; whatever the function prints goes to stderr (its "logs").
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    # Lambda's bootstrap sends every write to the logs at once; a file would buffer it instead.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    module_name, _, function_name = sys.argv[1].rpartition(".")
    timeout = float(os.environ.get("PROOF_TIMEOUT_SECONDS", "30"))
    boot: dict[str, Any] = {
        "kind": "boot",
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "executable": sys.executable,
        "sys_path": list(sys.path),
        "flags": {"isolated": sys.flags.isolated, "no_site": sys.flags.no_site},
        "site_imported": "site" in sys.modules,
        # As on Lambda: only /tmp may be written (the others are read-only mounts, even for root).
        "writable": {path: os.access(path, os.W_OK) for path in (*ORIGIN_ROOTS, "/opt", "/tmp")},
        "init_error": None,
    }
    started = time.perf_counter()
    handler = None
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except BaseException:
        boot["init_error"] = traceback.format_exc()
    boot["init_seconds"] = time.perf_counter() - started
    answers.write(json.dumps(boot) + "\n")
    for line in sys.stdin:
        event = json.loads(line)
        started = time.perf_counter()
        answer: dict[str, Any] = {"kind": "response", "response": None, "error": None}
        if handler is None:
            answer["error"] = "the handler did not import (see the boot report)"
        else:
            try:
                answer["response"] = handler(event, Context(time.monotonic() + timeout))
            except BaseException:
                answer["error"] = traceback.format_exc()
        answer["seconds"] = time.perf_counter() - started
        answers.write(json.dumps(answer) + "\n")
    stdlib = os.path.dirname(os.__file__)
    origins: dict[str, int] = {}
    this = sys.modules["__main__"]
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if module is this:  # this driver (also as __mp_main__), standing in for the runtime's bootstrap
            continue
        if not path:
            continue
        where = next((root for root in (*ORIGIN_ROOTS, stdlib) if path.startswith(root + "/")), path)
        origins[where] = origins.get(where, 0) + 1
    # The top-level packages the process imported: the ONNX engine must never have imported
    # scikit-learn, SciPy, pandas or joblib.
    imported = sorted({name.split(".")[0] for name in sys.modules})
    answers.write(json.dumps({"kind": "modules", "origins": origins, "imported": imported}) + "\n")


main()
