"""Sizes of a layer per package, against Lambda's unzipped limit for function code plus layers."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

LAMBDA_UNZIPPED_LIMIT = 262_144_000
"""Bytes: the unzipped size of a function's code and all its layers together (Lambda quotas)."""

_MB = 1_000_000
_DIST_INFO = re.compile(r"^(?P<name>.+?)-[^-]+\.(dist|egg)-info$")
# Distributions whose wheel-side folders (dist-info, .libs) are named differently from the import name.
_IMPORT_NAMES = {"scikit_learn": "sklearn"}


class BudgetExceededError(ValueError):
    """The function code plus layers would be larger than Lambda accepts."""


def directory_size(path: Path) -> int:
    """Bytes of all regular files under ``path`` (symlinks not followed), or of ``path`` if a file."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def package_sizes(site_packages: Path) -> dict[str, int]:
    """Bytes per top-level package, with ``X.libs`` and ``X-1.0.dist-info`` counted under ``X``.

    The names are the import names (``sklearn``, ``numpy``), as a reader finds them in the layer.
    """
    sizes: dict[str, int] = {}
    for entry in site_packages.iterdir():
        name = entry.name
        dist = _DIST_INFO.match(name)
        if dist:
            name = dist.group("name")
        name = name.removesuffix(".libs").removesuffix(".pyc").removesuffix(".py")
        name = _IMPORT_NAMES.get(name, name)
        if name == "__pycache__":
            name = "(top-level modules)"
        sizes[name] = sizes.get(name, 0) + directory_size(entry)
    return dict(sorted(sizes.items(), key=lambda item: -item[1]))


@dataclass(frozen=True)
class Budget:
    """A layer's size next to the function code's, against :data:`LAMBDA_UNZIPPED_LIMIT`."""

    packages: Mapping[str, int]
    layer_bytes: int
    function_code_bytes: int = 0

    @property
    def total_bytes(self) -> int:
        """Layer plus function code."""
        return self.layer_bytes + self.function_code_bytes

    @property
    def headroom_bytes(self) -> int:
        """What is left under the limit (negative when over)."""
        return LAMBDA_UNZIPPED_LIMIT - self.total_bytes

    def render(self, title: str) -> str:
        """A small table: MB per package, the function code, the total and the limit."""
        lines = [title]
        for name, size in self.packages.items():
            lines.append(f"  {name:<28} {size / _MB:8.1f} MB")
        lines.append(f"  {'(function code)':<28} {self.function_code_bytes / _MB:8.1f} MB")
        share = 100 * self.total_bytes / LAMBDA_UNZIPPED_LIMIT
        lines.append(
            f"  {'total unzipped':<28} {self.total_bytes / _MB:8.1f} MB "
            f"of {LAMBDA_UNZIPPED_LIMIT / _MB:.1f} MB "
            f"({share:.0f}%, {self.headroom_bytes / _MB:.1f} MB left)"
        )
        return "\n".join(lines)

    def check(self, extra_requirements: Sequence[str] = ()) -> None:
        """Raise :class:`BudgetExceededError` with what to do when over the limit.

        Parameters
        ----------
        extra_requirements
            The user's extra requirements: the advice to remove some is given only when there are any
            (the model's own requirements cannot be removed).
        """
        if self.headroom_bytes >= 0:
            return
        biggest = ", ".join(f"{n} {s / _MB:.1f} MB" for n, s in list(self.packages.items())[:4])
        fixes = ["build the layer slim (slim=True / layer_slim=True, sourceless .pyc, about 15% smaller)"]
        if extra_requirements:
            fixes.insert(0, f"remove some of extra_requirements ({', '.join(extra_requirements)})")
        fixes.append("serve this model from a container image (10 GB limit) instead of a layer")
        raise BudgetExceededError(
            f"the scikit-learn layer ({self.layer_bytes:,} bytes) plus the function code "
            f"({self.function_code_bytes:,} bytes) is {self.total_bytes:,} bytes, over Lambda's "
            f"{LAMBDA_UNZIPPED_LIMIT:,}-byte unzipped limit by {-self.headroom_bytes:,} bytes. Biggest: "
            f"{biggest}. To fit: {'; or '.join(fixes)}"
        )
