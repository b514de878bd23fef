"""Serve a model with ``cdk-sklearn serve`` and send it two prediction requests; print both exchanges.

Used by ``make demo``. Exits non-zero if the server does not become healthy within the timeout or if
any response is not what the endpoint promises.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

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


def wait_healthy(base: str, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode} before becoming healthy")
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
    base = f"http://127.0.0.1:{args.port}"
    command = [
        sys.executable,
        "-m",
        "cdk_sklearn.cli",
        "serve",
        "--model",
        str(args.model),
        "--port",
        str(args.port),
    ]
    with tempfile.TemporaryFile() as log:
        # cwd=REPO so the checkout's own cdk_sklearn and lambda_runtime are the ones served.
        server = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        try:
            print(f"started: {' '.join(command)}\n")
            wait_healthy(base, server, args.timeout)
            demo(base)
        except Exception as exc:
            log.seek(0)
            print(
                f"demo failed: {exc}\n--- server output ---\n{log.read().decode(errors='replace')}",
                file=sys.stderr,
            )
            return 1
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    print("demo ok: the local endpoint answered both requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
