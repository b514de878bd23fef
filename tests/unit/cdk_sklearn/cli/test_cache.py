"""``cdk-sklearn cache list|prune`` on a real folder named by CDK_SKLEARN_CACHE."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from cdk_sklearn.cli import main
from cdk_sklearn.cli.cache import entries, prune

DAY = 86400.0


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    root.mkdir()
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(root))
    return root


def _entry(root: Path, kind: str, name: str, size: int, days_ago: float) -> Path:
    folder = root / kind / name
    folder.mkdir(parents=True)
    (folder / "data.bin").write_bytes(b"x" * size)
    then = time.time() - days_ago * DAY
    for path in (folder / "data.bin", folder):
        os.utime(path, (then, then))
    return folder


def test_lists_each_entry_with_its_size(cache: Path) -> None:
    _entry(cache, "layers", "aaa", 1000, 1)
    _entry(cache, "recipes", "bbb", 10, 1)
    assert {(e.kind, e.path.name, e.size) for e in entries(cache)} == {
        ("layers", "aaa", 1000),
        ("recipes", "bbb", 10),
    }


def test_last_use_is_the_newest_time_of_the_entrys_files(cache: Path) -> None:
    folder = _entry(cache, "layers", "aaa", 10, 40)
    now = time.time()
    os.utime(folder / "data.bin", (now, now - 40 * DAY))  # read today, written 40 days ago
    (entry,) = entries(cache)
    assert entry.age_days(time.time()) < 1


def test_prune_removes_entries_unused_for_30_days(cache: Path) -> None:
    _entry(cache, "layers", "old", 10, 31)
    _entry(cache, "layers", "new", 10, 2)
    prune(cache, 30)
    assert sorted(p.name for p in (cache / "layers").iterdir()) == ["new"]


def test_prune_all_removes_every_entry(cache: Path) -> None:
    _entry(cache, "layers", "old", 10, 31)
    _entry(cache, "recipes", "new", 10, 0)
    prune(cache, None)
    assert entries(cache) == []


def test_dry_run_removes_nothing(cache: Path) -> None:
    _entry(cache, "layers", "old", 10, 31)
    prune(cache, 30, dry_run=True)
    assert (cache / "layers" / "old").is_dir()


def test_a_link_to_a_folder_outside_the_cache_is_removed_as_a_link(cache: Path, tmp_path: Path) -> None:
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    (cache / "layers").mkdir()
    os.symlink(outside, cache / "layers" / "link")
    prune(cache, None)
    assert ((outside / "keep.txt").read_text(), (cache / "layers" / "link").exists()) == ("mine", False)


def test_a_linked_kind_folder_outside_the_cache_is_not_entered(cache: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    (outside / "item").mkdir(parents=True)
    os.symlink(outside, cache / "layers")
    prune(cache, None)
    assert (outside / "item").is_dir()


def test_fails_to_prune_the_file_system_root() -> None:
    with pytest.raises(ValueError, match="refusing to prune"):
        prune(Path("/"), None)


def test_fails_to_prune_the_home_folder() -> None:
    with pytest.raises(ValueError, match="refusing to prune"):
        prune(Path.home(), None)


def test_fails_on_negative_days(cache: Path) -> None:
    with pytest.raises(ValueError, match="--days must be >= 0"):
        prune(cache, -1)


def test_prune_prints_what_it_freed(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _entry(cache, "layers", "old", 2048, 31)
    assert main(["cache", "prune"]) == 0
    assert "freed 2.0 KB in 1 entries" in capsys.readouterr().out


def test_list_json_gives_bytes_and_last_use(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _entry(cache, "layers", "aaa", 1000, 3)
    main(["cache", "list", "--json"])
    (row,) = json.loads(capsys.readouterr().out)["entries"]
    assert (row["kind"], row["bytes"], round(row["days_since_use"])) == ("layers", 1000, 3)


def test_list_of_a_missing_cache_says_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / "absent"))
    main(["cache", "list"])
    assert capsys.readouterr().out.strip().endswith(": empty")
