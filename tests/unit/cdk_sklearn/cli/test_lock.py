"""``cdk-sklearn lock``: list, upgrade (against a local package index) and remove entries."""

from __future__ import annotations

import pytest

from cdk_sklearn.cli import main
from cdk_sklearn.packaging.lock import LayerSpec, Lock, locked_entry
from cdk_sklearn.packaging.target import LambdaTarget
from tests.helpers.wheels import make_wheel, use_local_index

ARM64 = LambdaTarget("python3.13", "arm64")
X86 = LambdaTarget("python3.12", "x86_64")


@pytest.fixture
def index(tmp_path, monkeypatch):
    folder = tmp_path / "index"
    make_wheel(folder, "tinypkg", "1.0")
    make_wheel(folder, "otherpkg", "0.1")
    use_local_index(monkeypatch, folder)
    # No interpreter lookup on the machine: the entry keeps the release it has.
    monkeypatch.setattr("cdk_sklearn.cli.lock.find_interpreter", lambda *_: None)
    return folder


@pytest.fixture
def lock(tmp_path, index, monkeypatch):
    path = tmp_path / "pylock.cdk-sklearn.toml"
    monkeypatch.setenv("CDK_SKLEARN_LOCK", str(path))
    for target in (ARM64, X86):
        locked_entry(LayerSpec.of(["tinypkg"], target), path, "3.13.5", lambda _: None)
    return path


def _keys(path):
    return sorted(Lock.read(path).entries)


def test_lists_entries(lock, capsys):
    assert main(["lock"]) == 0
    out = capsys.readouterr().out
    for key in _keys(lock):
        assert key in out
    assert "python3.13 arm64: tinypkg\n  tinypkg==1.0" in out


def test_upgrade_prints_version_changes_and_writes(lock, index, capsys):
    make_wheel(index, "tinypkg", "2.0")
    assert main(["lock", "--upgrade"]) == 0
    out = capsys.readouterr().out
    for key in _keys(lock):
        assert f"{key}: 1 changed\n  tinypkg 1.0 -> 2.0\n" in out
    assert out.endswith(f"{lock} updated\n")
    assert {p.version for e in Lock.read(lock).entries.values() for p in e.packages} == {"2.0"}


def test_upgrade_of_one_entry_leaves_the_others(lock, index, capsys):
    arm64, x86 = (LayerSpec.of(["tinypkg"], t).key for t in (ARM64, X86))
    before = Lock.read(lock).entries[x86]
    make_wheel(index, "tinypkg", "2.0")
    assert main(["lock", "--upgrade", "--entry", arm64]) == 0
    assert capsys.readouterr().out == f"{arm64}: 1 changed\n  tinypkg 1.0 -> 2.0\n{lock} updated\n"
    entries = Lock.read(lock).entries
    assert entries[x86] == before
    assert entries[arm64].packages[0].version == "2.0"
    assert entries[arm64].bytecode_python == "3.13.5"


def test_upgrade_without_news_says_so(lock, capsys):
    before = lock.read_text()
    assert main(["lock", "--upgrade", "--file", str(lock)]) == 0
    assert capsys.readouterr().out.endswith(f"{lock} unchanged\n")
    assert lock.read_text() == before


def test_upgrade_repairs_an_entry_with_broken_packages(lock, capsys):
    x86 = LayerSpec.of(["tinypkg"], X86).key  # sorts first: its package is the first in the file
    text = lock.read_text()
    sha = Lock.read(lock).entries[x86].packages[0].sha256
    lock.write_text(text.replace(sha, "not-a-hash", 1))
    assert main(["lock"]) == 2
    assert f"malformed: packages[0] ('tinypkg' of entry {x86}) wheel has no sha256" in capsys.readouterr().err
    assert main(["lock", "--upgrade", "--entry", x86]) == 0
    assert lock.read_text() == text


def test_remove_deletes_one_entry(lock, capsys):
    arm64, x86 = (LayerSpec.of(["tinypkg"], t).key for t in (ARM64, X86))
    assert main(["lock", "--remove", arm64]) == 0
    assert f"removed entry {arm64} (python3.13 arm64: tinypkg)" in capsys.readouterr().out
    assert _keys(lock) == [x86]


def test_fails_on_unknown_entry(lock, capsys):
    before = lock.read_text()
    assert main(["lock", "--upgrade", "--entry", "sklearn-py313-arm64-00000000"]) == 2
    err = capsys.readouterr().err
    assert "has no entry sklearn-py313-arm64-00000000; its entries are: " in err
    assert lock.read_text() == before


def test_fails_without_lock_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CDK_SKLEARN_LOCK", str(tmp_path / "absent.toml"))
    assert main(["lock", "--upgrade"]) == 2
    assert "no lock file at" in capsys.readouterr().err


def test_fails_on_entry_without_upgrade(lock, capsys):
    assert main(["lock", "--entry", "x"]) == 2
    assert "--entry selects what --upgrade re-resolves" in capsys.readouterr().err
