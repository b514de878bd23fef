from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.models import ModelSpec, generate, model_specs, size_table


def test_article_mlp_lands_within_five_percent_of_its_size(small_models):
    mlp = small_models["mlp-100x3"]
    assert mlp.article_mb == 0.68
    assert mlp.size_error is not None and abs(mlp.size_error) <= 0.05


def test_models_are_deterministic(small_models, tmp_path: Path):
    spec = next(s for s in model_specs(mlp_units=(100,)) if s.name == "mlp-100x3")
    again = generate(tmp_path, [spec])[0]
    assert again.path.read_bytes() == small_models["mlp-100x3"].path.read_bytes()


def test_size_table_lists_every_model_against_the_article(small_models):
    table = size_table(small_models.values())
    assert "| mlp-100x3 | 0.68 | 0.68 |" in table
    assert "| scaler-logreg |" in table


def test_fails_when_a_model_is_far_from_the_article_size(tmp_path: Path):
    pipeline = next(s for s in model_specs(mlp_units=()) if s.name == "scaler-logreg")
    wrong = ModelSpec("scaler-logreg", pipeline.build, article_mb=10.0)
    with pytest.raises(ValueError, match=r"was 10.0 MB .*delete the file to regenerate it"):
        generate(tmp_path, [wrong])
