# mypy: disable-error-code="type-arg,operator,var-annotated"
# (This script may import nothing it does not measure, typing included: builtin annotations only.)
"""The child side of the benchmark: runs inside a fresh target interpreter, standard library only.

Started as ``python -I -S -B [-X importtime] probe.py MODE key=value...`` with nothing but the layer, the
function code and the Lambda runtime's own packages on ``sys.path`` (set by ``path=`` arguments; ``-I -S``
keep the interpreter's site-packages out, ``-B`` mimics Lambda's read-only ``/opt`` and ``/var/task``,
where no bytecode can be written back). It must import nothing before its first line takes the clock,
so it parses its arguments by hand and builds events from literals.

Modes
-----
cold
    Import the handler module (ours loads the model here), optionally wrap a loader function to time it,
    call the handler once with one event. Phase marks go to stderr (interleaved with ``-X importtime``),
    the summary to stdout.
floor
    ``import numpy`` and read the model's bytes: the least any Python handler must do.
warm
    Import the handler, then time many handler calls and direct ``predict`` calls in this process.

Every timestamp is ``CLOCK_MONOTONIC`` in nanoseconds, the clock the parent read before starting us.
"""

import time

T_FIRST_LINE = time.clock_gettime_ns(time.CLOCK_MONOTONIC)

import sys  # noqa: E402  (built in: nothing to load from disk)


def now() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def mark(name: str) -> None:
    # stderr is shared with CPython's -X importtime lines: flushing keeps the order exact.
    sys.stderr.write(f"BENCH-MARK {name} {now()}\n")
    sys.stderr.flush()


def parse_args(argv: list[str]) -> dict:
    options: dict = {"path": []}
    for item in argv:
        key, _, value = item.partition("=")
        if key == "path":
            options["path"].append(value)
        else:
            options[key] = value
    return options


class LambdaContext:
    """The attributes of the Lambda context object that handlers read."""

    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = 1024
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "2020/06/01/[$LATEST]0123456789abcdef"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 29_000


def http_api_event(body: str) -> dict:
    """An API Gateway HTTP API (payload 2.0) event for POST /predict, shaped as AWS documents it."""
    return {
        "version": "2.0",
        "routeKey": "POST /predict",
        "rawPath": "/predict",
        "rawQueryString": "",
        "headers": {
            "accept": "application/json",
            "content-length": str(len(body)),
            "content-type": "application/json",
            "host": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "user-agent": "cdk-sklearn-bench",
            "x-forwarded-for": "192.0.2.1",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abcdef1234",
            "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abcdef1234",
            "http": {
                "method": "POST",
                "path": "/predict",
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "cdk-sklearn-bench",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "POST /predict",
            "stage": "$default",
            "time": "01/Jun/2020:12:00:00 +0000",
            "timeEpoch": 1591012800000,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def rows_body(key: str, rows_text: str) -> str:
    # The body is text either way: the handler parses it, not us.
    return '{"' + key + '": ' + rows_text + "}"


def import_attr(spec: str) -> tuple:
    module_name, _, attr = spec.partition(":")
    module = __import__(module_name, fromlist=[attr])
    return module, getattr(module, attr)


def wrap_timed(spec: str) -> None:
    """Replace module:function with a copy that marks its start and end (instrumentation only)."""
    module, function = import_attr(spec)
    attr = spec.partition(":")[2]

    def timed(*args: object, **kwargs: object) -> object:
        mark("load-start")
        try:
            return function(*args, **kwargs)
        finally:
            mark("load-end")

    setattr(module, attr, timed)


def status_of(response: object) -> tuple:
    if isinstance(response, dict):
        return response.get("statusCode", 200), str(response.get("body", ""))[:300]
    return 200, str(response)[:300]


def cold(options: dict) -> None:
    if options.get("wrap"):
        wrap_timed(options["wrap"])
    _, handler = import_attr(options["handler"])
    mark("imported")
    event = http_api_event(rows_body(options["key"], options["rows"]))
    response = handler(event, LambdaContext())
    mark("answered")
    status, body = status_of(response)
    print("BENCH", repr({"status": status, "body": body}))


def floor(options: dict) -> None:
    import numpy  # noqa: F401

    mark("imported")
    with open(options["model"], "rb") as f:
        size = len(f.read())
    mark("answered")
    print("BENCH", repr({"status": 200, "body": str(size)}))


def percentile(sorted_values: list[int], q: float) -> int:
    index = min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))
    return sorted_values[index]


def summary(samples: list) -> dict:
    samples = sorted(samples)
    return {"median_ns": percentile(samples, 0.5), "p99_ns": percentile(samples, 0.99), "n": len(samples)}


def measure_pairs(
    handler_call: object, predict_call: object, budget_ns: int, max_calls: int, min_calls: int
) -> dict:
    """Time handler and direct predict calls alternately, so both see the same machine noise."""
    for _ in range(10):  # warm caches and lazily built objects first
        handler_call()
        predict_call()
    handler_ns, predict_ns, overhead_ns = [], [], []
    deadline = now() + budget_ns
    while len(handler_ns) < max_calls and (len(handler_ns) < min_calls or now() < deadline):
        start = now()
        handler_call()
        middle = now()
        predict_call()
        end = now()
        handler_ns.append(middle - start)
        predict_ns.append(end - middle)
        overhead_ns.append((middle - start) - (end - middle))
    return {"handler": summary(handler_ns), "predict": summary(predict_ns), "overhead": summary(overhead_ns)}


def warm(options: dict) -> None:
    import json

    import joblib
    import numpy

    _, handler = import_attr(options["handler"])
    model = joblib.load(options["model"])
    context = LambdaContext()
    budget_ns = int(float(options.get("budget_s", "2")) * 1e9)
    max_calls = int(options.get("max_calls", "2000"))
    min_calls = int(options.get("min_calls", "50"))
    results = {}
    for label in ("rows1", "rows100"):
        rows_text = options[label]
        event = http_api_event(rows_body(options["key"], rows_text))
        features = numpy.asarray(json.loads(rows_text), dtype=float)
        status, body = status_of(handler(event, context))
        if status != 200:
            print("BENCH", repr({"status": status, "body": body}))
            return
        results[label] = measure_pairs(
            lambda e=event: handler(e, context),
            lambda x=features: model.predict(x),
            budget_ns,
            max_calls,
            min_calls,
        )
    print("BENCH", repr({"status": 200, "body": "", "warm": results}))


def main() -> None:
    sys.stderr.write(f"BENCH-MARK start {T_FIRST_LINE}\n")
    mode = sys.argv[1]
    options = parse_args(sys.argv[2:])
    sys.path[:0] = options["path"]
    {"cold": cold, "floor": floor, "warm": warm}[mode](options)


main()
