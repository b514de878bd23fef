"""PNG plots of the results (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import ScalarFormatter

from benchmarks.coldstart import PHASES, ColdResult
from benchmarks.warm import WarmResult

COLORS = {"cdk-sklearn": "#1f77b4", "scikit-learn-lambda": "#d62728", "floor": "#7f7f7f"}
SHORT = {"cdk-sklearn": "ours", "scikit-learn-lambda": "sk-λ", "floor": "floor"}
PHASE_COLORS = {
    "interpreter": "#c7c7c7",
    "imports": "#1f77b4",
    "model": "#ff7f0e",
    "first_prediction": "#2ca02c",
}


def cold_start_vs_size(results: Sequence[ColdResult], title: str, output: Path) -> Path:
    """The article's figure: cold start (median) against model file size, one line per handler."""
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=120)
    for variant in dict.fromkeys(r.variant for r in results):
        points = sorted(
            (r.model.size_mb, r.total / 1000)
            for r in results
            if r.variant == variant and "mlp" in r.model.name
        )
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker="o", label=variant, color=COLORS.get(variant))
            for x, y in points:
                ax.annotate(
                    f"{y:.2f}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8
                )
    ax.set_xlabel("model file size (MB, MLPClassifier 3 hidden layers)")
    ax.set_ylabel("cold start to first answer (s, median)")
    ax.set_title(title, fontsize=10)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(output)
    plt.close(fig)
    return output


def cold_start_phases(results: Sequence[ColdResult], title: str, output: Path) -> Path:
    """Stacked bars of the median phases per model, handlers side by side."""
    variants = list(dict.fromkeys(r.variant for r in results))
    models = list(dict.fromkeys(r.model.name for r in results))
    width = 0.8 / len(variants)
    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=120)
    for v_index, variant in enumerate(variants):
        by_model = {r.model.name: r for r in results if r.variant == variant}
        xs = [m_index + (v_index - (len(variants) - 1) / 2) * width for m_index in range(len(models))]
        bottoms = [0.0] * len(models)
        for phase in PHASES:
            heights = [max(0.0, by_model[m].phase(phase)) / 1000 if m in by_model else 0.0 for m in models]
            ax.bar(
                xs,
                heights,
                width * 0.95,
                bottom=bottoms,
                color=PHASE_COLORS[phase],
                label=phase if v_index == 0 else None,
                edgecolor="white",
                linewidth=0.5,
            )
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        for x in xs:
            ax.annotate(
                SHORT.get(variant, variant),
                (x, 0),
                textcoords="offset points",
                xytext=(0, -10),
                ha="center",
                va="top",
                fontsize=7,
            )
    ax.set_xticks(range(len(models)), models, fontsize=8)
    ax.tick_params(axis="x", pad=16)
    ax.set_ylabel("seconds (median per phase)")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(output)
    plt.close(fig)
    return output


def warm_latency(results: Sequence[WarmResult], title: str, output: Path) -> Path:
    """Warm handler median (bar, labelled with its overhead) and p99 (tick) against predict alone."""
    ours = [r for r in results if r.variant == "cdk-sklearn"]
    models = [r.model.name for r in ours]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), dpi=120, sharey=False)
    for ax, rows, label in ((axes[0], "rows1", "1 row"), (axes[1], "rows100", "100 rows")):
        xs = range(len(ours))
        handler = [r.handler[rows].median_us / 1000 for r in ours]
        predict = [r.predict[rows].median_us / 1000 for r in ours]
        p99 = [r.handler[rows].p99_us / 1000 for r in ours]
        ax.bar([x - 0.2 for x in xs], handler, 0.4, label="handler (median)", color=COLORS["cdk-sklearn"])
        ax.bar([x + 0.2 for x in xs], predict, 0.4, label="predict() alone (median)", color="#aec7e8")
        ax.scatter(
            [x - 0.2 for x in xs], p99, marker="_", s=200, color="black", label="handler p99", zorder=3
        )
        ax.set_yscale("log")
        ax.set_ylim(bottom=0.05)
        ax.yaxis.set_major_formatter(ScalarFormatter())
        for x, h, r in zip(xs, handler, ours, strict=True):
            ax.annotate(
                f"+{r.overhead_us(rows):.0f} µs",
                (x - 0.2, h),
                textcoords="offset points",
                xytext=(0, 3),
                ha="center",
                fontsize=7,
            )
        ax.set_xticks(list(xs), models, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("ms per request (log scale)")
        ax.set_title(label, fontsize=10)
        ax.grid(axis="y", alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(output)
    plt.close(fig)
    return output
