"""Entry points: one batch action per invocation, on the endpoint's model or a batch function's own."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from .. import contract as c
from ..config import Settings
from ..model import LoadedModel, ModelLoadError
from ..store import load_model
from .job import BatchJobError, BatchRetryableError, Job
from .plan import plan
from .score import score_work_item
from .storage import ObjectStore, S3Store
from .summary import add_summary, empty_summary, summarize


def load_batch_model(settings: Settings) -> LoadedModel:
    """Load the model for batch work (:func:`lambda_runtime.store.load_model`; it carries its engine)."""
    return load_model(settings)


def preload(model: LoadedModel) -> None:
    """Import now what scoring with ``model`` imports on its first mini-batch (pandas, for the
    vectorized DataFrame path): a process about to fork workers pays for it once, not per worker."""
    if model.engine.name == "sklearn" and model.feature_names_in is not None:
        import pandas  # noqa: F401


_MODEL: list[LoadedModel] = []  # loaded on the first score call (plan and summarize need no model)


def _own_model() -> LoadedModel:
    if not _MODEL:
        try:
            _MODEL.append(load_batch_model(Settings.from_environ(os.environ)))
        except ModelLoadError as exc:
            if exc.retryable:
                raise BatchRetryableError(exc.detail) from None
            raise
    return _MODEL[0]


def handle_batch(
    event: Mapping[str, Any],
    model: Callable[[], LoadedModel],
    store: ObjectStore | None = None,
) -> dict[str, Any]:
    """Run one batch action (``plan``, ``score`` or ``summarize``) and return its result.

    Raises
    ------
    BatchJobError
        The event does not describe a job this model can do.
    BatchRetryableError
        S3 or the model fetch failed in a way a retry may not.
    """
    body = event.get(c.BATCH_EVENT_KEY)
    if not isinstance(body, Mapping) or body.get("action") not in c.BATCH_ACTIONS:
        actions = ", ".join(c.BATCH_ACTIONS)
        raise BatchJobError(f'a batch event is {{"{c.BATCH_EVENT_KEY}": {{"action": <{actions}>, ...}}}}')
    job = Job.from_event(body.get("job"))
    store = store if store is not None else S3Store()
    action = body["action"]
    if action == "plan":
        return plan(store, job, str(body["run"]), body.get("object_key"))
    if action == "summarize":
        return summarize(store, job, str(body["run"]), body.get("results"))
    items = body.get("items")
    if not isinstance(items, list):
        raise BatchJobError("a score event needs items: the list of work items to score")
    loaded = model()
    total = empty_summary()
    for item in items:
        add_summary(total, score_work_item(store, job, loaded, item))
    return total


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point of a batch function of its own (``lambda_runtime.batch.handler``)."""
    return handle_batch(event, _own_model)
