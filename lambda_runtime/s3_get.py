"""Read one S3 object with a SigV4-signed GET, using the standard library only.

Importing boto3 and making a client costs 0.16-0.18 s of every cold start, all to send one GET. This
module sends that GET itself: ``http.client`` for the request, ``hmac``/``hashlib`` for Signature
Version 4 (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html), signed the
way botocore's ``S3SigV4Auth`` signs a GetObject (the payload hash is the empty body's SHA-256, sent
as ``x-amz-content-sha256``; signed headers ``host``, ``x-amz-content-sha256``, ``x-amz-date`` and,
with temporary credentials, ``x-amz-security-token``).

Credentials are taken as Lambda provides them: ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/
``AWS_SESSION_TOKEN`` on on-demand functions; under SnapStart, the container credentials endpoint
``AWS_CONTAINER_CREDENTIALS_FULL_URI`` with ``AWS_CONTAINER_AUTHORIZATION_TOKEN`` (or the token read
from ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE``). The endpoint is
``https://<bucket>.s3.<region>.amazonaws.com`` (path style for bucket names with dots), or, as boto3
does, ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` with path-style addressing.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from .processes import worker_processes

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
"""The payload hash of a GET (no body), as botocore's S3 signer sends it."""
ATTEMPTS = 4
DEADLINE_SECONDS = 8.0
"""All attempts of one read fit in this: Lambda gives init 10 s before it restarts it (on demand)."""
MANAGED_INSTANCES_DEADLINE_SECONDS = 60.0
"""The same on managed instances, where INIT may take the larger of 130 s and the timeout, and every
worker process of an environment reads the model at once: half the 130 s floor, leaving the rest for
deserializing it."""
SOCKET_TIMEOUT_SECONDS = 3.0
"""Per connect and per socket read; a stalled connection is retried rather than waited for."""
_USER_AGENT = "cdk-sklearn-runtime"
# Bucket names that can be a DNS label of the virtual-hosted endpoint (no dots: they would break the
# TLS wildcard certificate, which is why boto3 also falls back to path style for them).
_VIRTUAL_HOSTABLE = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
_ERROR_CODE = re.compile(rb"<Code>([A-Za-z0-9.]{1,64})</Code>")
_CONTAINER_HOST = "169.254.170.2"
# The hosts botocore's ContainerMetadataFetcher reads credentials from over plain http (besides loopback).
_CONTAINER_HOSTS = (_CONTAINER_HOST, "169.254.170.23", "fd00:ec2::23", "localhost")
# botocore's region-name rule: the region becomes a DNS label of the endpoint and part of the signature.
_REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?")
# ASCII digits only: str.isdigit() also accepts '²', which int() then refuses.
_LENGTH = re.compile(r"[0-9]{1,15}")
MAX_OBJECT_BYTES = 10240 * 1024 * 1024
"""No function can hold more (Lambda's largest memory size): a larger declared length is refused
before anything is allocated."""


