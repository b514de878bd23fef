"""Every contract route through every front door, SigV4-signed, compared with scikit-learn's answers.

The front doors use IAM auth, so each request carries a Signature Version 4 ``Authorization`` header
made by botocore's own signer (``SigV4Auth``) for ``execute-api`` (HTTP and REST APIs) or ``lambda``
(Function URLs). The signing time is a parameter, never read here, so a test can compare the header
with botocore's on the same request at a frozen time, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import NoCredentialsError

from devtools.awsproof.clock import Clock
from lambda_runtime import contract

_EXECUTE_API = re.compile(r"^[a-z0-9]+\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")
_FUNCTION_URL = re.compile(r"^[a-z0-9]+\.lambda-url\.(?P<region>[a-z0-9-]+)\.on\.aws$")
REQUEST_TIMEOUT_SECONDS: Final = 30.0


class _ClockedSigV4Auth(SigV4Auth):
    # SigV4Auth.add_auth reads the wall clock; this one signs at the time it is given, through the
    # same steps (botocore's canonical request, string to sign, signature and header).
    def __init__(self, credentials: ReadOnlyCredentials, service: str, region: str, when: dt.datetime):
        super().__init__(credentials, service, region)
        self._when = when

    def add_auth(self, request: AWSRequest) -> None:
        if self.credentials is None:
            raise NoCredentialsError()
        # The two helpers are botocore's own (not in its type stubs); the byte-for-byte test against
        # SigV4Auth.add_auth at a frozen time catches any change in them.
        steps: Any = self
        request.context["timestamp"] = self._when.strftime(SIGV4_TIMESTAMP)
        steps._modify_request_before_signing(request)
        canonical = self.canonical_request(request)
        signature = self.signature(self.string_to_sign(request, canonical), request)
        steps._inject_signature_to_request(request, signature)


def signing_service(url: str) -> tuple[str, str]:
    """The SigV4 service name and region of a front door's URL.

    Returns
    -------
    tuple[str, str]
        ``("execute-api", region)`` for API Gateway, ``("lambda", region)`` for a Function URL.

    Raises
    ------
    ValueError
        For any other host: the proof signs only for the front doors it deployed.
    """
    host = urllib.parse.urlsplit(url).hostname or ""
    for pattern, service in ((_EXECUTE_API, "execute-api"), (_FUNCTION_URL, "lambda")):
        match = pattern.match(host)
        if match:
            return service, match["region"]
    raise ValueError(f"{url!r} is neither an API Gateway nor a Lambda Function URL; cannot sign for it")


def sign(
    method: str,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    credentials: ReadOnlyCredentials,
    when: dt.datetime,
    *,
    service: str | None = None,
    region: str | None = None,
) -> dict[str, str]:
    """Return ``headers`` plus the SigV4 headers of this request, signed at ``when``.

    Parameters
    ----------
    method, url, body, headers
        The request exactly as it will be sent.
    credentials
        Frozen credentials (``session.get_credentials().get_frozen_credentials()``).
    when
        The signing time (UTC; naive values are taken as UTC).
    service, region
        Default: from the URL (:func:`signing_service`).

    Returns
    -------
    dict[str, str]
        ``Authorization``, ``X-Amz-Date``, ``X-Amz-Security-Token`` (temporary credentials) and the
        given headers.
    """
    if service is None or region is None:
        found_service, found_region = signing_service(url)
        service, region = service or found_service, region or found_region
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    _ClockedSigV4Auth(credentials, service, region, when).add_auth(request)
    return {key: str(value) for key, value in request.headers.items()}


@dataclass(frozen=True)
class Response:
    """An HTTP answer: status, headers (lower-case names) and body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class Transport(Protocol):
    """Sends one request; :func:`urllib_transport` in a run, anything in tests."""

    def __call__(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> Response: ...


def urllib_transport(method: str, url: str, headers: Mapping[str, str], body: bytes) -> Response:
    """Send with :mod:`urllib`; 4xx and 5xx are answers, not exceptions."""
    request = urllib.request.Request(url, data=body or None, headers=dict(headers), method=method)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as answer:
            return Response(answer.status, _lower(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, _lower(error.headers.items()), error.read())


def _lower(items: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in items}


class SignedCaller:
    """Sends SigV4-signed requests, signing each at the clock's current time.

    Parameters
    ----------
    credentials
        Returns frozen credentials (called per request: temporary credentials get refreshed).
    clock
        The signing time's source.
    transport
        Sends the signed request.
    service, region
        Default: from each URL (:func:`signing_service`); set both to sign for a URL that is not a
        front door's (a local test server).
    """

    def __init__(
        self,
        credentials: Callable[[], ReadOnlyCredentials],
        clock: Clock,
        transport: Transport,
        *,
        service: str | None = None,
        region: str | None = None,
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self._transport = transport
        self._service = service
        self._region = region

    def __call__(self, method: str, url: str, body: Any = None) -> Response:
        """Send ``body`` (JSON-encoded when not None) to ``url``, signed."""
        data = b"" if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        signed = sign(
            method,
            url,
            data,
            headers,
            self._credentials(),
            self._clock.now(),
            service=self._service,
            region=self._region,
        )
        return self._transport(method, url, signed, data)


# -- the routes, their requests and what each answer must be -------------------------------------


@dataclass(frozen=True)
class ModelUnderTest:
    """A deployed model and what scikit-learn says it should answer."""

    model_name: str
    rows: Sequence[Sequence[float]] | Sequence[Mapping[str, Any]]
    predictions: Sequence[Any]
    sha256: str

    @property
    def named_columns(self) -> bool:
        """Whether the rows are records (a DataFrame model)."""
        return bool(self.rows) and isinstance(self.rows[0], Mapping)


@dataclass(frozen=True)
class CallResult:
    """One call and its verdict."""

    route: str
    verb: str
    url: str
    status: int
    passed: bool
    detail: str
    latency_ms: float


def _predict_body(model: ModelUnderTest) -> Any:
    rows: list[Any] = list(model.rows)
    if model.named_columns:
        return {"dataframe_records": [dict(row) for row in rows]}
    return {"instances": [list(row) for row in rows]}


def _infer_body(model: ModelUnderTest) -> Any:
    rows: list[Any] = list(model.rows)
    if model.named_columns:
        columns = list(rows[0])
        inputs = []
        for column in columns:
            data = [row[column] for row in rows]
            numeric = all(isinstance(v, int | float) for v in data)
            inputs.append(
                {
                    "name": column,
                    "shape": [len(data)],
                    "datatype": "FP64" if numeric else "BYTES",
                    "data": data,
                }
            )
    else:
        width = len(rows[0])
        flat = [float(v) for row in rows for v in row]
        inputs = [{"name": "input-0", "shape": [len(rows), width], "datatype": "FP64", "data": flat}]
    return {"inputs": inputs, "outputs": [{"name": "predict"}]}


def _expect_predictions(model: ModelUnderTest, found: Any) -> str | None:
    if not isinstance(found, dict) or found.get("predictions") != list(model.predictions):
        got = found.get("predictions") if isinstance(found, dict) else found
        return f"predictions {got!r} differ from scikit-learn's {list(model.predictions)!r}"
    return None


def _expect_infer(model: ModelUnderTest, found: Any) -> str | None:
    try:
        data = found["outputs"][0]["data"]
    except (KeyError, IndexError, TypeError):
        return f"no outputs[0].data in {str(found)[:200]!r}"
    if data != list(model.predictions):
        return f"OIP predict {data!r} differs from scikit-learn's {list(model.predictions)!r}"
    return None


def _expect_sha(model: ModelUnderTest, found: Any) -> str | None:
    if not isinstance(found, dict) or found.get("sha256") != model.sha256:
        return f"sha256 {found.get('sha256') if isinstance(found, dict) else None!r} is not the model's"
    return None


def _expect_name(model: ModelUnderTest, found: Any) -> str | None:
    if not isinstance(found, dict) or found.get("name") != model.model_name:
        return f"name {found.get('name') if isinstance(found, dict) else None!r} is not {model.model_name!r}"
    return None


def _expect_nothing(model: ModelUnderTest, found: Any) -> str | None:
    return None


AnswerCheck = Callable[[ModelUnderTest, Any], "str | None"]
BodyOf = Callable[[ModelUnderTest], Any]
EXPECTATIONS: Final[Mapping[str, tuple[BodyOf | None, AnswerCheck]]] = {
    contract.PREDICT.name: (_predict_body, _expect_predictions),
    contract.HEALTH.name: (None, _expect_sha),
    contract.METADATA.name: (None, _expect_sha),
    contract.V2_SERVER.name: (None, _expect_nothing),
    contract.V2_LIVE.name: (None, _expect_nothing),
    contract.V2_READY.name: (None, _expect_nothing),
    contract.V2_MODEL.name: (None, _expect_name),
    contract.V2_MODEL_READY.name: (None, _expect_nothing),
    contract.V2_INFER.name: (_infer_body, _expect_infer),
}
"""For each contract route (by name): the request body, and what its 200 answer must contain."""


def route_url(base_url: str, route: contract.Route, model_name: str) -> str:
    """The URL of ``route`` under a front door's base URL (``EndpointUrl``, ending with ``/``)."""
    path = route.path.replace("{name}", model_name)
    return base_url.rstrip("/") + path


def call_every_route(
    base_url: str, model: ModelUnderTest, caller: Callable[[str, str, Any], Response], clock: Clock
) -> list[CallResult]:
    """Call each route of ``lambda_runtime.contract.ROUTES`` with each of its verbs and judge the answer.

    Every route must answer 200 with what :data:`EXPECTATIONS` says: predictions equal to
    scikit-learn's, the model's sha256, its name.

    Raises
    ------
    KeyError
        When the contract has a route this module has no expectation for (a test guards it).
    """
    results = []
    for route in contract.ROUTES:
        body_of, check = EXPECTATIONS[route.name]
        url = route_url(base_url, route, model.model_name)
        for verb in route.verbs:
            body = body_of(model) if body_of is not None and verb == "POST" else None
            started = clock.monotonic()
            answer = caller(verb, url, body)
            latency = (clock.monotonic() - started) * 1000.0
            if answer.status != 200:
                problem: str | None = f"HTTP {answer.status}: {answer.body[:200]!r}"
            else:
                problem = check(model, answer.json())
            results.append(
                CallResult(
                    route.name, verb, url, answer.status, problem is None, problem or "as expected", latency
                )
            )
    return results


def call_unsigned(base_url: str, model: ModelUnderTest, transport: Transport, clock: Clock) -> CallResult:
    """Send one unsigned ``GET /health``: IAM auth must refuse it with 403 before the function runs."""
    url = route_url(base_url, contract.HEALTH, model.model_name)
    started = clock.monotonic()
    answer = transport("GET", url, {"Accept": "application/json"}, b"")
    latency = (clock.monotonic() - started) * 1000.0
    passed = answer.status == 403
    detail = (
        "refused" if passed else f"an unsigned request got HTTP {answer.status}, not 403: IAM auth is off"
    )
    return CallResult(contract.HEALTH.name, "GET", url, answer.status, passed, detail, latency)
