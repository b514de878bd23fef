"""The lock's file format: TOML written by hand reads back as written, byte for byte."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cdk_sklearn.packaging.lock_entry import LockError
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


def test_the_committed_lock_names_no_url_or_machine_path():
    text = COMMITTED_LOCK.read_text(encoding="utf-8")
    assert "url" not in text and "file:" not in text and "/opt/" not in text


def test_a_lock_written_with_urls_reads_and_writes_back_without_them(tmp_path):
    # Written by cdk-sklearn before the URL was dropped: the wheel by name and by (a machine's) URL.
    old = COMMITTED_LOCK.read_text(encoding="utf-8").replace(
        'name = "joblib-1.6.0-py3-none-any.whl", ',
        'name = "joblib-1.6.0-py3-none-any.whl", '
        'url = "file:///opt/pypi/files/joblib-1.6.0-py3-none-any.whl", ',
    )
    assert "file:///opt" in old
    (tmp_path / "pylock.toml").write_text(old, encoding="utf-8")
    assert render(read_entries(tmp_path / "pylock.toml", frozenset())) == COMMITTED_LOCK.read_text()


def test_fails_on_a_wheel_of_another_distribution(tmp_path):
    text = COMMITTED_LOCK.read_text(encoding="utf-8").replace(
        'name = "joblib-1.6.0-py3-none-any.whl"', 'name = "joblib-1.5.0-py3-none-any.whl"'
    )
    (tmp_path / "pylock.toml").write_text(text, encoding="utf-8")
    with pytest.raises(
        LockError, match=r"wheel 'joblib-1\.5\.0-py3-none-any\.whl' is not a wheel of joblib 1\.6\.0"
    ):
        read_entries(tmp_path / "pylock.toml", frozenset())
