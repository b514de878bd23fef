"""Draw monthly cost against requests per month for each option (the article's calculator, as a PNG).

matplotlib is imported inside :func:`plot_costs` with the Agg backend, so importing this module
(and running ``cdk-sklearn cost`` without ``--plot``) never pays for it or needs a display.
"""

from __future__ import annotations

import math
from pathlib import Path

from cdk_sklearn.cost.compare import CostReport
from cdk_sklearn.cost.prices import PRICES_CHECKED, REGION
from cdk_sklearn.cost.workload import format_requests

_STYLE = {"lambda": "-", "sagemaker": "--", "sagemaker-serverless": ":"}


def volume_range(report: CostReport) -> tuple[float, float]:
    """The x range drawn: from 10k requests to past every break-even and the chosen volume."""
    finite = [n for b in report.break_evens for n in b.requests_per_month if math.isfinite(n)]
    top = max([1e8, report.workload.requests_per_month * 3.0, *(n * 3.0 for n in finite)])
    return 1e4, min(top, 1e10)


def plot_costs(report: CostReport, path: str | Path) -> Path:
    """Write a PNG of every option's monthly cost over a log range of volumes; return its path.

    Parameters
    ----------
    report
        The comparison to draw (from :func:`cdk_sklearn.cost.compare.compare`).
    path
        Where to write the PNG; its directory must exist.

    Raises
    ------
    ValueError
        If ``path`` does not end in ``.png`` or its directory does not exist.
    """
    out = Path(path)
    if out.suffix.lower() != ".png":
        raise ValueError(f"the plot is written as PNG; give a file name ending in .png, got {str(out)!r}")
    if not out.parent.is_dir():
        raise ValueError(
            f"cannot write the plot to {str(out)!r}: directory {str(out.parent)!r} does not exist"
        )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    lo, hi = volume_range(report)
    volumes = np.logspace(math.log10(lo), math.log10(hi), 400)
    w = report.workload
    fig, ax = plt.subplots(figsize=(10, 6.2), dpi=110)
    for option in report.options:
        costs = [option.monthly_usd(float(n)) for n in volumes]
        ax.plot(volumes, costs, _STYLE.get(option.kind, "-"), linewidth=2.0, label=option.name)
    # Break-evens of each Lambda option against the real-time endpoints, marked on the Lambda line.
    names = {o.name: o for o in report.options}
    for b in report.break_evens:
        for n in b.requests_per_month:
            if lo <= n <= hi:
                ax.plot([n], [names[b.lambda_option].monthly_usd(n)], "o", color="black", markersize=4)
    ax.axvline(w.requests_per_month, color="grey", linestyle="-.", linewidth=1.0)
    fixed = [o.monthly_usd(0.0) for o in report.options if o.kind == "sagemaker"]
    ax.set_ylim(0, max(fixed) * 1.6 if fixed else None)
    ax.set_xlim(lo, hi)
    ax.set_xscale("log")
    ax.set_xlabel("requests per month (log scale)")
    ax.set_ylabel("USD per month")
    free = "free tiers included" if w.include_free_tier else "free tiers excluded"
    ax.set_title(
        f"Monthly cost of serving predictions, {REGION}, prices checked {PRICES_CHECKED}\n"
        f"Lambda {w.memory_mb} MB {w.architecture}, {w.duration_ms:g} ms/prediction, "
        f"cold starts {w.cold_start_rate:.0%} x {w.init_duration_ms:g} ms INIT; {free}",
        fontsize=10,
    )
    ax.annotate(
        f"{format_requests(w.requests_per_month)}/month",
        xy=(w.requests_per_month, ax.get_ylim()[1]),
        xytext=(4, -12),
        textcoords="offset points",
        fontsize=8,
        color="grey",
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out
