"""The app's layer lock: file format, checks, and builds from a local package index (pip, no network)."""

from __future__ import annotations

import csv
import tomllib

import pytest

from cdk_sklearn.packaging.build import build_from_entry, build_layer
from cdk_sklearn.packaging.install import LockedPackage
from cdk_sklearn.packaging.lock import (
    LayerSpec,
    Lock,
    LockEntry,
    LockError,
    lock_path,
    locked_entry,
    upgrade,
    version_changes,
)
from cdk_sklearn.packaging.target import LambdaTarget
from tests.helpers.wheels import make_wheel, use_local_index

ARM64 = LambdaTarget("python3.13", "arm64")
X86 = LambdaTarget("python3.12", "x86_64")
SHA_A, SHA_B, SHA_C = "a" * 64, "b" * 64, "c" * 64


def _entry(target: LambdaTarget = ARM64, sklearn: str = "1.9.1", bytecode: str | None = "3.13.5"):
    spec = LayerSpec.of([f"scikit-learn=={sklearn}", "numpy>=2"], target)
    packages = (
        LockedPackage("numpy", "2.5.5", "numpy-2.5.5-cp313-cp313-manylinux_2_28_aarch64.whl", SHA_A),
        LockedPackage(
            "scikit-learn", sklearn, f"scikit_learn-{sklearn}-cp313-cp313-manylinux_2_28_aarch64.whl", SHA_B
        ),
    )
    return LockEntry(spec, target.platform_tags, packages, bytecode)


def _lock(tmp_path, *entries: LockEntry) -> Lock:
    return Lock(tmp_path / "pylock.cdk-sklearn.toml", {e.key: e for e in entries})


# --- format ----------------------------------------------------------------------------------------


def test_write_read_round_trip(tmp_path):
    lock = _lock(tmp_path, _entry(), _entry(X86, "1.9.2", None))
    assert lock.write()
    assert Lock.read(lock.path).entries == lock.entries
    assert not lock.write(), "same content: the file is not rewritten"


def test_file_is_pep_751_with_one_dependency_group_per_layer(tmp_path):
    entry = _entry()
    _lock(tmp_path, entry).write()
    data = tomllib.loads((tmp_path / "pylock.cdk-sklearn.toml").read_text())
    assert data["lock-version"] == "1.0"
    assert data["created-by"] == "cdk-sklearn"
    assert data["dependency-groups"] == [entry.key]
    numpy = data["packages"][0]
    assert numpy == {
        "name": "numpy",
        "version": "2.5.5",
        "marker": f"'{entry.key}' in dependency_groups",
        "wheels": [
            {"name": "numpy-2.5.5-cp313-cp313-manylinux_2_28_aarch64.whl", "hashes": {"sha256": SHA_A}}
        ],
    }
    assert data["tool"]["cdk-sklearn"]["layers"][entry.key] == {
        "engine": "sklearn",
        "runtime": "python3.13",
        "architecture": "arm64",
        "requirements": ["numpy>=2", "scikit-learn==1.9.1"],
        "platforms": ["manylinux_2_28_aarch64", "manylinux2014_aarch64"],
        "bytecode-python": "3.13.5",
    }


def test_lock_path_defaults_to_working_folder_and_honours_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CDK_SKLEARN_LOCK")
    assert lock_path() == tmp_path / "pylock.cdk-sklearn.toml"
    monkeypatch.setenv("CDK_SKLEARN_LOCK", str(tmp_path / "locks" / "prod.toml"))
    assert lock_path() == tmp_path / "locks" / "prod.toml"


def test_version_changes_name_old_and_new():
    old = [LockedPackage("numpy", "2.5.5", "u", SHA_A), LockedPackage("narwhals", "2.29.0", "u", SHA_A)]
    new = [
        LockedPackage("NumPy", "2.6.0", "u", SHA_B),
        LockedPackage("narwhals", "2.29.0", "u", SHA_C),
        LockedPackage("pandas", "2.3.1", "u", SHA_C),
    ]
    assert version_changes(old, new) == [
        "narwhals 2.29.0 (new wheel hash)",
        "NumPy 2.5.5 -> 2.6.0",
        "+ pandas 2.3.1",
    ]


