"""Remove from an installed layer what never runs on Lambda.

Only files nothing imports or loads at run time go: test suites, compiler sources and headers, type
stubs, static libraries, console scripts, bytecode for other Python versions, and the test-only
extension modules numpy and scipy build for their own test suites. Shared objects that *can* be
loaded are never touched, and never stripped: ``strip`` on the bundled OpenBLAS breaks ``import
numpy`` ("ELF load command address/offset not page-aligned").
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cdk_sklearn.packaging.closure import elf_files

# Test suites: folders named so inside a package (numpy/_core/tests, sklearn/tree/tests, ...).
_TEST_DIRS = frozenset({"tests", "test"})
# Sources, headers, stubs and build inputs: needed to compile against a package, never to run it.
_BUILD_SUFFIXES = frozenset(
    {".pyx", ".pxd", ".pxi", ".c", ".cc", ".cpp", ".cxx", ".h", ".hh", ".hpp", ".f", ".f90", ".pyi", ".a"}
)
# Extension modules numpy and scipy build only for their own tests (nothing else imports them).
_TEST_EXTENSIONS = re.compile(
    r"^(_multiarray_tests|_umath_tests|_rational_tests|_struct_ufunc_tests|_operand_flag_tests|_simd"
    r"|_test_[a-z_]+|_ctest|_cytest)\.cpython-[^/]+\.so$"
)
# Files an installer adds to a .dist-info folder (PEP 376 / PEP 610); see _file_reason.
_INSTALLER_FILES = frozenset({"REQUESTED", "INSTALLER", "direct_url.json"})
# Libraries a wheel ships for other consumers than its Python binding, per layer engine: candidates
# only; each goes only when nothing in the layer can load it (see prune_unloaded_libraries).
# onnxruntime's wheel carries the C API library (libonnxruntime.so.<version>, about 35 MB) for
# C/C++ users; its Python binding, onnxruntime_pybind11_state, links the runtime in and needs it not.
UNLOADED_LIBRARY_CANDIDATES: Mapping[str, tuple[str, ...]] = {
    "onnx": ("onnxruntime/capi/libonnxruntime.so*",),
}
_PYC = re.compile(r"^[^.]+\.(?P<tag>[a-z]+-\d+)(\.opt-\d)?\.pyc$")


@dataclass
class PruneReport:
    """What :func:`prune` removed: bytes per reason, and how many files."""

    bytes_by_reason: dict[str, int] = field(default_factory=dict)
    files: int = 0

    @property
    def total_bytes(self) -> int:
        """All bytes removed."""
        return sum(self.bytes_by_reason.values())

    def _add(self, reason: str, size: int, files: int = 1) -> None:
        self.bytes_by_reason[reason] = self.bytes_by_reason.get(reason, 0) + size
        self.files += files


def prune(site_packages: Path, cache_tag: str) -> PruneReport:
    """Delete what never runs from an installed ``site_packages`` folder, in place.

    Parameters
    ----------
    site_packages
        The folder pip installed into (the layer's ``python/``).
    cache_tag
        The target interpreter's ``sys.implementation.cache_tag`` (``"cpython-313"``): bytecode with
        any other tag is removed.

    Returns
    -------
    PruneReport
    """
    report = PruneReport()
    scripts = site_packages / "bin"
    if scripts.is_dir():  # console scripts carry the build host's interpreter in their shebang
        _remove_tree(scripts, "console scripts", report)
    for path in sorted(site_packages.rglob("*"), reverse=True):
        if not path.exists() or path.is_symlink():
            continue
        if path.is_dir():
            if path.name in _TEST_DIRS and _inside_package(path, site_packages):
                _remove_tree(path, "test suites", report)
            continue
        reason = _file_reason(path, cache_tag)
        if reason is not None:
            report._add(reason, path.stat().st_size)
            path.unlink()
    remove_empty_dirs(site_packages)
    rewrite_records(site_packages)
    return report


def rewrite_records(site_packages: Path) -> None:
    """Drop from each ``*.dist-info/RECORD`` the rows of files no longer in the layer; sort the rest."""
    # RECORD lists every installed file; keep it true to what the layer holds, so that content
    # depends only on what ships (and importlib.metadata.files() names no missing file).
    for record in sorted(site_packages.glob("*.dist-info/RECORD")):
        rows = list(csv.reader(record.read_text().splitlines()))
        kept = [
            row for row in rows if row and (site_packages / row[0]).resolve().is_relative_to(site_packages)
        ]
        kept = [row for row in kept if (site_packages / row[0]).exists()]
        # Sorted, so the file does not depend on the order an installer happened to write rows in.
        kept.sort(key=lambda row: row[0])
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(kept)
        record.write_text(buffer.getvalue())


def _file_reason(path: Path, cache_tag: str) -> str | None:
    name = path.name
    if path.suffix in _BUILD_SUFFIXES:
        return "sources, headers, stubs"
    if _TEST_EXTENSIONS.match(name):
        return "test-only extension modules"
    if name in _INSTALLER_FILES and path.parent.name.endswith(".dist-info"):
        # What the installer writes about itself and the install, not what the wheel holds: REQUESTED
        # (how requirements were phrased), INSTALLER (which tool), direct_url.json (where the wheel
        # came from, a local path or mirror URL). Without them the layer depends only on the wheels.
        return "installer metadata"
    if path.suffix == ".pyc":
        match = _PYC.match(name)
        if match is None or match.group("tag") != cache_tag or path.parent.name != "__pycache__":
            return "bytecode for other Pythons"
    return None


def _inside_package(path: Path, root: Path) -> bool:
    # A top-level distribution could itself be called "test"; only prune test folders of packages.
    return path.parent != root


def _remove_tree(path: Path, reason: str, report: PruneReport) -> None:
    files = [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    report._add(reason, sum(p.stat().st_size for p in files), len(files))
    shutil.rmtree(path)


def remove_empty_dirs(root: Path) -> None:
    """Remove every empty folder under ``root`` (deepest first)."""
    for path in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        if not any(path.iterdir()):
            path.rmdir()


def prune_unloaded_libraries(site_packages: Path, candidates: Sequence[str]) -> PruneReport:
    """Delete the candidate shared libraries nothing in the layer can load.

    A library is removed only when it is provably unreachable: no ELF file in the layer names it in
    ``DT_NEEDED`` (the dynamic loader's only reason to map it), and no other file of the layer
    (Python sources, bytecode, ELF string tables; ``.dist-info`` records aside) mentions its name, which
    is what a ``dlopen``/``ctypes.CDLL`` by name would need.

    Parameters
    ----------
    site_packages
        The layer's ``python/`` folder.
    candidates
        Glob patterns relative to ``site_packages`` (e.g. :data:`UNLOADED_LIBRARY_CANDIDATES` values).

    Returns
    -------
    PruneReport
        Bytes removed under the reason ``"libraries nothing loads"``.
    """
    report = PruneReport()
    found = sorted({path for pattern in candidates for path in site_packages.glob(pattern) if path.is_file()})
    if not found:
        return report
    needed = {name for elf in elf_files(site_packages) for name in elf.needed}
    others = [
        path
        for path in sorted(site_packages.rglob("*"))
        if path.is_file()
        and not path.is_symlink()
        and path not in found
        and not any(part.endswith(".dist-info") for part in path.relative_to(site_packages).parts)
    ]
    for library in found:
        # libonnxruntime.so.1.32.0 -> libonnxruntime.so: what any soname, NEEDED entry or dlopen uses.
        stem = library.name.split(".so", 1)[0] + ".so"
        if any(name.startswith(stem) for name in needed):
            continue
        token = stem.encode()
        if any(token in path.read_bytes() for path in others):
            continue
        report._add("libraries nothing loads", library.stat().st_size)
        library.unlink()
    rewrite_records(site_packages)
    return report
