"""The shipped layer's one pipeline: automatic slimming over the line, from cached builds (no pip)."""

from __future__ import annotations

import json
import sys

import pytest

from cdk_sklearn.packaging.build import entry_key
from cdk_sklearn.packaging.bytecode import find_interpreter
from cdk_sklearn.packaging.cache import tree_hash
from cdk_sklearn.packaging.install import LockedPackage
from cdk_sklearn.packaging.lock import LayerSpec, Lock, LockEntry
from cdk_sklearn.packaging.pipeline import LayerRecipe, ship_layer
from cdk_sklearn.packaging.target import LambdaTarget

# The runtime of the running CPython, so it compiles the bytecode and slimming is possible.
TARGET = LambdaTarget(f"python3.{sys.version_info.minor}", "x86_64")
REQUIREMENTS = ("scikit-learn==1.9.1",)
FULL_BYTES, SLIM_BYTES = 2_000, 1_000


@pytest.fixture
def recipe(tmp_path, monkeypatch):
    """A locked entry whose full and slim layers are both in the cache; pip would fail if called."""
    monkeypatch.setenv("CDK_SKLEARN_CACHE", str(tmp_path))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/nothing-here")
    interpreter = find_interpreter(TARGET.version_tuple)
    assert interpreter is not None
    package = LockedPackage(
        "scikit-learn", "1.9.1", "scikit_learn-1.9.1-cp313-cp313-manylinux_2_28_x86_64.whl", "ab" * 32
    )
    entry = LockEntry(
        LayerSpec.of(REQUIREMENTS, TARGET), TARGET.platform_tags, (package,), interpreter.release
    )
    lock = tmp_path / "pylock.cdk-sklearn.toml"
    Lock(lock, {entry.key: entry}).write()
    for slim, size in ((False, FULL_BYTES), (True, SLIM_BYTES)):
        home = tmp_path / "layers" / entry_key(entry, interpreter, slim)
        (home / "layer" / "python").mkdir(parents=True)
        (home / "layer" / "python" / "flavour.txt").write_text(f"slim={slim}\n")
        record = {
            "content_hash": tree_hash(home / "layer"),
            "lock": ["scikit-learn==1.9.1"],
            "packages": {"sklearn": size},
            "layer_bytes": size,
            "bytecode_tag": interpreter.cache_tag,
            "pruned_bytes": 0,
            "slim": slim,
        }
        (home / "build.json").write_text(json.dumps(record))
    return LayerRecipe(REQUIREMENTS, TARGET, lock=lock)


def test_ships_the_full_layer_under_the_line(recipe):
    shipped = ship_layer(recipe, auto_slim_bytes=FULL_BYTES, say=lambda _: None)
    assert (shipped.build.layer_bytes, shipped.recipe.slim, shipped.auto_slimmed) == (
        FULL_BYTES,
        False,
        False,
    )


def test_ships_the_slim_layer_over_the_line_and_says_so(recipe):
    said: list[str] = []
    shipped = ship_layer(recipe, auto_slim_bytes=FULL_BYTES - 1, say=said.append)
    assert (shipped.build.layer_bytes, shipped.recipe.slim, shipped.auto_slimmed) == (SLIM_BYTES, True, True)
    assert any("shipping it slim" in line for line in said)


def test_asked_slim_is_not_called_automatic(recipe):
    from dataclasses import replace

    shipped = ship_layer(replace(recipe, slim=True), auto_slim_bytes=1, say=lambda _: None)
    assert (_flavour(shipped.build), shipped.auto_slimmed) == ("slim=True", False)


def test_from_cache_gives_the_shipped_layer_again(recipe):
    shipped = ship_layer(recipe, auto_slim_bytes=FULL_BYTES - 1, say=lambda _: None)
    again = shipped.from_cache()
    assert again.reused and again.content_hash == shipped.build.content_hash
    assert _flavour(again) == "slim=True"


def _flavour(build) -> str:
    return (build.layer_dir / "python" / "flavour.txt").read_text().strip()
