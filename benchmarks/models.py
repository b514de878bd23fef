"""The benchmark models: the source article's MLP family, a random forest and the demo pipeline.

The article ("Saving 95% on infrastructure costs using AWS Lambda for scikit-learn predictions", and the
README of model-zoo/scikit-learn-lambda) trained ``MLPClassifier`` models with three hidden layers of
100, 250, 500, 750 and 900 units on iris with ``max_iter=1`` and saved them with ``joblib.dump``, giving
0.68, 4.08, 16.17, 36.25 and 52.13 MB. The same recipe reproduces those sizes today (MB = 10**6 bytes):
a fitted MLP pickles four float64 copies of its weights (``coefs_``, ``_best_coefs`` and the Adam
optimizer's two moment estimates), so the file is about 4 x 8 bytes x parameters, as it was with the
scikit-learn 0.23 of 2020: no tuning of the layout or the training was needed.
``random_state`` makes the files deterministic.

Run ``python -m benchmarks.models --output build/bench-models`` to print the table.
"""

from __future__ import annotations

import argparse
import json
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# Hidden units per layer -> the article's joblib file size in MB.
ARTICLE_MLP_SIZES_MB: dict[int, float] = {100: 0.68, 250: 4.08, 500: 16.17, 750: 36.25, 900: 52.13}
SIZE_TOLERANCE = 0.05
SEED = 0
MB = 1_000_000  # the article's sizes match decimal megabytes


@dataclass(frozen=True)
class ModelSpec:
    """One benchmark model: its name, how to build it and the article's size if it has one."""

    name: str
    build: Callable[[], Any]
    article_mb: float | None = None


@dataclass(frozen=True)
class BenchModel:
    """A model file written for the benchmark."""

    name: str
    path: Path
    size_bytes: int
    article_mb: float | None
    rows: str | None = None
    """JSON text of the rows to send (a list of at least 100), or None for iris-like rows."""

    def rows_text(self, count: int) -> str | None:
        """The first ``count`` of :attr:`rows` as JSON text, or None when the model takes iris rows."""
        return None if self.rows is None else json.dumps(json.loads(self.rows)[:count])

    @property
    def size_mb(self) -> float:
        return self.size_bytes / MB

    @property
    def size_error(self) -> float | None:
        """Relative difference from the article's size, or None for models the article did not have."""
        if self.article_mb is None:
            return None
        return self.size_mb / self.article_mb - 1.0


def _mlp(units: int) -> Callable[[], Any]:
    def build() -> Any:
        # The article's recipe: three equal hidden layers, default Adam solver, a single epoch.
        return MLPClassifier(hidden_layer_sizes=(units, units, units), max_iter=1, random_state=SEED)

    return build


def _forest() -> Any:
    return RandomForestClassifier(n_estimators=100, random_state=SEED)


def _pipeline() -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))


def model_specs(mlp_units: Iterable[int] = tuple(ARTICLE_MLP_SIZES_MB)) -> list[ModelSpec]:
    """Return the benchmark models, smallest first: the MLP family, then the forest and the pipeline."""
    specs = [ModelSpec(f"mlp-{u}x3", _mlp(u), ARTICLE_MLP_SIZES_MB.get(u)) for u in mlp_units]
    specs.append(ModelSpec("random-forest", _forest))
    specs.append(ModelSpec("scaler-logreg", _pipeline))
    return specs


def generate(output_dir: Path, specs: Iterable[ModelSpec] | None = None) -> list[BenchModel]:
    """Fit each model on iris and write it to ``output_dir/<name>.joblib``.

    Files already present are reused: the models are deterministic, and fitting the large MLPs costs
    seconds each.

    Raises
    ------
    ValueError
        When an MLP's file size is more than 5% away from the article's.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    features, target = load_iris(return_X_y=True)
    models = []
    for spec in model_specs() if specs is None else specs:
        path = output_dir / f"{spec.name}.joblib"
        if not path.exists():
            with warnings.catch_warnings():
                # max_iter=1 is the article's recipe: the MLPs are deliberately not converged.
                warnings.simplefilter("ignore", ConvergenceWarning)
                estimator = spec.build().fit(features, target)
            partial = path.with_suffix(".partial")
            joblib.dump(estimator, partial)
            partial.replace(path)
        model = BenchModel(spec.name, path, path.stat().st_size, spec.article_mb)
        if model.size_error is not None and abs(model.size_error) > SIZE_TOLERANCE:
            raise ValueError(
                f"{path} is {model.size_mb:.2f} MB but the article's {spec.name} was {spec.article_mb} MB "
                f"({model.size_error:+.1%}, allowed +-{SIZE_TOLERANCE:.0%}); "
                "delete the file to regenerate it, or check the scikit-learn/joblib versions"
            )
        models.append(model)
    return models


def size_table(models: Iterable[BenchModel]) -> str:
    """Return a markdown table of model sizes against the article's."""
    lines = ["| model | size (MB) | article (MB) | difference |", "|---|---:|---:|---:|"]
    for m in models:
        article = "—" if m.article_mb is None else f"{m.article_mb:.2f}"
        diff = "—" if m.size_error is None else f"{m.size_error:+.2%}"
        lines.append(f"| {m.name} | {m.size_mb:.2f} | {article} | {diff} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the benchmark models and print their sizes.")
    parser.add_argument("--output", type=Path, default=Path("build/bench-models"))
    args = parser.parse_args(argv)
    print(size_table(generate(args.output)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
