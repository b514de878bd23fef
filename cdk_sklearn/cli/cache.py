"""``cdk-sklearn cache list|prune``: what the build cache holds, and removing what is no longer used.

The cache folder is :func:`cdk_sklearn.packaging.cache.cache_root`; each folder in it is a kind
(``layers``, ``recipes``, ...) and each item of a kind is one entry. An entry's last use is the newest
access or modification time of the entry and the files directly in it: reading a cached layer's
manifest updates its access time (at most daily under the usual ``relatime`` mount option; on a
``noatime`` file system the last use is the last write).

``prune`` never removes anything that does not resolve inside the cache folder, and never follows a
symbolic link: a link is removed as a link.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cdk_sklearn.packaging.cache import CACHE_ENV, cache_root

DEFAULT_DAYS: Final = 30
_DAY: Final = 86400.0


@dataclass(frozen=True)
class Entry:
    """One cache entry.

    Attributes
    ----------
    path
        Where it is (inside the cache folder).
    kind
        The folder it is in (``layers``, ``recipes``, ...); ``"-"`` for a file directly in the cache.
    size
        Bytes it holds (files and links, not followed).
    last_used
        Seconds since the epoch (see the module docstring).
    """

    path: Path
    kind: str
    size: int
    last_used: float

    def age_days(self, now: float) -> float:
        """Days since its last use."""
        return max(0.0, now - self.last_used) / _DAY


def register(subparsers: Any) -> None:
    """Add ``cache list`` and ``cache prune`` to the CLI."""
    cache = subparsers.add_parser(
        "cache",
        help="list or prune the build cache (layers, recipes, ...)",
        description=f"The build cache folder: ${CACHE_ENV}, else $XDG_CACHE_HOME/cdk-sklearn, "
        "else ~/.cache/cdk-sklearn.",
    )
    actions = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="each entry with its size and last use")
    listing.add_argument("--json", action="store_true", help="print the entries as JSON")
    listing.set_defaults(func=run_list)
    prune = actions.add_parser(
        "prune",
        help=f"remove entries not used for N days (default {DEFAULT_DAYS}) or all of them",
        description="Remove cache entries not used for DAYS days, or every entry with --all, and print "
        "what was freed. Nothing outside the cache folder is touched.",
    )
    which = prune.add_mutually_exclusive_group()
    which.add_argument(
        "--days",
        type=float,
        default=DEFAULT_DAYS,
        metavar="DAYS",
        help=f"remove entries unused for at least this many days (default {DEFAULT_DAYS})",
    )
    which.add_argument("--all", action="store_true", help="remove every entry")
    prune.add_argument("--dry-run", action="store_true", help="print what would be removed; remove nothing")
    prune.set_defaults(func=run_prune)


def entries(root: Path) -> list[Entry]:
    """Every entry under ``root``, oldest last use first; empty when ``root`` does not exist."""
    if not root.is_dir():
        return []
    found: list[Entry] = []
    for child in sorted(root.iterdir()):
        if child.is_dir() and not child.is_symlink():
            found.extend(_entry(item, child.name) for item in sorted(child.iterdir()))
        else:
            found.append(_entry(child, "-"))
    return sorted(found, key=lambda e: (e.last_used, str(e.path)))


def _entry(path: Path, kind: str) -> Entry:
    own = path.lstat()
    size = 0
    last = max(own.st_atime, own.st_mtime)
    if stat.S_ISDIR(own.st_mode):
        for folder, dirs, files in os.walk(path, followlinks=False):
            for name in [*files, *dirs]:
                info = os.lstat(os.path.join(folder, name))
                if not stat.S_ISDIR(info.st_mode):
                    size += info.st_size
                if folder == str(path):
                    last = max(last, info.st_atime, info.st_mtime)
    else:
        size = own.st_size
    return Entry(path=path, kind=kind, size=size, last_used=last)


def prune(root: Path, older_than_days: float | None, *, dry_run: bool = False) -> list[Entry]:
    """Remove the entries unused for ``older_than_days`` (every entry when ``None``); return them.

    Raises
    ------
    ValueError
        If ``root`` is a file-system root or the home folder (a mistaken ``CDK_SKLEARN_CACHE``), or
        ``older_than_days`` is negative.
    """
    root = root.resolve()
    if root == Path(root.anchor) or root == Path.home().resolve():
        raise ValueError(
            f"the cache folder is {root}; refusing to prune it (set {CACHE_ENV} to its own folder)"
        )
    if older_than_days is not None and older_than_days < 0:
        raise ValueError(f"--days must be >= 0, got {older_than_days:g}")
    now = time.time()
    chosen = [e for e in entries(root) if older_than_days is None or e.age_days(now) >= older_than_days]
    for entry in chosen:
        if not dry_run:
            _remove_inside(entry.path, root)
    return chosen


def _remove_inside(path: Path, root: Path) -> None:
    # The entry's parent is resolved (links in it followed) and must be inside the cache; the entry
    # itself is never followed: a link is unlinked, a folder removed without following links.
    parent = path.parent.resolve()
    if parent != root and not parent.is_relative_to(root):
        raise ValueError(f"{path} is not inside the cache folder {root}; not removed")
    target = parent / path.name
    if target.is_symlink() or not target.is_dir():
        target.unlink()
    else:
        shutil.rmtree(target)


def run_list(args: argparse.Namespace) -> int:
    """Print every entry with its size and last use."""
    root = cache_root()
    found = entries(root)
    now = time.time()
    if args.json:
        doc = {
            "cache": str(root),
            "total_bytes": sum(e.size for e in found),
            "entries": [
                {
                    "path": str(e.path),
                    "kind": e.kind,
                    "bytes": e.size,
                    "last_used": _iso(e.last_used),
                    "days_since_use": round(e.age_days(now), 2),
                }
                for e in found
            ],
        }
        print(json.dumps(doc, indent=2))
        return 0
    if not found:
        print(f"{root}: empty")
        return 0
    print(f"{root}: {len(found)} entries, {_size(sum(e.size for e in found))}")
    for e in found:
        age = f"last used {_iso(e.last_used)} ({e.age_days(now):.0f} d)"
        print(f"  {_size(e.size):>9}  {age}  {e.kind}/{e.path.name}")
    return 0


def run_prune(args: argparse.Namespace) -> int:
    """Remove unused entries and print each one and the total freed."""
    root = cache_root()
    removed = prune(root, None if args.all else args.days, dry_run=args.dry_run)
    verb = "would free" if args.dry_run else "freed"
    for e in removed:
        print(f"  {_size(e.size):>9}  {e.kind}/{e.path.name}")
    rule = "every entry" if args.all else f"entries unused for {args.days:g}+ days"
    print(f"{verb} {_size(sum(e.size for e in removed))} in {len(removed)} entries ({rule}) from {root}")
    return 0


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch))


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns
