"""``SklearnBatchScoring``: score the objects under an S3 prefix with the model, on Step Functions.

The state machine (Standard), top to bottom::

    Choice: an upload event (input {"object_key": ...})?  -> PlanUpload | PlanPrefix
    Plan      (Lambda, action "plan")      list the input, cut it into work items, write their manifest
    Score     (Distributed Map)            S3JsonLItemReader over the manifest; ItemBatcher: one work
                                           item per child, with the job as BatchInput; each child one
                                           Lambda call (action "score"); ResultWriterV2 stores the
                                           children's summaries under <output_prefix>_runs/
    Summarize (Lambda, action "summarize") add the children's summaries up, list failed work items,
                                           write <output_prefix>_runs/<execution name>/summary.json

Why a planning step rather than a Distributed Map straight over the objects: a 50-million-row
object cannot be one child (a Lambda call stops at 15 minutes), and the CSV/JSONL item readers read
one object and hand rows over as strings, 256 KiB of them per batch, which for scikit-learn means
thousands of tiny calls. The plan cuts large objects into byte ranges of ``split_mib`` and packs
small objects together up to that size (by data bytes, which ``ItemBatcher`` cannot see); each
child reads its ranges itself with ranged GETs, aligned to line boundaries, so memory is bounded by
the range, never by the object. Output keys are derived from the object and the range start only,
so a rerun overwrites the same objects (see :func:`lambda_runtime.contract.batch_output_key`).

The work runs in the *same function code* as the endpoint, with the same model and layer: the
endpoint's ``live`` alias when ``endpoint=`` is given (its handler hands batch events to the batch
entry), else a function of its own built from the endpoint's building blocks
(:func:`~cdk_sklearn.function_code.function_code`, the shared :class:`~cdk_sklearn.layer.SklearnLayer`).
"""

from cdk_sklearn.batch.props import BatchProps, BatchSettings
from cdk_sklearn.batch.scoring import SklearnBatchScoring

__all__ = ["BatchProps", "BatchSettings", "SklearnBatchScoring"]