# --- malformed files: clear error, file unchanged ----------------------------------------------------


def _corrupt(tmp_path, old: str, new: str) -> tuple[LockEntry, str]:
    entry = _entry()
    lock = _lock(tmp_path, entry)
    lock.write()
    text = lock.path.read_text()
    assert old in text
    lock.path.write_text(text.replace(old, new, 1))
    return entry, lock.path.read_text()


def _synth_with(tmp_path, entry: LockEntry) -> None:
    # What SklearnLayer does with the lock, up to the point where pip would run.
    locked_entry(entry.spec, tmp_path / "pylock.cdk-sklearn.toml", None, print)


def test_fails_on_invalid_toml_and_leaves_file(tmp_path):
    entry, before = _corrupt(tmp_path, 'lock-version = "1.0"', "lock-version = 1.0.0.0")
    with pytest.raises(LockError) as caught:
        _synth_with(tmp_path, entry)
    message = str(caught.value)
    path = tmp_path / "pylock.cdk-sklearn.toml"
    assert f"the layer lock {path} is malformed: it is not valid TOML" in message
    assert "changed nothing" in message and "restore it from version control, or delete it" in message
    assert "\n" not in message
    assert (tmp_path / "pylock.cdk-sklearn.toml").read_text() == before


def test_fails_on_bad_hash_naming_the_entry_and_the_fix(tmp_path):
    entry, before = _corrupt(tmp_path, SHA_A, "a" * 63)
    with pytest.raises(LockError) as caught:
        _synth_with(tmp_path, entry)
    message = str(caught.value)
    assert "wheel has no sha256 of 64 lower-case hex digits" in message
    assert f"cdk-sklearn lock --upgrade --entry {entry.key}" in message
    assert f"delete the table [tool.cdk-sklearn.layers.{entry.key}]" in message
    assert (tmp_path / "pylock.cdk-sklearn.toml").read_text() == before


def test_fails_on_pin_that_breaks_its_requirement(tmp_path):
    entry, _ = _corrupt(tmp_path, 'version = "1.9.1"', 'version = "1.8.0"')
    path = tmp_path / "pylock.cdk-sklearn.toml"
    path.write_text(path.read_text().replace("scikit_learn-1.9.1-", "scikit_learn-1.8.0-"))
    before = path.read_text()
    with pytest.raises(LockError, match=r"requires scikit-learn==1\.9\.1 but pins scikit-learn==1\.8\.0"):
        _synth_with(tmp_path, entry)
    assert (tmp_path / "pylock.cdk-sklearn.toml").read_text() == before


def test_fails_on_hand_edited_requirements(tmp_path):
    entry, before = _corrupt(tmp_path, '"numpy>=2", "scikit', '"numpy>=2.1", "scikit')
    with pytest.raises(LockError, match="its requirements or target were edited by hand"):
        _synth_with(tmp_path, entry)
    assert (tmp_path / "pylock.cdk-sklearn.toml").read_text() == before


def test_fails_on_unknown_lock_version(tmp_path):
    entry, _ = _corrupt(tmp_path, 'lock-version = "1.0"', 'lock-version = "2.0"')
    with pytest.raises(LockError, match=r"lock-version is '2\.0', this cdk-sklearn reads \"1\.0\""):
        _synth_with(tmp_path, entry)


# --- with pip, against a local index ------------------------------------------------------------------


@pytest.fixture
def index(tmp_path, monkeypatch):
    folder = tmp_path / "index"
    make_wheel(folder, "tinypkg", "1.0")
    make_wheel(folder, "otherpkg", "0.1")
    use_local_index(monkeypatch, folder)
    return folder


def test_existing_entry_is_reused_without_pip(tmp_path, monkeypatch):
    entry = _entry()
    _lock(tmp_path, entry).write()
    before = (tmp_path / "pylock.cdk-sklearn.toml").read_text()
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/nothing-here")  # any pip call would fail
    lines: list[str] = []
    assert locked_entry(entry.spec, tmp_path / "pylock.cdk-sklearn.toml", None, lines.append) == entry
    assert lines == []
    assert (tmp_path / "pylock.cdk-sklearn.toml").read_text() == before


