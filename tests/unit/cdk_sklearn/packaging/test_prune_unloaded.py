"""prune_unloaded_libraries: a candidate library goes only when nothing in the layer can load it."""

from __future__ import annotations

import shutil
from pathlib import Path

from cdk_sklearn.packaging.closure import read_elf
from cdk_sklearn.packaging.lock import ENGINES
from cdk_sklearn.packaging.prune import UNLOADED_LIBRARY_CANDIDATES, prune_unloaded_libraries
from tests.unit.cdk_sklearn.packaging.elf_fixtures import SKLEARN_LIBS, sklearn_extension

# A real ELF file (copied, never loaded) stands in for a library.
ELF = sklearn_extension()


def _layer(tmp_path: Path, loader: str = "") -> Path:
    site = tmp_path / "python"
    (site / "pkg" / "capi").mkdir(parents=True)
    (site / "pkg" / "__init__.py").write_text(loader)
    shutil.copyfile(ELF, site / "pkg" / "capi" / "libthing.so.1.2.3")
    return site


def test_removes_a_library_nothing_needs_or_names(tmp_path):
    site = _layer(tmp_path)
    prune_unloaded_libraries(site, ["pkg/capi/libthing.so*"])
    assert not (site / "pkg" / "capi" / "libthing.so.1.2.3").exists()


def test_reports_the_bytes_removed(tmp_path):
    site = _layer(tmp_path)
    size = (site / "pkg" / "capi" / "libthing.so.1.2.3").stat().st_size
    report = prune_unloaded_libraries(site, ["pkg/capi/libthing.so*"])
    assert report.bytes_by_reason == {"libraries nothing loads": size}


def test_keeps_a_library_python_code_names(tmp_path):
    site = _layer(tmp_path, 'import ctypes\nctypes.CDLL("libthing.so.1")\n')
    prune_unloaded_libraries(site, ["pkg/capi/libthing.so*"])
    assert (site / "pkg" / "capi" / "libthing.so.1.2.3").exists()


def test_keeps_a_library_another_elf_file_needs(tmp_path):
    site = _layer(tmp_path)
    # The extension module needs scikit-learn's vendored libgomp: that library must stay.
    elf = read_elf(ELF)
    assert elf is not None
    needed = next(name for name in elf.needed if name.startswith("libgomp"))
    shutil.copyfile(ELF, site / "pkg" / "extension.so")
    shutil.copyfile(SKLEARN_LIBS / needed, site / "pkg" / "capi" / needed)
    prune_unloaded_libraries(site, ["pkg/capi/libgomp*"])
    assert (site / "pkg" / "capi" / needed).exists()


def test_onnx_engine_prunes_only_onnxruntime_c_api_library():
    assert UNLOADED_LIBRARY_CANDIDATES == {"onnx": ("onnxruntime/capi/libonnxruntime.so*",)}


def test_lock_knows_the_onnx_engine():
    assert ENGINES == ("sklearn", "onnx")
