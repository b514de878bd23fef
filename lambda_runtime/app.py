"""The application behind the Lambda handler: model state, routing, and the one place errors become
responses.

:func:`create_app` builds an :class:`App` from an environment mapping (it loads the model right away);
``handler.py`` builds one at import time, tests build as many as they need.
"""

from __future__ import annotations

import gc
import os
import platform
import random
import resource
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from . import __version__
from . import contract as c
from .codec import (
    decode_predict,
    encode_csv,
    encode_json,
    load_json,
    media_type,
    request_format,
    response_format,
)
from .config import Settings
from .errors import HttpError, MethodNotAllowed, NotFound, ServiceUnavailable
from .events import Request, build_response, parse_event, request_id_of
from .model import LoadedModel, ModelLoadError
from .observability import JsonLogger
from .oip import (
    BINARY_CONTENT_TYPE,
    BINARY_EXTENSION,
    HEADER_LENGTH,
    binary_tensor,
    decode_infer,
    model_metadata,
    output_tensor,
    split_body,
)
from .predict import check_tensor_answer, choose_method, prepare, run
from .responses import (
    CSV_TYPE,
    JSON_TYPE,
    MEASURE_BODY_FROM,
    Response,
    check_response_size,
    internal_error_response,
    safe_request_id,
)
from .routing import Bound, match
from .store import load_model
from .warm_up import missing_dependency

__all__ = ["App", "create_app"]


@dataclass
class _Outcome:
    """What the request log line reports besides status and latency."""

    route: str = "unmatched"
    method: str | None = None
    rows: int | None = None
    prediction_ms: float | None = None
    lambda_request_id: dict[str, str] = field(default_factory=dict)
    """``{"requestId": ...}``: Lambda's own id, the key of its JSON logs (empty without a context)."""


def _lambda_request_id(context: Any) -> dict[str, str]:
    """``{"requestId": context.aws_request_id}``, the field Lambda's JSON logs correlate lines by.

    Where worker processes answer concurrently (managed instances), lines of different requests
    interleave in one log stream; this is what tells them apart.
    """
    found = getattr(context, "aws_request_id", None)
    return {"requestId": found[:64]} if isinstance(found, str) and found else {}


RouteHandler = Callable[["Request", _Outcome, dict[str, str]], Response]