def test_first_synth_writes_entry_then_changed_entry_resolves_alone(tmp_path, index):
    path = tmp_path / "pylock.cdk-sklearn.toml"
    lines: list[str] = []
    first = locked_entry(LayerSpec.of(["tinypkg"], ARM64), path, "3.13.5", lines.append)
    assert [(p.name, p.version) for p in first.packages] == [("tinypkg", "1.0")]
    assert first.packages[0].wheel == "tinypkg-1.0-py3-none-any.whl"
    assert len(lines) == 1 and f"entry {first.key} resolved (new layer python3.13 arm64: tinypkg)" in lines[0]

    make_wheel(index, "tinypkg", "2.0")  # upstream moves on: the lock does not
    assert locked_entry(LayerSpec.of(["tinypkg"], ARM64), path, "3.13.5", lines.append) == first
    assert len(lines) == 1

    second = locked_entry(LayerSpec.of(["tinypkg", "otherpkg"], ARM64), path, "3.13.5", lines.append)
    assert len(lines) == 2
    assert lines[1] == (
        f"cdk-sklearn: lock pylock.cdk-sklearn.toml: entry {second.key} resolved (requirements changed "
        f"from entry {first.key}: + otherpkg); 2 wheels pinned, other entries unchanged"
    )
    # The old entry is kept as it was (another environment may still use it): tinypkg 1.0.
    assert Lock.read(path).entries == {first.key: first, second.key: second}
    assert {(p.name, p.version) for p in second.packages} == {("tinypkg", "2.0"), ("otherpkg", "0.1")}

    third = locked_entry(LayerSpec.of(["tinypkg"], X86), path, None, lines.append)
    assert (
        f"entry {third.key} resolved (new target python3.12 x86_64; these requirements were locked "
        in (lines[2])
    )


def test_lock_resolved_from_a_local_folder_names_no_path_of_this_machine(tmp_path, index):
    path = tmp_path / "pylock.cdk-sklearn.toml"
    locked_entry(LayerSpec.of(["tinypkg"], ARM64), path, None, lambda _: None)
    text = path.read_text()
    assert "file:" not in text and str(tmp_path) not in text
    assert 'wheels = [{ name = "tinypkg-1.0-py3-none-any.whl", hashes = { sha256 = "' in text


def test_entry_with_other_platform_tags_is_re_resolved_in_place(tmp_path, index):
    path = tmp_path / "pylock.cdk-sklearn.toml"
    spec = LayerSpec.of(["tinypkg"], ARM64)
    entry = locked_entry(spec, path, None, lambda _: None)
    Lock(path, {entry.key: LockEntry(spec, ("manylinux2014_aarch64",), entry.packages)}).write()
    lines: list[str] = []
    locked_entry(spec, path, None, lines.append)
    assert (
        "wheel platform tags changed (manylinux2014_aarch64 -> manylinux_2_28_aarch64 manylinux2014"
        in (lines[0])
    )
    assert Lock.read(path).entries[entry.key].platforms == ARM64.platform_tags


def test_locked_build_keeps_version_after_newer_release_and_upgrade_moves(tmp_path, index, monkeypatch):
    lock = tmp_path / "pylock.cdk-sklearn.toml"
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / "cache-1"))
    first = build_layer(["tinypkg"], ARM64, None, lock=lock, log=lambda _: None)
    assert (first.layer_dir / "python" / "tinypkg" / "__init__.py").read_text() == "VERSION = '1.0'\n"

    make_wheel(index, "tinypkg", "2.0")
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / "cache-2"))  # another machine: empty cache
    again = build_layer(["tinypkg"], ARM64, None, lock=lock, log=lambda _: None)
    assert not again.reused and again.lock == ("tinypkg==1.0",)
    assert again.content_hash == first.content_hash

    changes = upgrade(lock, None, lambda _: None)
    assert changes == {first.lock_key: ["tinypkg 1.0 -> 2.0"]}
    upgraded = build_layer(["tinypkg"], ARM64, None, lock=lock, log=lambda _: None)
    assert upgraded.lock == ("tinypkg==2.0",)
    assert (upgraded.layer_dir / "python" / "tinypkg" / "__init__.py").read_text() == "VERSION = '2.0'\n"


