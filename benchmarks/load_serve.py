"""A bounded load test of ``cdk-sklearn serve`` on loopback: valid and invalid requests mixed.

Run: ``.venv/bin/python -m benchmarks.load_serve [--requests 2000] [--concurrency 16] [--model PATH]``

Starts the real server as a subprocess (``python -m cdk_sklearn.cli serve --port 0``), sends the
requests from ``concurrency`` threads, each over one keep-alive connection, checks every answer
(valid rows must get exactly the prediction the model gives in this process; invalid requests their
documented 4xx), and prints latency percentiles. Exits non-zero on any connection error or wrong answer.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import statistics
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np

from cdk_sklearn.cli.serve_process import serve_process

REPO = Path(__file__).resolve().parent.parent
ROWS = [
    [5.1, 3.5, 1.4, 0.2],
    [6.7, 3.0, 5.2, 2.3],
    [5.9, 2.8, 4.3, 1.3],
    [4.6, 3.1, 1.5, 0.2],
]


@dataclass(frozen=True)
class Case:
    """One kind of request and the answer it must get."""

    name: str
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]
    status: int
    expected: object = None  # the exact JSON body for valid requests


@dataclass
class LoadResult:
    """What a load run observed."""

    latencies_ms: list[float] = field(default_factory=list)
    connection_errors: list[str] = field(default_factory=list)
    wrong_answers: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def cases_for(model_path: Path) -> list[Case]:
    """Valid cases with answers computed from the model in this process, plus invalid ones."""
    model = joblib.load(model_path)
    json_headers = {"Content-Type": "application/json"}
    cases = []
    for i, row in enumerate(ROWS):
        predicted = model.predict(np.array([row])).tolist()
        body = json.dumps({"instances": [row]}).encode()
        cases.append(
            Case(f"valid-{i}", "POST", "/predict", body, json_headers, 200, {"predictions": predicted})
        )
    all_rows = model.predict(np.array(ROWS)).tolist()
    cases.append(
        Case(
            "valid-batch",
            "POST",
            "/predict",
            json.dumps(ROWS).encode(),
            json_headers,
            200,
            {"predictions": all_rows},
        )
    )
    cases += [
        Case("bad-json", "POST", "/predict", b'{"instances": [[1, 2', json_headers, 400),
        Case("wrong-width", "POST", "/predict", b"[[1, 2, 3]]", json_headers, 400),
        Case("not-a-number", "POST", "/predict", b'[[1, 2, 3, "x"]]', json_headers, 400),
        Case("bad-method", "POST", "/predict?method=fit", json.dumps([ROWS[0]]).encode(), json_headers, 400),
        Case("unknown-route", "GET", "/nope", None, {}, 404),
        Case("wrong-verb", "GET", "/predict", None, {}, 405),
        Case(
            "bad-type", "POST", "/predict", b"a=1", {"Content-Type": "application/x-www-form-urlencoded"}, 415
        ),
    ]
    return cases


def _worker(host: str, port: int, cases: list[Case], indices: list[int], result: LoadResult) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        for index in indices:
            case = cases[index % len(cases)]
            started = time.perf_counter()
            try:
                connection.request(case.method, case.path, body=case.body, headers=case.headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                result.connection_errors.append(f"{case.name}: {type(exc).__name__}: {exc}")
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=30)
                continue
            result.latencies_ms.append((time.perf_counter() - started) * 1000)
            if response.status != case.status:
                result.wrong_answers.append(f"{case.name}: status {response.status}, wanted {case.status}")
            elif case.expected is not None and json.loads(payload) != case.expected:
                result.wrong_answers.append(f"{case.name}: body {payload[:200]!r}")
    finally:
        connection.close()


def run_load(base_url: str, cases: list[Case], requests: int, concurrency: int) -> LoadResult:
    """Send ``requests`` requests (cycling through ``cases``) from ``concurrency`` threads."""
    match = re.fullmatch(r"http://([^:/]+):(\d+)", base_url)
    if not match:
        raise ValueError(f"base_url must look like http://host:port, got {base_url!r}")
    host, port = match.group(1), int(match.group(2))
    result = LoadResult()
    shares = [list(range(worker, requests, concurrency)) for worker in range(concurrency)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(_worker, host, port, cases, share, result) for share in shares]:
            future.result()
    result.elapsed_s = time.perf_counter() - started
    return result


@contextmanager
def serve(model_path: Path, timeout: float = 60.0) -> Iterator[str]:
    """Run ``cdk-sklearn serve`` on a free loopback port; yield its base URL; stop it afterwards."""
    with serve_process(model_path, cwd=REPO, timeout=timeout) as server:
        yield server.url


def report(result: LoadResult, requests: int, concurrency: int) -> str:
    lines = [
        f"{requests} requests, concurrency {concurrency}, {result.elapsed_s:.2f} s "
        f"({len(result.latencies_ms) / result.elapsed_s:.0f} requests/s)",
        f"latency ms: p50 {result.percentile(50):.2f}  p90 {result.percentile(90):.2f}  "
        f"p99 {result.percentile(99):.2f}  max {max(result.latencies_ms):.2f}  "
        f"mean {statistics.fmean(result.latencies_ms):.2f}",
        f"connection errors: {len(result.connection_errors)}   wrong answers: {len(result.wrong_answers)}",
    ]
    lines += [f"  {problem}" for problem in (result.connection_errors + result.wrong_answers)[:10]]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=REPO / "models" / "iris.joblib")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    cases = cases_for(args.model)
    with serve(args.model.resolve()) as url:
        result = run_load(url, cases, args.requests, args.concurrency)
    print(f"load test of cdk-sklearn serve at {url}, model {args.model}")
    print(report(result, args.requests, args.concurrency))
    return 0 if not result.connection_errors and not result.wrong_answers else 1


if __name__ == "__main__":
    sys.exit(main())
