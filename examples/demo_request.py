"""Serve a model with ``cdk-sklearn serve`` and send it two prediction requests; print both exchanges.

Used by ``make demo``. Exits non-zero if the server does not become healthy within the timeout or if
any response is not what the endpoint promises.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from cdk_sklearn.cli.serve_process import serve_process

REPO = Path(__file__).resolve().parent.parent
IRIS_ROW = [5.1, 3.5, 1.4, 0.2]  # the first iris sample: a setosa


def http(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    """Send one request; return the status and the decoded JSON body."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def wait_healthy(base: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if http("GET", f"{base}/health")[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"GET {base}/health did not answer 200 within {timeout:.0f} s")


def show(method: str, url: str, body: Any, status: int, answer: Any) -> None:
    print(f"> {method} {url}")
    print(f"> {json.dumps(body)}")
    print(f"< {status}")
    print(f"< {json.dumps(answer)}\n")


def demo(base: str) -> None:
    body = {"instances": [IRIS_ROW]}
    status, answer = http("POST", f"{base}/predict", body)
    show("POST", f"{base}/predict", body, status, answer)
    if status != 200 or not isinstance(answer.get("predictions"), list) or len(answer["predictions"]) != 1:
        raise RuntimeError(f"POST /predict answered {status} {answer}")

    url = f"{base}/predict?method=predict_proba"
    status, answer = http("POST", url, body)
    show("POST", url, body, status, answer)
    probabilities = answer.get("predictions", [[]])[0] if status == 200 else []
    if status != 200 or abs(sum(probabilities) - 1.0) > 1e-6 or "classes" not in answer:
        raise RuntimeError(f"POST /predict?method=predict_proba answered {status} {answer}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "iris.joblib")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for /health")
    args = parser.parse_args()
    try:
        # cwd=REPO so the checkout's own cdk_sklearn and lambda_runtime are the ones served.
        with serve_process(args.model, port=args.port, quiet=False, cwd=REPO, timeout=args.timeout) as server:
            print(f"started: {' '.join(server.command)}\n")
            try:
                wait_healthy(server.url, args.timeout)
                demo(server.url)
            except Exception as exc:
                output = "\n".join(server.output)
                print(f"demo failed: {exc}\n--- server output ---\n{output}", file=sys.stderr)
                return 1
    except RuntimeError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    print("demo ok: the local endpoint answered both requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
