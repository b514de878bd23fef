"""The static closure check: will everything the model needs load on Lambda from this layer?

Run at synth on the deployer's machine, which may have no Python of the target version or CPU, so
nothing is imported or loaded: module files are looked up on disk and ELF files are read with
pyelftools. Three things are checked:

* every module the model file references is a file (or package) in the layer, the function code or
  the user's ``code_paths`` (``__main__`` never is);
* every shared library an ELF file of the layer needs (``DT_NEEDED``) is found as the dynamic loader
  would find it on Lambda: RPATH/RUNPATH (``$ORIGIN`` expanded), then the layer's ``lib/`` (on
  Lambda's ``LD_LIBRARY_PATH`` as ``/opt/lib``), then the runtime's system
  (:mod:`cdk_sklearn.packaging.runtime_system`);
* every symbol version needed from a system library (``GLIBC_2.38``, ``GLIBCXX_3.4.30``) exists in the
  runtime's system.

The size budget is checked by :mod:`cdk_sklearn.packaging.budget`.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

from cdk_sklearn.packaging.runtime_system import LAYER_LIBRARY_DIR, RuntimeSystem, runtime_system
from cdk_sklearn.packaging.target import LambdaTarget

_ELF_MAGIC = b"\x7fELF"
# Modules a pickle may name that are the interpreter itself (Python 2 pickles name the old spellings).
_ALWAYS_IMPORTABLE = frozenset({"builtins", "__builtin__", "copy_reg", "_codecs"})


class ClosureError(ValueError):
    """Something the model needs would not load on Lambda; the message names it and the fix."""


@dataclass(frozen=True)
class ElfFile:
    """The dynamic-linking facts of one ELF file.

    Attributes
    ----------
    path
        The file.
    needed
        ``DT_NEEDED`` entries, in order.
    search_path
        RUNPATH, or RPATH when there is no RUNPATH, with ``$ORIGIN`` expanded to the file's folder.
    version_needs
        Library name -> symbol versions needed from it (``.gnu.version_r``).
    has_runpath
        True when ``search_path`` is a RUNPATH: then it serves only this file's own needs, while an
        RPATH also serves the needs of the libraries this file loads (glibc's rule).
    """

    path: Path
    needed: tuple[str, ...]
    search_path: tuple[Path, ...]
    version_needs: dict[str, frozenset[str]] = field(default_factory=dict)
    has_runpath: bool = False


def read_elf(path: Path) -> ElfFile | None:
    """Read the dynamic section and version needs of ``path``; ``None`` when it is not an ELF file."""
    with path.open("rb") as handle:
        if handle.read(4) != _ELF_MAGIC:
            return None
        handle.seek(0)
        try:
            elf = ELFFile(handle)
            needed: list[str] = []
            rpath: list[str] = []
            runpath: list[str] = []
            versions: dict[str, frozenset[str]] = {}
            for section in elf.iter_sections():
                if isinstance(section, DynamicSection):
                    for tag in section.iter_tags():
                        # pyelftools sets the decoded string as an attribute named after the tag.
                        kind = tag.entry.d_tag
                        if kind == "DT_NEEDED":
                            needed.append(str(getattr(tag, "needed", "")))
                        elif kind == "DT_RPATH":
                            rpath += str(getattr(tag, "rpath", "")).split(":")
                        elif kind == "DT_RUNPATH":
                            runpath += str(getattr(tag, "runpath", "")).split(":")
                elif isinstance(section, GNUVerNeedSection):
                    for entry, auxiliaries in section.iter_versions():
                        versions[str(entry.name)] = frozenset(str(aux.name) for aux in auxiliaries)
        except ELFError:
            return None  # an ELF the loader could not map either; nothing to check
    origin = str(path.parent)
    # The loader ignores RPATH when RUNPATH is present.
    entries = runpath or rpath
    search = tuple(
        Path(entry.replace("$ORIGIN", origin).replace("${ORIGIN}", origin)) for entry in entries if entry
    )
    return ElfFile(path, tuple(needed), search, versions, bool(runpath))


def elf_files(root: Path) -> Iterator[ElfFile]:
    """Every ELF file under ``root`` (by content, not by name), symlinks not followed."""
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        if path.suffix in {".py", ".pyc", ".txt", ".json"}:
            continue  # cheap: most of a layer is Python, never ELF
        elf = read_elf(path)
        if elf is not None:
            yield elf


def resolve(elf: ElfFile, name: str, layer_lib: Path, inherited: Sequence[Path] = ()) -> Path | None:
    """Where the loader would find ``name`` for ``elf`` inside the layer, or None.

    ``inherited`` are the RPATH folders of the objects that load ``elf`` (used only when ``elf`` has
    no RUNPATH, as glibc does).
    """
    if "/" in name:
        candidate = Path(name) if Path(name).is_absolute() else elf.path.parent / name
        return candidate if candidate.is_file() else None
    chain = () if elf.has_runpath else tuple(inherited)
    for folder in (*elf.search_path, *chain, layer_lib):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def unresolved(elves: Sequence[ElfFile], layer_lib: Path) -> list[tuple[ElfFile, str]]:
    """``(file, library)`` pairs the loader would not find inside the layer.

    A library loaded by an object with an RPATH is also searched in that RPATH (and in its loaders'),
    as glibc does: auditwheel puts ``$ORIGIN/../x.libs`` only on the extension modules, and the
    vendored libraries in ``x.libs`` find each other through it.
    """
    by_path = {elf.path.resolve(): elf for elf in elves}
    inherited: dict[Path, set[Path]] = {path: set() for path in by_path}
    changed = True
    while changed:  # propagate RPATHs down the load graph until nothing new is learnt
        changed = False
        for path, elf in by_path.items():
            passed_on = set() if elf.has_runpath else set(elf.search_path) | inherited[path]
            for name in elf.needed:
                found = resolve(elf, name, layer_lib, sorted(inherited[path]))
                target = found.resolve() if found is not None else None
                if target in inherited and not passed_on <= inherited[target]:
                    inherited[target] |= passed_on
                    changed = True
    # A vendored library (in x.libs or lib/) matters only when something loads it: wheels may carry
    # copies no module of theirs needs any more, and those never reach the loader.
    reached = {path for path, elf in by_path.items() if not _is_vendored(elf.path, layer_lib)}
    frontier = list(reached)
    while frontier:
        elf = by_path[frontier.pop()]
        for name in elf.needed:
            found = resolve(elf, name, layer_lib, sorted(inherited[elf.path.resolve()]))
            target = found.resolve() if found is not None else None
            if target in by_path and target not in reached:
                reached.add(target)
                frontier.append(target)
    return [
        (elf, name)
        for path, elf in by_path.items()
        if path in reached
        for name in elf.needed
        if resolve(elf, name, layer_lib, sorted(inherited[path])) is None
    ]


def _is_vendored(path: Path, layer_lib: Path) -> bool:
    return path.parent.name.endswith(".libs") or path.parent == layer_lib


def library_problems(layer_dir: Path, system: RuntimeSystem) -> list[str]:
    """What the layer's ELF files need that neither the layer nor ``system`` provides.

    Parameters
    ----------
    layer_dir
        The layer's root (holding ``python/`` and, when libraries were added, ``lib/``).
    system
        The runtime's system, see :func:`cdk_sklearn.packaging.runtime_system.runtime_system`.

    Returns
    -------
    list of str
        One sentence per problem, naming the file (relative to the layer) and the library or version.
    """
    layer_lib = layer_dir / LAYER_LIBRARY_DIR
    problems: list[str] = []
    # Names not found in the layer must come from the system, in versions it has.
    for elf, name in unresolved(list(elf_files(layer_dir)), layer_lib):
        where = elf.path.relative_to(layer_dir).as_posix()
        if not system.provides(name):
            problems.append(
                f"{where} needs the shared library {name}, which is neither in the layer nor in {system.name}"
            )
            continue
        for version in sorted(elf.version_needs.get(name, ())):
            newest = system.version_too_new(version)
            if newest is not None:
                problems.append(
                    f"{where} needs {version} from {name}, newer than {system.name} provides ({newest})"
                )
    return problems


def module_problems(
    modules: Collection[str], site_packages: Path, code_paths: Sequence[Path] = ()
) -> list[str]:
    """Referenced modules that neither the layer nor the user's code paths provide.

    Parameters
    ----------
    modules
        Dotted module names the model file references (``sklearn.pipeline``, ``features``).
    site_packages
        The layer's ``python/`` (``/opt/python``).
    code_paths
        The user's ``.py`` files and package folders, shipped at the function code's root.

    Returns
    -------
    list of str
        One sentence per module that cannot be imported, with the fix.
    """
    problems: list[str] = []
    for module in sorted(modules):
        top = module.split(".", 1)[0]
        if top in _ALWAYS_IMPORTABLE or top in sys.stdlib_module_names:
            continue
        if top == "__main__":
            problems += script_problems([module])
            continue
        if not module_exists(module, site_packages) and not _in_code_paths(module, code_paths):
            problems.append(
                f"the model references the module {module}, which is not in the layer or the function "
                f"code; add the package that provides it to extra_requirements, or ship your own module "
                f"with code_paths=['{top}.py' or '{top}/']"
            )
    return problems


def script_problems(modules: Collection[str]) -> list[str]:
    """The problem with a model that references ``__main__`` (nothing else is checked here).

    Such a model was pickled with a function or class defined in the training script; no Lambda
    function has that script as ``__main__``, so it can never load. Needs no built layer.
    """
    if not any(module.split(".", 1)[0] == "__main__" for module in modules):
        return []
    return [
        "the model references __main__ (a function or class defined in the training script, not in a "
        "module); move it into a module (e.g. features.py), import it from there, train and save the "
        "model again, and ship the module with code_paths=['features.py']"
    ]


def _in_code_paths(module: str, code_paths: Sequence[Path]) -> bool:
    top = module.split(".", 1)[0]
    for path in code_paths:
        if path.is_file() and path.suffix == ".py" and module == path.stem:
            return True
        if path.is_dir() and top == path.name and module_exists(module, path.parent):
            return True
    return False


def module_exists(module: str, root: Path) -> bool:
    """True when ``root`` holds ``module`` as a package folder, a .py, a sourceless .pyc or an extension."""
    *parents, leaf = module.split(".")
    folder = root.joinpath(*parents)
    if not folder.is_dir():
        return False
    if (folder / leaf).is_dir():  # a regular or namespace package
        return True
    if (folder / f"{leaf}.py").is_file() or (folder / f"{leaf}.pyc").is_file():
        return True
    return any(folder.glob(f"{leaf}.*.so")) or (folder / f"{leaf}.so").is_file()


def check_closure(
    layer_dir: Path,
    target: LambdaTarget,
    *,
    modules: Collection[str] = (),
    code_paths: Sequence[Path] = (),
) -> None:
    """Raise :class:`ClosureError` when the model or the layer's libraries would not load on ``target``.

    Parameters
    ----------
    layer_dir
        The built layer (``python/`` is ``/opt/python``, ``lib/`` is ``/opt/lib``).
    target
        The Lambda runtime and architecture.
    modules
        Dotted modules the model file references (:attr:`ModelArtifact.referenced`).
    code_paths
        The user's modules shipped beside ``lambda_runtime/`` at the function code's root: ``.py``
        files and package folders.

    Raises
    ------
    ClosureError
        Listing every problem found, each with the fix.
    """
    problems = module_problems(modules, layer_dir / "python", code_paths)
    problems += library_problems(layer_dir, runtime_system(target))
    fail_on(problems, target)


def fail_on(problems: Sequence[str], target: LambdaTarget) -> None:
    """Raise :class:`ClosureError` listing ``problems`` (each with its fix); do nothing when empty."""
    if problems:
        listed = "\n".join(f"  - {problem}" for problem in problems)
        raise ClosureError(
            f"the layer for {target.describe()} would not load everything the model needs:\n{listed}\n"
            "Fix each item above (a library missing from a wheel can be added under the layer's lib/ by "
            "listing a package that vendors it in extra_requirements), or use another runtime"
        )
