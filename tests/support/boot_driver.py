"""Runs INSIDE a userland under ``python3.13 -I -S -B``: boots ``lambda_runtime`` on the layer alone.

Standard library only. ``sys.path`` gets exactly what Lambda puts first (the function code in
``/var/task``, the layer in ``/opt/python``); ``-I -S`` keep everything else out, ``-B`` keeps Python
from writing bytecode, as on Lambda's read-only file system. For each model given on the command line
it loads the handler fresh, sends an HTTP API 2.0 ``POST /predict`` event, and prints one JSON line
with the responses, where every imported module came from, and the traceback of an error raised
inside scikit-learn.

Usage: ``boot_driver.py PLAN_JSON`` where the plan is ``{"models": [{"name", "path", "sha256",
"instances"}]}``.
"""

import importlib
import json
import os
import platform
import sys
import time
import traceback

TASK = "/var/task"
LAYER = "/opt/python"


class Context:
    """The attributes of a Lambda context object the runtime reads."""

    aws_request_id = "boot-test"
    function_name = "boot-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:boot-test"

    @staticmethod
    def get_remaining_time_in_millis():
        return 30_000


def http_api_event(body):
    """An API Gateway HTTP API payload 2.0 event for ``POST /predict``."""
    return {
        "version": "2.0",
        "routeKey": "POST /predict",
        "rawPath": "/predict",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "boot.example.com"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "boot",
            "domainName": "boot.example.com",
            "domainPrefix": "boot",
            "http": {
                "method": "POST",
                "path": "/predict",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "boot-test",
            },
            "requestId": "boot-test",
            "routeKey": "POST /predict",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1767225600000,
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def main():
    sys.path[:0] = [TASK, LAYER]
    with open(sys.argv[1]) as handle:
        plan = json.load(handle)
    results = {}
    for model in plan["models"]:
        os.environ["MODEL_URI"] = model["path"]
        os.environ["MODEL_SHA256"] = model["sha256"]
        # The runtime loads the model at import: drop it so the next model gets a fresh import.
        for name in [n for n in sys.modules if n == "lambda_runtime" or n.startswith("lambda_runtime.")]:
            del sys.modules[name]
        started = time.perf_counter()
        handler = importlib.import_module("lambda_runtime.handler").handler
        loaded = time.perf_counter() - started
        response = handler(http_api_event({"instances": model["instances"]}), Context())
        results[model["name"]] = {
            "status": response["statusCode"],
            "body": json.loads(response["body"]),
            "import_and_load_seconds": loaded,
        }
    # A library error's traceback: it must name the layer's file and line, with or without sources.
    try:
        from sklearn.utils.validation import check_array

        check_array([[float("nan")]])
    except ValueError:
        library_traceback = traceback.format_exc()
    else:
        library_traceback = None
    stdlib = os.path.dirname(os.__file__)
    origins = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not path:
            continue
        where = next((root for root in (TASK, LAYER, stdlib) if path.startswith(root + "/")), path)
        origins[where] = origins.get(where, 0) + 1
    report = {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "flags": {"isolated": sys.flags.isolated, "no_site": sys.flags.no_site},
        "site_imported": "site" in sys.modules,
        "origins": origins,
        "results": results,
        "library_traceback": library_traceback,
    }
    print(json.dumps(report))


main()
