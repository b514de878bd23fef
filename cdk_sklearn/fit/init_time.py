"""The INIT time of a model function, estimated at synth, and what Lambda allows for it.

INIT is the runtime's start, the engine's imports, the model's download and its load (the handler loads
the model at import, so the first request never pays for it). Lambda gives a function a share of a vCPU in
proportion to its memory (one full vCPU at 1,769 MB), so the CPU-bound parts scale with it and the
download does not. The rules (``/work/shared/AWS-FACTS-2026.md`` section 0, from
docs.aws.amazon.com/lambda/latest/dg/runtimes-context.html):

- on demand, an INIT over 10 s is retried inside the first invoke, under the function's timeout;
- with provisioned concurrency or SnapStart, INIT may run up to the larger of 130 s and the timeout;
- on Lambda Managed Instances too (environments start ahead of traffic; the 10 s rule does not apply).

The estimate is noisy (a shared host measured it; S3's throughput varies), so it is a warning, never a
refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdk_sklearn.fit.baselines import baseline_for
from cdk_sklearn.model.artifact import ModelArtifact
from lambda_runtime import limits

MB = 1024 * 1024
RUNTIME_START_SECONDS = 0.1
"""The interpreter and the runtime interface client before the handler's first import."""
S3_MB_PER_SECOND = 80.0
"""A single GET from Lambda to S3 in the same region: an assumption (tens of MB/s are typical for one
stream), not a measurement here; a larger model downloads proportionally longer."""
LOAD_MB_PER_SECOND = 500.0
"""SHA-256 plus unpickling at one full vCPU: 52 MB in 0.1 s for the MLP of docs/benchmarks.md."""
SECONDS_PER_OBJECT = 3e-6
"""Unpickling one Python object (a string, a dict entry): a 600,000-word vocabulary took 1.6 s here."""
ON_DEMAND_INIT_SECONDS = 10.0
PROVISIONED_INIT_SECONDS = 130.0


@dataclass(frozen=True)
class InitEstimate:
    """The INIT of a model function, in seconds, and its parts.

    Attributes
    ----------
    imports_seconds, download_seconds, load_seconds
        The engine's imports and the model's load (scaled by the CPU share), and its download.
    cpu_share
        The vCPU share Lambda gives the function at its memory size (at most 1 for these single-threaded
        steps).
    """

    imports_seconds: float
    download_seconds: float
    load_seconds: float
    cpu_share: float

    @property
    def total_seconds(self) -> float:
        """The estimated INIT."""
        return RUNTIME_START_SECONDS + self.imports_seconds + self.download_seconds + self.load_seconds


def estimate_init(model: ModelArtifact, engine: str, memory_size: int) -> InitEstimate:
    """The INIT of a function of ``memory_size`` MB serving ``model`` with ``engine``."""
    share = min(1.0, memory_size / limits.FULL_VCPU_MEMORY_MB)
    baseline = baseline_for(engine, model)
    data_mb = (model.data_bytes or model.size_bytes) / MB
    return InitEstimate(
        imports_seconds=baseline.import_seconds / share,
        download_seconds=model.size_bytes / MB / S3_MB_PER_SECOND,
        load_seconds=(data_mb / LOAD_MB_PER_SECOND + model.objects * SECONDS_PER_OBJECT) / share,
        cpu_share=share,
    )


def init_warning(
    estimate: InitEstimate, *, strategy: str, timeout_seconds: int, memory_size: int
) -> str | None:
    """Why this INIT may fail on Lambda and what to do, or None when it fits.

    Parameters
    ----------
    estimate
        The INIT estimate.
    strategy
        The cold-start strategy: ``none`` (on demand), ``provisioned`` or ``snapstart``; or
        ``managed_instances`` for a function on Lambda Managed Instances.
    timeout_seconds, memory_size
        The function's settings.
    """
    total = estimate.total_seconds
    if strategy == "none":
        if total <= ON_DEMAND_INIT_SECONDS:
            return None
        return (
            f"INIT is estimated at {total:.1f} s at {memory_size} MB, over Lambda's "
            f"{ON_DEMAND_INIT_SECONDS:g} s "
            "on demand (Lambda then retries it inside the first invoke, under the timeout, and the caller "
            "waits): use cold_start SnapStart or provisioned concurrency (INIT may then take up to "
            f"{PROVISIONED_INIT_SECONDS:g} s), the ONNX engine (engine='auto'), or more memory (more CPU)"
        )
    # Provisioned concurrency, SnapStart and managed instances alike: the larger of 130 s and the timeout.
    allowed = max(PROVISIONED_INIT_SECONDS, float(timeout_seconds))
    if total <= allowed:
        return None
    return (
        f"INIT is estimated at {total:.1f} s at {memory_size} MB, over the {allowed:g} s Lambda allows with "
        f"{strategy}: use the ONNX engine (engine='auto'), more memory (more CPU), or a smaller model"
    )