def test_same_lock_gives_identical_layer_in_other_cache_and_folder(tmp_path, index, monkeypatch):
    lock = tmp_path / "pylock.cdk-sklearn.toml"
    builds = []
    for machine in ("a", "b"):
        (tmp_path / machine).mkdir()
        monkeypatch.chdir(tmp_path / machine)
        monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / machine / "cache"))
        monkeypatch.setenv("PIP_CACHE_DIR", str(tmp_path / machine / "pip-cache"))
        builds.append(build_layer(["tinypkg"], ARM64, None, lock=lock, log=lambda _: None))
    assert builds[0].key == builds[1].key and builds[0].content_hash == builds[1].content_hash
    site = builds[0].layer_dir / "python"
    dist_info = site / "tinypkg-1.0.dist-info"
    assert sorted(p.name for p in dist_info.iterdir()) == ["METADATA", "RECORD", "WHEEL"]
    rows = [row[0] for row in csv.reader((dist_info / "RECORD").read_text().splitlines())]
    assert rows == sorted(rows) and all((site / row).exists() for row in rows)
    assert {p.stat().st_mtime for p in builds[0].layer_dir.rglob("*")} == {315_532_800}


def test_fails_when_index_serves_other_bytes_and_leaves_lock(tmp_path, index, monkeypatch):
    lock = tmp_path / "pylock.cdk-sklearn.toml"
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / "cache-1"))
    build = build_layer(["tinypkg"], ARM64, None, lock=lock, log=lambda _: None)
    before = lock.read_text()
    make_wheel(index, "tinypkg", "1.0", body="import os  # tampered\n")
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / "cache-2"))
    with pytest.raises(LockError) as caught:
        build_layer(["tinypkg"], ARM64, None, lock=lock, log=lambda _: None)
    message = str(caught.value)
    assert f"the package index does not serve the wheels locked in {lock} for entry {build.lock_key}" in (
        message
    )
    assert "DO NOT MATCH THE HASHES" in message and "\n" not in message
    assert f"cdk-sklearn lock --upgrade --entry {build.lock_key}" in message
    assert lock.read_text() == before
    assert not list((tmp_path / "cache-2" / "layers").iterdir())


def test_says_once_when_another_interpreter_compiles(tmp_path, index, monkeypatch):
    from cdk_sklearn.packaging.bytecode import Interpreter

    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path / "cache"))
    spec = LayerSpec.of(["tinypkg"], ARM64)
    entry = locked_entry(spec, tmp_path / "pylock.cdk-sklearn.toml", "3.13.5", lambda _: None)
    lines: list[str] = []
    monkeypatch.setattr("cdk_sklearn.packaging.build.compile_bytecode", lambda *_: 0)
    other = Interpreter("/usr/bin/python3.13", (3, 13), "3.13.7")
    for _ in range(2):
        build_from_entry(entry, other, log=lines.append)
    said = [line for line in lines if "compiled with" in line]
    assert said == [
        f"cdk-sklearn: lock entry {entry.key} was compiled with CPython 3.13.5, this synth uses 3.13.7: "
        "the layer's .pyc and asset hash may differ from the other machine's"
    ]


def test_fails_when_tool_table_is_not_a_table(tmp_path):
    entry = _entry()
    lock = _lock(tmp_path, entry)
    lock.write()
    text = lock.path.read_text()
    text = text[: text.index("[tool.")].replace('created-by = "cdk-sklearn"', 'created-by = "x"\ntool = 3')
    lock.path.write_text(text)
    with pytest.raises(LockError, match=r"\[tool\.cdk-sklearn\.layers\] is not a table"):
        _synth_with(tmp_path, entry)
    assert lock.path.read_text() == text
