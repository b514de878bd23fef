"""``cdk-sklearn serve``: run the Lambda handler on a model file behind a local HTTP server."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO, cast

from cdk_sklearn.cli.local_function import local_function, missing_locally
from cdk_sklearn.cli.local_server import LocalServer
from cdk_sklearn.model.artifact import ModelArtifact, inspect_model
from lambda_runtime import contract, limits


def register(subparsers: Any) -> None:
    """Add the ``serve`` sub-command to the CLI."""
    parser = subparsers.add_parser(
        "serve",
        help="serve a model locally with the Lambda handler",
        description=(
            "Load MODEL with the same handler code Lambda runs and answer HTTP requests on HOST:PORT, "
            "each turned into an API Gateway HTTP API event. Routes: POST /predict, GET /health, "
            "GET /metadata and the Open Inference Protocol /v2 routes."
        ),
    )
    parser.add_argument("--model", required=True, type=Path, help="model file (.joblib, .pkl or .skops)")
    parser.add_argument(
        "--port", type=int, default=8080, help="port to listen on (default 8080; 0 = any free)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--name", default=None, help='model name for the /v2 routes (default MODEL_NAME or "model")'
    )
    parser.add_argument(
        "--memory-mb",
        type=int,
        default=None,
        help=(
            "the function's memory size, MB: serve runs with the environment Lambda gives a function of "
            "that size (OMP_NUM_THREADS for its vCPUs, AWS_LAMBDA_FUNCTION_MEMORY_SIZE), so local "
            "latency is the function's (default: memory_size of --env in ./cdk.json, else "
            f"{limits.DEFAULT_MEMORY_MB})"
        ),
    )
    parser.add_argument(
        "--env",
        default=None,
        metavar="NAME",
        help=(
            "an environment of ./cdk.json (dev, prod...): serve with its memory_size, environment, "
            "model_name and skops_trusted_types"
        ),
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help=(
            "no line per request: neither the access-log line (stderr) nor the handler's JSON request "
            "log (stdout); the handler's warnings and errors still print"
        ),
    )
    parser.set_defaults(func=run)


class QuietLog(io.TextIOBase):
    """The handler's log stream for ``serve --quiet``: passes WARNING and ERROR lines, drops the rest.

    The handler writes one JSON object per line, the per-request record at INFO; a line that is not
    JSON is passed through.
    """

    def __init__(self, target: TextIO) -> None:
        self._target = target
        self._pending = ""

    def writable(self) -> bool:
        """Always writable."""
        return True

    def write(self, text: str) -> int:
        """Buffer ``text`` and forward each complete line worth showing."""
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if _shown_when_quiet(line):
                self._target.write(line + "\n")
        self._target.flush()
        return len(text)


def _shown_when_quiet(line: str) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return bool(line.strip())
    return not isinstance(record, dict) or record.get("level") not in ("INFO", "DEBUG")


def model_environment(model: Path, name: str | None = None) -> dict[str, str]:
    """The environment variables the construct would set for ``model``, for a local file.

    Raises
    ------
    ValueError
        ``model`` is not a readable file.
    """
    return _model_environment(read_model(model), name)


def _model_environment(artifact: ModelArtifact, name: str | None) -> dict[str, str]:
    environment = {contract.ENV_MODEL_URI: str(artifact.path), **artifact.runtime_environment()}
    if name:
        environment[contract.ENV_MODEL_NAME] = name
    return environment


def read_model(model: Path) -> ModelArtifact:
    """Read ``model`` as synth does (digest, training version, what it needs), never unpickling it.

    Raises
    ------
    ValueError
        ``model`` is not a readable file.
    """
    path = model.expanduser().resolve()
    if not path.is_file():
        raise ValueError(f"--model {str(model)!r} is not a file; pass the path of a .joblib or .skops model")
    return inspect_model(path)


def run(args: argparse.Namespace) -> int:
    """Load the model and serve until interrupted; return the exit code."""
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be between 0 and 65535, got {args.port}")
    function = local_function(args.memory_mb, args.env, Path.cwd())
    artifact = read_model(args.model)
    missing = missing_locally(artifact, function.extra_requirements)
    if missing:
        raise ValueError(missing)
    # Before the function code is imported: OpenMP and BLAS read their thread counts once, on load.
    threads = function.apply(os.environ)
    os.environ.update(_model_environment(artifact, args.name or function.model_name))
    # Imported here: this is the one place cdk_sklearn runs the function code.
    from lambda_runtime.app import create_app

    stream = cast(TextIO, QuietLog(sys.stdout)) if args.quiet else None
    app = create_app(os.environ, stream=stream)
    if app.model is None:
        reason = app.load_error.public_message if app.load_error else "unknown reason"
        raise ValueError(f"the model {str(args.model)!r} could not be loaded: {reason}")
    try:
        server = LocalServer(
            (args.host, args.port), app.handle, quiet=args.quiet, memory_mb=function.memory_mb
        )
    except OSError as exc:
        raise ValueError(
            f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); "
            "choose another --port or --host"
        ) from None
    print(
        f"{threads}\n"
        f"serving {args.model} ({app.model.estimator_class}) at {server.url}\n"
        f"  curl -s {server.url}/health\n"
        "  curl -s -H 'Content-Type: application/json' "
        f"-d '{{\"instances\": [[...]]}}' {server.url}/predict\n"
        "Ctrl-C to stop",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
