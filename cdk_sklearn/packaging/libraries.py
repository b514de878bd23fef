"""Ship in the layer's ``lib/`` the shared libraries its ELF files need and Lambda does not have.

LightGBM's wheel links ``libgomp.so.1`` (GNU OpenMP) without vendoring it, and Amazon Linux's Lambda
image has no libgomp: the import fails with ``libgomp.so.1: cannot open shared object file``. Lambda
puts ``/opt/lib`` (a layer's ``lib/``) on ``LD_LIBRARY_PATH``, so a copy there is found.

The copy must be one built for manylinux (old glibc, redistributable). Wheels repaired by auditwheel
carry exactly such copies under ``<dist>.libs/`` with a hash in the name: scikit-learn's wheel vendors
``scikit_learn.libs/libgomp-<hash>.so.1.0.0``. That file is copied as ``lib/libgomp.so.1``; its
SONAME keeps the hash, so scikit-learn's own copy and this one load as two OpenMP runtimes side by side
(each with its own thread pool; see docs/readme/layer.md for what that costs).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from cdk_sklearn.packaging.closure import elf_files, unresolved
from cdk_sklearn.packaging.runtime_system import LAYER_LIBRARY_DIR, RuntimeSystem
from lambda_runtime import limits

_SONAME = re.compile(r"^(?P<stem>lib[^/]+?)\.so(?P<version>(\.\d+)*)$")


@dataclass(frozen=True)
class AddedLibrary:
    """A library copied into ``lib/``: its name there, where it came from, who needs it."""

    name: str
    source: Path
    needed_by: tuple[str, ...]


def vendored_copies(site_packages: Path, soname: str) -> list[Path]:
    """auditwheel-vendored copies of ``soname`` in ``site_packages/*.libs`` (``libgomp-1a2b3c4d.so.1.0.0``).

    The copy must keep the major version of ``soname`` (``.so.1`` for ``libgomp.so.1``).
    """
    match = _SONAME.match(soname)
    if match is None:
        return []
    stem, version = match.group("stem"), match.group("version")
    pattern = re.compile(rf"^{re.escape(stem)}-[0-9a-f]{{8}}\.so{re.escape(version)}(\.\d+)*$")
    return sorted(
        path
        for folder in site_packages.glob("*.libs")
        for path in folder.iterdir()
        if pattern.match(path.name) and path.is_file()
    )


def add_missing_libraries(layer_dir: Path, system: RuntimeSystem) -> list[AddedLibrary]:
    """Copy into ``layer_dir/lib`` each library the layer needs, lacks and ``system`` lacks too.

    Only libraries a wheel in the layer vendors are added (see the module docstring); anything else is
    left for :func:`cdk_sklearn.packaging.closure.check_closure` to report.

    Returns
    -------
    list of AddedLibrary
        What was copied (empty when the layer was complete).
    """
    site_packages = layer_dir / "python"
    layer_lib = layer_dir / LAYER_LIBRARY_DIR
    wanted: dict[str, list[str]] = {}
    for elf, name in unresolved(list(elf_files(site_packages)), layer_lib):
        if not system.provides(name):
            wanted.setdefault(name, []).append(elf.path.relative_to(layer_dir).as_posix())
    added = []
    for name, users in sorted(wanted.items()):
        copies = vendored_copies(site_packages, name)
        if not copies:
            continue
        layer_lib.mkdir(exist_ok=True)
        shutil.copy2(copies[0], layer_lib / name)
        added.append(AddedLibrary(name, copies[0], tuple(users)))
    return added


# Lambda allocates CPU in proportion to memory: "at 1,769 MB, a function has the equivalent of one
# vCPU", up to 6 vCPUs at 10,240 MB (AWS Lambda Developer Guide, "Configuring function memory").


def openmp_environment(memory_mb: int, *, managed_instances: bool = False) -> dict[str, str]:
    """``OMP_NUM_THREADS`` for a function of ``memory_mb``: the vCPUs Lambda gives it, at least 1.

    On managed instances (``managed_instances``) it is 1: each execution environment runs one request
    per worker process, and a thread per 1,769 MB would start that many in every process.

    Every OpenMP runtime in the process (scikit-learn's vendored libgomp and the copy in ``lib/``
    for LightGBM, each with its own pool) otherwise starts one thread per core the kernel reports,
    which on Lambda can exceed the CPU share the function gets; threads then wait for each other.
    Measured in the x86_64 userland on a busy 2-core host (docs/readme/layer.md): with one thread
    per runtime, LightGBM was never slower and scikit-learn's gradient boosting several times
    faster than with the default. Environment variables the user sets win.
    """
    if managed_instances:
        return {"OMP_NUM_THREADS": "1"}
    vcpus = max(1, min(limits.MAX_VCPUS, -(-memory_mb // limits.FULL_VCPU_MEMORY_MB)))
    return {"OMP_NUM_THREADS": str(vcpus)}
