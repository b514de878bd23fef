"""Train the demo model: a StandardScaler + LogisticRegression pipeline on the iris data set.

Iris ships inside scikit-learn, so this needs no network. The model is saved with joblib, the format
the endpoint loads by default.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def train(output: Path) -> Path:
    """Fit the iris pipeline and write it to ``output``; return the path written."""
    features, target = load_iris(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(features, target)
    output.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, output)
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("models/iris.joblib"))
    args = parser.parse_args()
    path = train(args.output)
    print(f"trained iris model: {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
