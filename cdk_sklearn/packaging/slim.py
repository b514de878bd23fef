"""The slim layer: sourceless bytecode, so each module ships once (as .pyc) instead of twice.

A compiled layer holds every pure-Python module twice: ``X.py`` and ``__pycache__/X.cpython-313.pyc``.
Lambda never reads the ``.py`` once the ``.pyc`` is there (``unchecked-hash``), except to show source
lines in tracebacks. CPython also imports a *sourceless* ``X.pyc`` placed where ``X.py`` was (the
"legacy" location, what ``compileall -b`` writes), at every optimisation level. So the slim step
moves each module's target ``.pyc`` next to it and deletes the ``.py``: about 27 MB less for
scikit-learn + numpy + scipy on python3.13.

What changes for the user: tracebacks name the file and line (``File "/opt/python/sklearn/base.py",
line 1365, in fit``) but cannot print the source line, and ``inspect.getsource`` on library code
raises ``OSError``; nothing in the serving path uses it (joblib's ``Memory`` falls back to the code
object). Docstrings stay: the bytecode is compiled without ``-OO``, which scipy needs.

Data files (``.csv``, ``.css``, ``.npz``...), ``py.typed`` and every shared object stay. The only other
files removed are build templates (``*.tp``, ``meson.build``) that no importer opens.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from cdk_sklearn.packaging.prune import remove_empty_dirs, rewrite_records

# Build inputs that remain after pruning: Tempita templates of Cython sources and meson build files.
_TEMPLATE_SUFFIX = ".tp"
_BUILD_NAMES = frozenset({"meson.build"})


class SourcelessError(RuntimeError):
    """A module has no compiled .pyc for the target, so removing its source would break its import."""


@dataclass(frozen=True)
class SlimReport:
    """What :func:`make_sourceless` changed.

    Attributes
    ----------
    modules
        Modules now shipped as a sourceless ``.pyc``.
    source_bytes
        Bytes of ``.py`` sources removed.
    template_bytes
        Bytes of build templates removed.
    """

    modules: int
    source_bytes: int
    template_bytes: int

    @property
    def total_bytes(self) -> int:
        """All bytes removed."""
        return self.source_bytes + self.template_bytes


def make_sourceless(site_packages: Path, cache_tag: str) -> SlimReport:
    """Replace every ``X.py`` with its target bytecode as ``X.pyc``, in place.

    Parameters
    ----------
    site_packages
        A layer's ``python/`` folder, already compiled for ``cache_tag``
        (:func:`cdk_sklearn.packaging.bytecode.compile_bytecode`).
    cache_tag
        ``"cpython-313"``: the ``__pycache__`` infix of the target interpreter's bytecode.

    Returns
    -------
    SlimReport

    Raises
    ------
    SourcelessError
        If a ``.py`` has no ``__pycache__/X.<cache_tag>.pyc`` (the layer was not compiled for this
        Python); nothing has been changed then.
    """
    sources = sorted(site_packages.rglob("*.py"))
    pairs = []
    missing = []
    for source in sources:
        if source.is_symlink():
            continue
        compiled = source.parent / "__pycache__" / f"{source.stem}.{cache_tag}.pyc"
        if compiled.is_file():
            pairs.append((source, compiled))
        else:
            missing.append(source)
    if missing:
        shown = ", ".join(str(p.relative_to(site_packages)) for p in missing[:5])
        raise SourcelessError(
            f"{len(missing)} module(s) have no {cache_tag} bytecode ({shown}); compile the layer with a "
            f"CPython of the runtime's version before making it sourceless"
        )
    source_bytes = 0
    for source, compiled in pairs:
        source_bytes += source.stat().st_size
        compiled.replace(source.with_suffix(".pyc"))
        source.unlink()
    template_bytes = 0
    for path in sorted(site_packages.rglob("*")):
        if path.is_file() and not path.is_symlink() and _is_build_template(path):
            template_bytes += path.stat().st_size
            path.unlink()
    _drop_stale_bytecode(site_packages)
    remove_empty_dirs(site_packages)
    _record_sourceless(site_packages)
    rewrite_records(site_packages)
    return SlimReport(len(pairs), source_bytes, template_bytes)


def _is_build_template(path: Path) -> bool:
    return path.suffix == _TEMPLATE_SUFFIX or path.name in _BUILD_NAMES


def _drop_stale_bytecode(site_packages: Path) -> None:
    # Every source was moved out of __pycache__ above; what is left there has no .py, and CPython
    # looks in __pycache__ only for a module whose .py exists, so it could never be used.
    for cached in sorted(site_packages.rglob("__pycache__/*.pyc")):
        cached.unlink()


def _record_sourceless(site_packages: Path) -> None:
    # RECORD names the installed X.py; the layer now holds X.pyc instead. Name that file (without a
    # hash, as RECORD allows for bytecode) so importlib.metadata.files() lists what ships.
    for record in sorted(site_packages.glob("*.dist-info/RECORD")):
        rows = list(csv.reader(record.read_text().splitlines()))
        renamed = []
        for row in rows:
            if row and row[0].endswith(".py") and not (site_packages / row[0]).exists():
                compiled = row[0] + "c"
                if (site_packages / compiled).is_file():
                    row = [compiled, "", ""]
            renamed.append(row)
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(renamed)
        record.write_text(buffer.getvalue())
