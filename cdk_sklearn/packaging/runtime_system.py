"""What a Lambda Python runtime's operating system provides to the ELF files of a layer (data).

Source: the manylinux policy of auditwheel (``src/auditwheel/policy/manylinux-policy.json`` in
github.com/pypa/auditwheel, read 2026-11-30 at commit 86154d15), which lists, per glibc baseline and
CPU, the shared libraries a manylinux wheel may assume on the system (``lib_whitelist``) and the newest
symbol version of each versioned library (``symbol_versions``). The policies used:

* ``manylinux_2_34`` for python3.12+ on Amazon Linux 2023 (glibc 2.34, GCC 11's libstdc++);
* ``manylinux_2_26`` for python3.11 on Amazon Linux 2 (glibc 2.26, GCC 7).

Below, each version is the newest numeric one of the policy's list for that prefix; the non-numeric
names the policy also allows are kept beside them. One deliberate difference: the policy allows the
desktop libraries (X11, ICE/SM, GL, GLib) that a desktop distribution has, but Lambda's runtime image
is minimal and lacks them (the well-known ``libGL.so.1: cannot open shared object file`` of
``opencv-python`` on Lambda), so they are listed as *not* provided and a layer must carry its own.
OpenMP (``libgomp.so.1``) is not in any policy: a wheel must vendor it, and Lambda has none.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdk_sklearn.packaging.target import LambdaTarget

# The policy's lib_whitelist, identical for manylinux_2_26 and manylinux_2_34.
_POLICY_LIBRARIES = (
    "libatomic.so.1",
    "libgcc_s.so.1",
    "libstdc++.so.6",
    "libm.so.6",
    "libmvec.so.1",
    "libanl.so.1",
    "libdl.so.2",
    "librt.so.1",
    "libc.so.6",
    "libnsl.so.1",
    "libutil.so.1",
    "libpthread.so.0",
    "libX11.so.6",
    "libXext.so.6",
    "libXrender.so.1",
    "libICE.so.6",
    "libSM.so.6",
    "libGL.so.1",
    "libgobject-2.0.so.0",
    "libgthread-2.0.so.0",
    "libglib-2.0.so.0",
    "libresolv.so.2",
    "libexpat.so.1",
    "libz.so.1",
)
# In the policy, not in Lambda's minimal image (see the module docstring).
NOT_ON_LAMBDA = frozenset(
    {
        "libX11.so.6",
        "libXext.so.6",
        "libXrender.so.1",
        "libICE.so.6",
        "libSM.so.6",
        "libGL.so.1",
        "libgobject-2.0.so.0",
        "libgthread-2.0.so.0",
        "libglib-2.0.so.0",
    }
)
# The dynamic loader itself: every ELF executable part of the system names it.
_LOADERS = {"x86_64": "ld-linux-x86-64.so.2", "arm64": "ld-linux-aarch64.so.1"}

# Newest numeric symbol version per prefix, and the non-numeric names also allowed, per policy and CPU.
_SYMBOL_VERSIONS: dict[tuple[str, str], dict[str, tuple[str, tuple[str, ...]]]] = {
    ("manylinux_2_34", "x86_64"): {
        "GLIBC": ("2.34", ()),
        "GLIBCXX": ("3.4.29", ()),
        "CXXABI": ("1.3.13", ("FLOAT128", "TM_1")),
        "GCC": ("7.0.0", ()),
        "LIBATOMIC": ("1.2", ()),
        "ZLIB": ("1.2.9", ()),
    },
    ("manylinux_2_34", "arm64"): {
        "GLIBC": ("2.34", ()),
        "GLIBCXX": ("3.4.29", ()),
        "CXXABI": ("1.3.13", ("TM_1",)),
        "GCC": ("11.0", ()),
        "LIBATOMIC": ("1.2", ()),
        "ZLIB": ("1.2.9", ()),
    },
    ("manylinux_2_26", "x86_64"): {
        "GLIBC": ("2.26", ()),
        "GLIBCXX": ("3.4.22", ()),
        "CXXABI": ("1.3.10", ("FLOAT128", "TM_1")),
        "GCC": ("4.8.0", ()),
        "LIBATOMIC": ("1.2", ()),
        "ZLIB": ("1.2.5.2", ()),
    },
    ("manylinux_2_26", "arm64"): {
        "GLIBC": ("2.26", ()),
        "GLIBCXX": ("3.4.24", ()),
        "CXXABI": ("1.3.11", ("TM_1",)),
        "GCC": ("7.0.0", ()),
        "LIBATOMIC": ("1.2", ()),
        "ZLIB": ("1.2.5.2", ()),
    },
}

# Where Lambda's loader looks besides RPATH/RUNPATH: LD_LIBRARY_PATH of the Python runtimes. A layer's
# lib/ is /opt/lib; the function code's lib/ is /var/task/lib.
LAYER_LIBRARY_DIR = "lib"


@dataclass(frozen=True)
class RuntimeSystem:
    """The shared libraries and symbol versions a Lambda runtime's system provides.

    Attributes
    ----------
    name
        ``"Amazon Linux 2023 (manylinux_2_34 policy)"`` and the like, for messages.
    policy
        The manylinux policy the data comes from.
    libraries
        SONAMEs the system provides.
    symbol_versions
        Prefix (``GLIBC``) -> (newest numeric version, other names allowed).
    """

    name: str
    policy: str
    libraries: frozenset[str]
    symbol_versions: dict[str, tuple[str, tuple[str, ...]]]

    def provides(self, soname: str) -> bool:
        """True when the runtime's system has the library ``soname``."""
        return soname in self.libraries

    def version_too_new(self, version: str) -> str | None:
        """Return the newest allowed version when ``version`` (``GLIBC_2.38``) exceeds it, else None.

        Versions with an unknown prefix, or that are not ``PREFIX_number`` (``GLIBC_PRIVATE``), are
        left alone: the policy says nothing about them.
        """
        prefix, _, number = version.partition("_")
        allowed = self.symbol_versions.get(prefix)
        if allowed is None:
            return None
        newest, others = allowed
        if number in others:
            return None
        parts = _numeric(number)
        if parts is None:
            return None
        newest_parts = _numeric(newest)
        assert newest_parts is not None
        return f"{prefix}_{newest}" if parts > newest_parts else None


def _numeric(text: str) -> tuple[int, ...] | None:
    pieces = text.split(".")
    if not all(piece.isdigit() for piece in pieces):
        return None
    return tuple(int(piece) for piece in pieces)


def runtime_system(target: LambdaTarget) -> RuntimeSystem:
    """The :class:`RuntimeSystem` of ``target`` (python3.11: Amazon Linux 2, later: Amazon Linux 2023)."""
    policy = "manylinux_2_34" if target.version_tuple >= (3, 12) else "manylinux_2_26"
    libraries = {lib for lib in _POLICY_LIBRARIES if lib not in NOT_ON_LAMBDA}
    libraries.add(_LOADERS[target.architecture])
    return RuntimeSystem(
        name=f"{target.amazon_linux} ({policy} policy, {target.architecture})",
        policy=policy,
        libraries=frozenset(libraries),
        symbol_versions=_SYMBOL_VERSIONS[(policy, target.architecture)],
    )
