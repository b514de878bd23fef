"""One batch-scoring job: ``SklearnBatchScoring`` (Step Functions + Lambda) against SageMaker
Batch Transform."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from cdk_sklearn.cost.bill import LineItem, OptionCost
from cdk_sklearn.cost.prices import INSTANCE_VCPUS, SAGEMAKER_INSTANCE_TYPES, price
from cdk_sklearn.cost.sagemaker import check_instance_type
from cdk_sklearn.cost.workload import ARCHITECTURES, require
from lambda_runtime import limits
from lambda_runtime.limits import DEFAULT_ARCHITECTURE

PARENT_TRANSITIONS: Final = 4
"""State transitions of a run's own execution: the Choice, the plan, the Distributed Map, the summary."""
CHILD_TRANSITIONS: Final = 2
"""State transitions per Distributed Map child (a STANDARD execution of one Lambda task): entering
the task and ending the execution. Retries add one each; none are counted."""
PLAN_AND_SUMMARY_SECONDS: Final = 2.0
"""Billed seconds of the plan and summary invocations together (a listing, a few small objects)."""


@dataclass(frozen=True)
class BatchWorkload:
    """One batch-scoring job; every field is validated on construction.

    Parameters
    ----------
    rows
        Rows scored, > 0.
    per_row_ms
        Time to decode, predict and write one row on one vCPU, > 0 ms (``benchmarks/batch.py``
        measures it: 1 / rows per second per process).
    bytes_per_row
        Average input bytes per row. Default 100.
    memory_mb
        Memory of the batch function. Default 2048.
    architecture
        ``"x86_64"`` or ``"arm64"`` (default).
    split_mib
        Input MiB per work item (one Lambda call). Default 64.
    objects
        Input objects (for the listing). Default 1.
    init_ms
        Billed INIT per execution environment (one per concurrent child). Default 2000.
    max_concurrency
        Parallel children at most (execution environments started). Default 50.
    sagemaker_instances
        Instances of each Batch Transform job. Default 1.
    provisioning_minutes
        Billed minutes per Batch Transform instance before it scores (start-up, model download).
        Default 5.
    """

    rows: float
    per_row_ms: float
    bytes_per_row: float = 100.0
    memory_mb: int = 2048
    architecture: str = DEFAULT_ARCHITECTURE
    split_mib: int = 64
    objects: int = 1
    init_ms: float = 2000.0
    max_concurrency: int = 50
    sagemaker_instances: int = 1
    provisioning_minutes: float = 5.0

    def __post_init__(self) -> None:
        require(math.isfinite(self.rows) and self.rows > 0, f"rows must be > 0, got {self.rows!r}")
        require(
            math.isfinite(self.per_row_ms) and self.per_row_ms > 0,
            f"time per row must be > 0 ms, got {self.per_row_ms!r}",
        )
        require(self.bytes_per_row > 0, f"bytes per row must be > 0, got {self.bytes_per_row!r}")
        lo, hi = limits.MEMORY_MB
        require(
            isinstance(self.memory_mb, int) and lo <= self.memory_mb <= hi,
            f"memory must be a whole number of MB from {lo} to {hi}, got {self.memory_mb!r}",
        )
        require(
            self.architecture in ARCHITECTURES,
            f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}",
        )
        require(
            isinstance(self.split_mib, int) and 1 <= self.split_mib <= 1024,
            f"split must be 1 to 1024 MiB, got {self.split_mib!r}",
        )
        require(
            isinstance(self.objects, int) and self.objects >= 1, f"objects must be >= 1, got {self.objects!r}"
        )
        require(self.init_ms >= 0, f"INIT duration must be >= 0 ms, got {self.init_ms!r}")
        require(
            isinstance(self.max_concurrency, int) and self.max_concurrency >= 1,
            f"max concurrency must be >= 1, got {self.max_concurrency!r}",
        )
        require(
            isinstance(self.sagemaker_instances, int) and self.sagemaker_instances >= 1,
            f"SageMaker instances must be >= 1, got {self.sagemaker_instances!r}",
        )
        require(
            self.provisioning_minutes >= 0,
            f"provisioning minutes must be >= 0, got {self.provisioning_minutes!r}",
        )

    @property
    def work_items(self) -> int:
        """Work items (children): the input bytes over the split size, rounded up."""
        return max(1, math.ceil(self.rows * self.bytes_per_row / (self.split_mib * 1024 * 1024)))

    @property
    def cpu_seconds(self) -> float:
        """vCPU-seconds of scoring: rows x time per row."""
        return self.rows * self.per_row_ms / 1000.0


def batch_lambda_option(job: BatchWorkload) -> OptionCost:
    """The bill of one ``SklearnBatchScoring`` run: Step Functions, Lambda, S3 requests."""
    items_n = job.work_items
    environments = min(items_n, job.max_concurrency)
    seconds = job.cpu_seconds + environments * job.init_ms / 1000.0 + PLAN_AND_SUMMARY_SECONDS
    transitions = PARENT_TRANSITIONS + CHILD_TRANSITIONS * items_n
    # Per work item: a ranged GET and a header GET; the map's manifest read, the summary's reads of
    # the result writer's manifest and results. PUTs: an output object per work item, the manifest,
    # the result writer's manifest and results, the summary. LISTs: one per 1,000 objects.
    gets = 2 * items_n + 3
    puts = items_n + 4 + math.ceil(job.objects / 1000)
    items = (
        LineItem(
            f"Step Functions ({transitions:,} transitions)",
            fixed_usd=transitions * price("stepfunctions.standard.transition"),
        ),
        LineItem(f"Lambda requests ({items_n + 2:,})", fixed_usd=(items_n + 2) * price("lambda.request")),
        LineItem(
            f"Lambda duration ({seconds:,.0f} s x {job.memory_mb} MB)",
            fixed_usd=seconds * job.memory_mb / 1024.0 * price(f"lambda.duration.{job.architecture}"),
        ),
        LineItem(
            f"S3 requests ({gets:,} GET, {puts:,} PUT/LIST)",
            fixed_usd=gets * price("s3.request.get") + puts * price("s3.request.put"),
        ),
    )
    return OptionCost(name="lambda batch (step functions)", kind="lambda-batch", line_items=items)


def batch_transform_option(job: BatchWorkload, instance_type: str) -> OptionCost:
    """The bill of a SageMaker Batch Transform job on ``instance_type`` (same hourly rate as hosting).

    Instance-seconds: the job's vCPU-seconds over the instance's vCPUs (every vCPU busy), plus the
    provisioning minutes of each instance.
    """
    check_instance_type(instance_type)
    scoring = job.cpu_seconds / INSTANCE_VCPUS[instance_type]
    provisioning = job.sagemaker_instances * job.provisioning_minutes * 60.0
    hourly = price(f"sagemaker.{instance_type}")
    items = (
        LineItem(f"Batch Transform scoring ({scoring:,.0f} instance-s)", fixed_usd=scoring * hourly / 3600.0),
        LineItem(
            f"Batch Transform provisioning ({job.sagemaker_instances} x {job.provisioning_minutes:g} min)",
            fixed_usd=provisioning * hourly / 3600.0,
        ),
    )
    return OptionCost(name=f"batch transform {instance_type}", kind="sagemaker-batch", line_items=items)


def compare_batch(job: BatchWorkload) -> dict[str, OptionCost]:
    """The Lambda batch run and a Batch Transform job per instance type, by name."""
    options = [batch_lambda_option(job), *(batch_transform_option(job, t) for t in SAGEMAKER_INSTANCE_TYPES)]
    return {o.name: o for o in options}
