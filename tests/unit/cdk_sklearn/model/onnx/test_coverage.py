"""The coverage corpus (issue 25): every kind converts and verifies, or is refused in one line, never a crash.

``EXPECTED`` is the table ``docs/readme/onnx.md`` publishes: a kind that stops converting, or a refusal
that starts, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cdk_sklearn.model.onnx import ConversionError, convert
from tests.helpers.onnx_models import CORPUS, corpus_model

VERIFIED = "converted and verified"
EXPECTED: dict[str, str] = dict.fromkeys(CORPUS, VERIFIED)
"""Every corpus kind converts today; a refusal would be written here as the part of its one line."""
BEFORE_ISSUE_25 = 20
"""Kinds of this corpus that converted and verified before issue 25's converters and tolerances."""
DOCS = Path(__file__).resolve().parents[5] / "docs" / "readme" / "onnx.md"


def _outcome(kind: str, folder: Path) -> str:
    model, sample = corpus_model(kind, folder)
    try:
        convert(model, sample, measure_cost=False)
    except ConversionError as exc:
        message = str(exc)
        assert "\n" not in message
        return message
    return VERIFIED


@pytest.mark.parametrize("kind", CORPUS)
def test_corpus_kind_has_its_published_outcome(kind, tmp_path):
    outcome = _outcome(kind, tmp_path)
    assert EXPECTED[kind] in outcome


def test_corpus_holds_at_least_thirty_kinds_of_every_family():
    assert len(CORPUS) >= 30
    assert any(k.startswith("frame_") for k in CORPUS) and any("xgboost" in k for k in CORPUS)
    assert any("lightgbm" in k for k in CORPUS) and any("regress" in k for k in CORPUS)


def test_at_least_ninety_percent_of_the_corpus_converts():
    verified = sum(outcome == VERIFIED for outcome in EXPECTED.values())
    assert verified / len(EXPECTED) >= 0.9 and verified > BEFORE_ISSUE_25


def test_the_documentation_publishes_the_table():
    rows = dict(re.findall(r"^\| `(\w+)` \| [^|]+ \| ([^|]+?) \|", DOCS.read_text(), flags=re.MULTILINE))
    assert {kind: rows.get(kind, "").strip() for kind in CORPUS} == EXPECTED