class S3GetError(Exception):
    """The object could not be read; ``code`` is S3's error code (``NoSuchKey``, ``AccessDenied``...)."""

    def __init__(self, message: str, *, code: str, retryable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


@dataclass(frozen=True)
class Credentials:
    """An access key pair and, for temporary credentials, the session token."""

    access_key: str
    secret_key: str
    token: str | None = None


def get_object(
    bucket: str,
    key: str,
    environ: Mapping[str, str] | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[bytes, str]:
    """Return the object's bytes and their hex SHA-256, retrying 5xx, throttling and network errors.

    Each attempt hashes the body as it arrives (hashing overlaps the network wait), and starts over
    if the connection breaks mid-body.

    Raises
    ------
    S3GetError
        No credentials, an error S3 will repeat (403, 404), or every attempt failed.
    """
    environ = os.environ if environ is None else environ
    deadline = time.monotonic() + deadline_seconds(environ)
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    if not _REGION.fullmatch(region):
        # It becomes part of a host name and of the signature's scope: refuse it as botocore does.
        raise S3GetError(f"invalid region name {region[:64]!r}", code="InvalidRegion", retryable=False)
    credentials = resolve_credentials(environ, deadline)
    url = object_url(bucket, key, environ)
    last: S3GetError | None = None
    for attempt in range(ATTEMPTS):
        if attempt:
            # Full jitter over an exponential cap (AWS's retry guidance): 0.1, 0.2, 0.4 s at most.
            pause = random.uniform(0, 0.1 * 2 ** (attempt - 1))
            if time.monotonic() + pause >= deadline:
                break
            sleep(pause)
        headers = sign_get(url, region, credentials, datetime.now(UTC))
        try:
            return _get_once(url, headers, deadline, environ)
        except S3GetError as exc:
            if not exc.retryable:
                raise
            last = exc
    raise last or S3GetError("S3 GetObject timed out", code="Timeout", retryable=True)


def deadline_seconds(environ: Mapping[str, str]) -> float:
    """How long one read may take: :data:`DEADLINE_SECONDS` on demand, longer on managed instances."""
    if worker_processes(environ) is not None:
        return MANAGED_INSTANCES_DEADLINE_SECONDS
    return DEADLINE_SECONDS


def _get_once(
    url: str, headers: Mapping[str, str], deadline: float, environ: Mapping[str, str]
) -> tuple[bytes, str]:
    parts = urlsplit(url)
    timeout = max(min(SOCKET_TIMEOUT_SECONDS, deadline - time.monotonic()), 0.1)
    connection = _connection(parts.scheme, parts.netloc, timeout, environ)
    # A socket timeout bounds each read, not the whole body: a server that sends a byte every two
    # seconds would never trip it. The watchdog shuts the socket at the deadline, whatever is arriving.
    watchdog: threading.Timer | None = None
    try:
        connection.request("GET", parts.path, headers=dict(headers))
        watchdog = _watchdog(connection, deadline)
        response = connection.getresponse()
        if response.status != 200:
            raise _error_of(response, url)
        data = _read_body(response, url, _object_limit(environ))
        if time.monotonic() >= deadline:
            raise _late(url, deadline_seconds(environ))
        return data, hashlib.sha256(data).hexdigest()
    except S3GetError:
        # A body cut short by the watchdog is the deadline's doing, not a reason to try again.
        if time.monotonic() >= deadline:
            raise _late(url, deadline_seconds(environ)) from None
        raise
    except (OSError, http.client.HTTPException) as exc:
        if time.monotonic() >= deadline:
            raise _late(url, deadline_seconds(environ)) from None
        raise S3GetError(
            f"GET {url}: {type(exc).__name__}: {exc}", code=type(exc).__name__, retryable=True
        ) from None
    finally:
        if watchdog is not None:
            watchdog.cancel()
        connection.close()


def _watchdog(connection: http.client.HTTPConnection, deadline: float) -> threading.Timer:
    """Shut the connection's socket at ``deadline``, whatever is arriving; cancel it when done."""
    # The socket itself, not the connection: http.client hands it to the response and forgets it when
    # the server says it will close.
    timer = threading.Timer(max(deadline - time.monotonic(), 0.0), _shut, args=(connection.sock,))
    timer.daemon = True
    timer.start()
    return timer


def _object_limit(environ: Mapping[str, str]) -> int:
    """The largest body worth reading: the function's own memory (Lambda sets it), else Lambda's largest."""
    memory = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
    return int(memory) * 1024 * 1024 if _LENGTH.fullmatch(memory) else MAX_OBJECT_BYTES


def _late(url: str, seconds: float) -> S3GetError:
    return S3GetError(f"GET {url}: not complete within {seconds:g} s", code="Timeout", retryable=False)


def _shut(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _error_of(response: http.client.HTTPResponse, url: str) -> S3GetError:
    body = response.read(4096)
    found = _ERROR_CODE.search(body)
    code = found.group(1).decode() if found else f"HTTP{response.status}"
    # 5xx and throttling are S3's own transient state; 403/404 will not change by retrying now.
    retryable = response.status >= 500 or response.status == 429 or code == "SlowDown"
    return S3GetError(f"HTTP {response.status} {code} for GET {url}", code=code, retryable=retryable)


def _read_body(response: http.client.HTTPResponse, url: str, limit: int) -> bytes:
    """The body in one buffer of its declared size (S3 always declares it): no chunks joined, so the
    peak is the object once, not twice."""
    declared = response.getheader("Content-Length")
    if declared is None or not _LENGTH.fullmatch(declared.strip()):
        raise S3GetError(
            f"GET {url}: the response has no valid Content-Length ({(declared or '')[:32]!r})",
            code="BadContentLength",
            retryable=True,
        )
    length = int(declared)
    too_large = S3GetError(
        f"GET {url}: {length} bytes is more than this function's memory can hold; raise memory_size",
        code="TooLarge",
        retryable=False,
    )
    if length > limit:
        raise too_large
    try:
        data = response.read(length)
    except MemoryError:
        raise too_large from None
    if len(data) != length:
        raise S3GetError(f"GET {url}: {len(data)} of {length} bytes", code="IncompleteRead", retryable=True)
    return data


def _connection(
    scheme: str, netloc: str, timeout: float, environ: Mapping[str, str]
) -> http.client.HTTPConnection:
    if scheme == "https":
        import ssl  # only for https: a loopback endpoint in tests never pays for it

        context = ssl.create_default_context(cafile=environ.get("AWS_CA_BUNDLE") or None)
        return http.client.HTTPSConnection(netloc, timeout=timeout, context=context)
    return http.client.HTTPConnection(netloc, timeout=timeout)


def object_url(bucket: str, key: str, environ: Mapping[str, str]) -> str:
    """The GetObject URL: a configured endpoint (path style) or S3's regional endpoint."""
    path_key = quote(key, safe="/~")
    ignore = environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").strip().lower() == "true"
    endpoint = None if ignore else environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        return f"{endpoint.rstrip('/')}/{quote(bucket, safe='')}/{path_key}"
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    if _VIRTUAL_HOSTABLE.fullmatch(bucket) and "--" not in bucket:
        return f"https://{bucket}.s3.{region}.{suffix}/{path_key}"
    return f"https://s3.{region}.{suffix}/{quote(bucket, safe='')}/{path_key}"


def sign_get(url: str, region: str, credentials: Credentials, now: datetime) -> dict[str, str]:
    """The headers of a SigV4-signed S3 GET of ``url`` at ``now`` (UTC), ``Authorization`` included.

    Every header returned is sent; all but ``User-Agent`` are signed (botocore never signs it either).
    """
    parts = urlsplit(url)
    # The Host header as http.client sends it: the port only when it is not the scheme's default.
    default_port = 443 if parts.scheme == "https" else 80
    host = parts.hostname or ""
    if parts.port is not None and parts.port != default_port:
        host = f"{host}:{parts.port}"
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    signed = {"host": host, "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": stamp}
    if credentials.token:
        signed["x-amz-security-token"] = credentials.token
    names = sorted(signed)
    canonical = "\n".join(
        [
            "GET",
            parts.path or "/",  # already URI-encoded once; S3 paths are not normalised or re-encoded
            parts.query,
            "".join(f"{name}:{' '.join(signed[name].split())}\n" for name in names),
            ";".join(names),
            EMPTY_SHA256,
        ]
    )
    scope = f"{stamp[:8]}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = f"AWS4{credentials.secret_key}".encode()
    for part in (stamp[:8], region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers = {
        "Host": host,
        "X-Amz-Content-SHA256": EMPTY_SHA256,
        "X-Amz-Date": stamp,
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}"
        ),
        "User-Agent": _USER_AGENT,
    }
    if credentials.token:
        headers["X-Amz-Security-Token"] = credentials.token
    return headers


def resolve_credentials(environ: Mapping[str, str], deadline: float | None = None) -> Credentials:
    """Credentials from the environment, else from the container credentials endpoint (SnapStart).

    ``deadline`` (``time.monotonic()``) bounds the endpoint's answer as a whole; default
    :data:`DEADLINE_SECONDS` from now.

    Raises
    ------
    S3GetError
        Neither source is configured, or the endpoint did not answer with credentials.
    """
    access_key = environ.get("AWS_ACCESS_KEY_ID")
    secret_key = environ.get("AWS_SECRET_ACCESS_KEY")
    if access_key and secret_key:
        return Credentials(access_key, secret_key, environ.get("AWS_SESSION_TOKEN") or None)
    relative = environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    full_uri = environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if relative is not None:  # botocore's order: the relative URI first, on the ECS/Lambda host
        uri = f"http://{_CONTAINER_HOST}{relative}"
        # Checked as built, as botocore does: a relative part can move the host ("...2.evil.example/").
        _check_container_uri(uri)
        return _container_credentials(uri, environ, deadline)
    if full_uri is not None:
        _check_container_uri(full_uri)
        return _container_credentials(full_uri, environ, deadline)
    raise S3GetError(
        "no AWS credentials: neither AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY nor "
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/AWS_CONTAINER_CREDENTIALS_FULL_URI is set",
        code="NoCredentials",
        retryable=False,
    )


def _check_container_uri(uri: str) -> None:
    """Refuse a full URI botocore would refuse: plain http only to loopback or the container hosts."""
    parts = urlsplit(uri)
    if parts.scheme == "https":
        return
    host = parts.hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme != "http" or not (loopback or host in _CONTAINER_HOSTS):
        raise S3GetError(
            f"AWS_CONTAINER_CREDENTIALS_FULL_URI host {host[:64]!r} is not allowed: over http only a "
            f"loopback address or {', '.join(_CONTAINER_HOSTS)}; use https for any other",
            code="NoCredentials",
            retryable=False,
        )


def _container_token(environ: Mapping[str, str]) -> str | None:
    """The authorization token: the token file first (it is rotated), else the variable."""
    token_file = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    token = environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
    if token_file is not None:
        try:
            with open(token_file, encoding="utf-8") as stream:
                # A text file's final newline is not part of the token; one inside it still is refused.
                token = stream.read().strip()
        except OSError as exc:
            raise S3GetError(
                f"cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: {exc}",
                code="NoCredentials",
                retryable=True,
            ) from None
    if token is not None and ("\r" in token or "\n" in token):
        # A header value with a line break would let the token inject headers into the request.
        raise S3GetError(
            "the container authorization token contains a line break; it is not a legal header value",
            code="NoCredentials",
            retryable=False,
        )
    return token


def _container_credentials(uri: str, environ: Mapping[str, str], deadline: float | None) -> Credentials:
    deadline = time.monotonic() + DEADLINE_SECONDS if deadline is None else deadline
    headers = {"Accept": "application/json", "User-Agent": _USER_AGENT}
    token = _container_token(environ)
    if token:
        headers["Authorization"] = token
    parts = urlsplit(uri)
    last = ""
    for attempt in range(3):
        if attempt:
            time.sleep(0.05 * attempt)
        if time.monotonic() >= deadline:
            break
        connection = _connection(parts.scheme, parts.netloc, 2.0, environ)
        watchdog: threading.Timer | None = None
        try:
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            connection.request("GET", path or "/", headers=headers)
            watchdog = _watchdog(connection, deadline)
            response = connection.getresponse()
            body = response.read(65536)
            if response.status == 200:
                document = json.loads(body)
                return Credentials(
                    str(document["AccessKeyId"]),
                    str(document["SecretAccessKey"]),
                    document.get("Token") or None,
                )
            last = f"HTTP {response.status}"
            if response.status < 500 and response.status != 429:
                break
        except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        finally:
            if watchdog is not None:
                watchdog.cancel()
            connection.close()
    raise S3GetError(
        f"the container credentials endpoint gave no credentials ({last})",
        code="NoCredentials",
        retryable=True,
    )
