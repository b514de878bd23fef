"""The lock's file format: TOML written by hand reads back as written, byte for byte."""

from __future__ import annotations

import tomllib
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from cdk_sklearn.packaging.lock_format import _string, read_entries, render

COMMITTED_LOCK = Path(__file__).parents[4] / "pylock.cdk-sklearn.toml"


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"])))
def test_toml_strings_round_trip(value):
    assert tomllib.loads(f"x = {_string(value)}")["x"] == value


def test_the_committed_lock_renders_back_byte_identically():
    # The repository's own lock, as `cdk synth` wrote it: reading and writing it again changes nothing.
    text = COMMITTED_LOCK.read_text(encoding="utf-8")
    entries = read_entries(COMMITTED_LOCK, frozenset())
    assert entries
    assert render(entries) == text