class App:
    """One served model and the routes around it.

    Parameters
    ----------
    settings
        The runtime settings (usually from :meth:`Settings.from_environ`).
    logger
        Where log lines and metrics go.
    loader
        Loads the model from the settings; :func:`store.load_model` unless replaced.
    """

    def __init__(
        self,
        settings: Settings,
        logger: JsonLogger | None = None,
        loader: Callable[[Settings], LoadedModel] = load_model,
    ) -> None:
        self.settings = settings
        self.logger = logger or JsonLogger(settings.log_level)
        self.model: LoadedModel | None = None
        self.load_error: ModelLoadError | None = None
        self._loader = loader
        self._last_attempt = float("-inf")
        self._lock = threading.Lock()
        self._cold = True
        # The contract's routes, each bound to the method that answers it.
        self.routes: tuple[Bound[RouteHandler], ...] = (
            (c.PREDICT, self._predict),
            (c.HEALTH, self._health),
            (c.METADATA, self._metadata),
            (c.V2_SERVER, self._v2_server),
            (c.V2_LIVE, self._v2_live),
            (c.V2_READY, self._v2_ready),
            (c.V2_MODEL, self._v2_model),
            (c.V2_MODEL_READY, self._v2_model_ready),
            (c.V2_INFER, self._v2_infer),
        )

    # -- model state ---------------------------------------------------------------------------

    def load(self) -> bool:
        """Load (or reload) the model; return whether it is loaded. Never raises."""
        self._last_attempt = time.monotonic()
        try:
            model = self._loader(self.settings)
        except ModelLoadError as exc:
            self.load_error = exc
            self.logger.error(
                "model not loaded",
                reason=exc.detail,
                retryable=exc.retryable,
                model_uri=self.settings.model_uri,
            )
            return False
        except Exception as exc:  # a loader bug must not kill init: answer 503 instead
            self.load_error = ModelLoadError(
                "the model could not be loaded because of an internal error; see the function's logs",
                detail=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}",
            )
            self.logger.error("model not loaded", reason=self.load_error.detail)
            return False
        for warning in model.load_warnings:
            self.logger.warning("warning while loading the model", warning=warning)
        problem = self._warm_up(model)
        if problem is not None:
            # Serving it would answer every request with a 500; a 503 from /health says why.
            self.model, self.load_error = None, problem
            self.logger.error("model not loaded", reason=problem.detail, retryable=False)
            return False
        self.model, self.load_error = model, None
        self.logger.info(
            "model loaded",
            estimator_class=model.estimator_class,
            sha256=model.sha256,
            size_bytes=model.size_bytes,
            load_ms=round(model.load_seconds * 1000, 1),
            # The process's peak so far, the figure to compare with the synth-time estimate and with
            # the REPORT line's Max Memory Used (Linux reports ru_maxrss in KiB).
            peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            init_type=os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"),
        )
        return True

    def _warm_up(self, model: LoadedModel) -> ModelLoadError | None:
        """Call the estimator once on a row of zeros; return the problem if it cannot predict at all.

        The first call into an estimator pays one-off costs (imports inside scikit-learn, BLAS thread
        pools); paying them here puts them into init, which provisioned concurrency and SnapStart
        capture, instead of into the first request. The same call is the one check that the model's
        run-time dependencies are there: a module or shared library missing now is missing for every
        request. A row of zeros may be invalid data for the model (a category never seen in
        training); that says nothing about its health, so only missing dependencies count.
        """
        engine = model.engine
        # A loader other than load_model may hand over a model without methods; load() never raises.
        method = model.methods[0] if model.methods else "predict"
        try:
            sample = engine.warm_up_input(model)
        except ModelLoadError as exc:
            self.logger.warning("warm-up prediction not possible", reason=exc.public_message)
            return exc
        if sample is None:
            self.logger.debug("warm-up prediction skipped: the model's input width is not known")
            return None
        try:
            engine.call(model, method, sample)
        except Exception as exc:
            problem = missing_dependency(exc, method)
            self.logger.warning(
                "warm-up prediction failed",
                reason=f"{type(exc).__name__}: {exc}",
                model_can_serve=problem is None,
            )
            return problem
        return None

    def current_model(self) -> LoadedModel:
        """Return the loaded model, retrying a transient load failure at most every few seconds.

        Raises
        ------
        ServiceUnavailable
            No model is loaded; the message says why.
        """
        model = self.model
        if model is not None:
            return model
        error = self.load_error
        due = time.monotonic() - self._last_attempt >= self.settings.reload_interval_seconds
        if (error is None or error.retryable) and due and self._lock.acquire(blocking=False):
            try:
                self.load()
            finally:
                self._lock.release()
        if self.model is not None:
            return self.model
        reason = self.load_error.public_message if self.load_error else "the model is still loading"
        raise ServiceUnavailable(f"the model is not loaded: {reason}")

    # -- SnapStart hooks -------------------------------------------------------------------------

    def before_snapshot(self) -> None:
        """Run before Lambda snapshots the initialized environment: drop garbage from the snapshot."""
        gc.collect()
        self.logger.info("before snapshot", model_loaded=self.model is not None)

    def after_restore(self) -> None:
        """Run in each environment restored from the snapshot.

        Every restored environment starts from the same memory image, so random state is re-seeded
        from the OS here; otherwise all of them would draw the same "random" numbers. No network client
        survives init (S3 is read with a client made for that one read), so none needs refreshing.
        """
        random.seed()
        try:
            import numpy as np

            np.random.seed()  # legacy global RandomState, used by estimators with random_state=None
        except ImportError:  # pragma: no cover - numpy is always there with scikit-learn
            pass
        self._cold = True
        if self.model is None:
            self.load()
        self.logger.info("after restore", model_loaded=self.model is not None)

    # -- request handling --------------------------------------------------------------------------

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        """Answer one API Gateway / Function URL event; never raises."""
        started = time.perf_counter()
        cold, self._cold = self._cold, False
        outcome = _Outcome()
        request_id = ""
        http_method = path = None
        error_text = None
        try:
            try:
                request = parse_event(event, context)
                request_id = request.request_id
                http_method, path = request.method, request.path
                status, body, content_type, headers = self._dispatch(request, outcome)
                response = build_response(
                    status, body, content_type=content_type, request_id=request_id, headers=headers
                )
                if len(body) > MEASURE_BODY_FROM:
                    check_response_size(response, outcome.rows)
            except HttpError as exc:
                request_id = request_id or request_id_of(event, context)
                status = exc.status
                body = encode_json({"error": exc.message, "request_id": request_id})
                error_text = exc.message
                response = build_response(
                    status, body, content_type=JSON_TYPE, request_id=request_id, headers=exc.headers
                )
        except Exception as exc:
            status = 500
            request_id = request_id or safe_request_id(event, context)
            error_text = f"{type(exc).__name__}: {exc}"
            self.logger.error(
                "unhandled error",
                request_id=request_id,
                **_lambda_request_id(context),
                error=error_text,
                traceback=traceback.format_exc(),
            )
            response = internal_error_response(request_id)
        outcome.lambda_request_id = _lambda_request_id(context)
        self._log_request(request_id, outcome, http_method, path, status, started, cold, error_text)
        return response

    def _log_request(
        self,
        request_id: str,
        outcome: _Outcome,
        http_method: str | None,
        path: str | None,
        status: int,
        started: float,
        cold: bool,
        error_text: str | None,
    ) -> None:
        fields: dict[str, Any] = {
            "request_id": request_id,
            **outcome.lambda_request_id,
            "route": outcome.route,
            "http_method": http_method,
            "path": path[:200] if path else path,
            "method": outcome.method,
            "rows": outcome.rows,
            "status": status,
            "latency_ms": round((time.perf_counter() - started) * 1000, 3),
        }
        if error_text is not None:
            fields["error"] = error_text[:500]
        metrics: dict[str, float] = {}
        if outcome.prediction_ms is not None:
            metrics["PredictionLatency"] = round(outcome.prediction_ms, 3)
            metrics["Rows"] = outcome.rows or 0
        metrics["ColdStart"] = 1 if cold else 0
        metrics["4xx"] = 1 if 400 <= status < 500 else 0
        metrics["5xx"] = 1 if status >= 500 else 0
        self.logger.request(
            fields,
            metrics,
            namespace=self.settings.metrics_namespace,
            dimensions={"ModelName": self.settings.model_name},
        )

    def _dispatch(self, request: Request, outcome: _Outcome) -> Response:
        (route, action), params = match(request, self.routes, self.settings.route_prefix)
        outcome.route = route.path
        if request.method not in route.verbs:
            raise MethodNotAllowed(
                f"{route.path} does not answer {request.method[:20]}; use {' or '.join(route.verbs)}",
                allowed=route.verbs,
            )
        return action(request, outcome, params)

    # -- routes ------------------------------------------------------------------------------------

    def _predict(self, request: Request, outcome: _Outcome, params: dict[str, str]) -> Response:
        model = self.current_model()
        body = request.body_bytes(self.settings.max_body_bytes)
        in_format = request_format(request.headers.get("content-type"), allow_csv=True)
        out_format = response_format(request.headers.get("accept"))
        decoded = decode_predict(body, in_format)
        method = choose_method(model, decoded.method, request.query.get("method"))
        outcome.method = method
        model_input = prepare(model, decoded.table)
        outcome.rows = model_input.n_rows
        prediction = run(model, method, model_input)
        outcome.prediction_ms = prediction.seconds * 1000
        predictions = prediction.to_json()
        if out_format == "csv":
            return 200, encode_csv(predictions), CSV_TYPE, {}
        payload: dict[str, Any] = {"predictions": predictions}
        if method == "predict_proba" and model.classes is not None:
            payload["classes"] = model.classes
        return 200, encode_json(payload), JSON_TYPE, {}

    def _health(self, request: Request, outcome: _Outcome, params: dict[str, str]) -> Response:
        model = self.current_model()
        return (
            200,
            encode_json({"status": "ok", "model_name": self.settings.model_name, "sha256": model.sha256}),
            JSON_TYPE,
            {},
        )

    def _metadata(self, request: Request, outcome: _Outcome, params: dict[str, str]) -> Response:
        model = self.current_model()
        document = {
            "model_name": self.settings.model_name,
            "estimator_class": model.estimator_class,
            "training_sklearn_version": self.settings.training_sklearn_version
            or model.details.get("training_sklearn_version"),
            "runtime_python_version": platform.python_version(),
            "sha256": model.sha256,
            "format": model.file_format,
            "size_bytes": model.size_bytes,
            "n_features_in_": model.n_features_in,
            "feature_names_in_": list(model.feature_names_in) if model.feature_names_in is not None else None,
            "classes_": model.classes,
            "methods": list(model.methods),
            "load_warnings": list(model.load_warnings),
            **model.engine.describe(model),
        }
        return 200, encode_json(document), JSON_TYPE, {}

    def _v2_server(self, request: Request, outcome: _Outcome, params: dict[str, str]) -> Response:
        return (
            200,
            encode_json({"name": "cdk-sklearn", "version": __version__, "extensions": [BINARY_EXTENSION]}),
            JSON_TYPE,
            {},
        )

    def _v2_live(self, request: Request, outcome: _Outcome, params: dict[str, str]) -> Response:
        return 200, encode_json({"live": True}), JSON_TYPE, {}

    def _v2_ready(self, request: Request, outcome: _Outcome, params: dict[str, str]) -> Response:
        self.current_model()
        return 200, encode_json({"ready": True}), JSON_TYPE, {}

    def _v2_model(self, request: Request, outcome: _Outcome, params: dict[str, str]) -> Response:
        self._check_model_name(params["name"])
        model = self.current_model()
        return 200, encode_json(model_metadata(model, self.settings.model_name)), JSON_TYPE, {}

    def _v2_model_ready(self, request: Request, outcome: _Outcome, params: dict[str, str]) -> Response:
        self._check_model_name(params["name"])
        self.current_model()
        return 200, encode_json({"name": self.settings.model_name, "ready": True}), JSON_TYPE, {}

    def _v2_infer(self, request: Request, outcome: _Outcome, params: dict[str, str]) -> Response:
        self._check_model_name(params["name"])
        model = self.current_model()
        body = request.body_bytes(self.settings.max_body_bytes)
        header_length = request.headers.get(HEADER_LENGTH.lower())
        content_type = request.headers.get("content-type")
        # A body with binary tensors is not JSON as a whole; clients label it octet-stream, or not at all.
        if header_length is None or media_type(content_type) != BINARY_CONTENT_TYPE:
            request_format(content_type, allow_csv=False)
        accept = request.headers.get("accept")
        if BINARY_CONTENT_TYPE not in (accept or ""):
            response_format(accept, allow_csv=False)
        json_part, binary = split_body(body, header_length)
        infer = decode_infer(load_json(json_part), binary)
        methods = [choose_method(model, name, None) for name in infer.outputs]
        for method in methods:
            check_tensor_answer(model, method)
        outcome.method = ",".join(methods)
        model_input = prepare(model, infer.table)
        outcome.rows = model_input.n_rows
        predictions = [run(model, method, model_input) for method in methods]
        outcome.prediction_ms = sum(p.seconds for p in predictions) * 1000
        arrays = [prediction.tensor() for prediction in predictions]
        outputs = [output_tensor(method, array) for method, array in zip(methods, arrays, strict=True)]
        binaries = [
            binary_tensor(tensor, array)
            for tensor, array in zip(outputs, arrays, strict=True)
            if tensor["name"] in infer.binary_outputs
        ]
        payload = {
            "model_name": self.settings.model_name,
            "id": infer.id or request.request_id,
            "parameters": {},
            "outputs": outputs,
        }
        if not binaries:
            return 200, encode_json(payload), JSON_TYPE, {}
        header = encode_json(payload).encode("utf-8")
        return (
            200,
            header + b"".join(binaries),
            BINARY_CONTENT_TYPE,
            {HEADER_LENGTH: str(len(header))},
        )

    def _check_model_name(self, name: str) -> None:
        if name != self.settings.model_name:
            raise NotFound(
                f"no model named {name[:80]!r}; this endpoint serves {self.settings.model_name!r} "
                f"(GET /v2/models/{self.settings.model_name})"
            )


def create_app(environ: Mapping[str, str] | None = None, *, stream: TextIO | None = None) -> App:
    """Build an :class:`App` from ``environ`` (``os.environ`` when ``None``) and load its model.

    Parameters
    ----------
    environ
        The environment variables to read (``MODEL_URI``, ``MODEL_SHA256``, ...).
    stream
        Where logs go; stdout when ``None``.
    """
    settings = Settings.from_environ(os.environ if environ is None else environ)
    app = App(settings, JsonLogger(settings.log_level, stream))
    app.load()
    return app
