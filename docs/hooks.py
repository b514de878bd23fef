"""mkdocs hooks (``hooks:`` in mkdocs.yml): the generated reference pages and the optional nav entries.

The reference pages (:data:`docs.reference.PAGES`) are built from this checkout's code on every build and
added to the site as generated files: nothing is written into the repository. A guide that another change
brings (:data:`OPTIONAL_PAGES`) keeps its nav entry in mkdocs.yml and is left out of the nav, with one line
in the build log, until its file exists; any other missing page fails the strict build.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent

OPTIONAL_PAGES: frozenset[str] = frozenset()
"""Nav entries whose file may not exist yet."""

log = logging.getLogger("mkdocs.hooks.cdk_sklearn")


def _without_missing(nav: Any, docs_dir: Path) -> Any:
    if isinstance(nav, list):
        kept = [_without_missing(item, docs_dir) for item in nav]
        return [item for item in kept if item is not None]
    if isinstance(nav, dict):
        ((title, target),) = nav.items()
        target = _without_missing(target, docs_dir)
        return None if target is None else {title: target}
    if isinstance(nav, str) and nav in OPTIONAL_PAGES and not (docs_dir / nav).exists():
        log.info("cdk-sklearn: %s is not there yet; left out of the nav", nav)
        return None
    return nav


def on_config(config: Any) -> Any:
    """Put this checkout first on the import path, and leave the optional pages that do not exist yet out
    of the nav."""
    # mkdocs restores sys.path after loading a hook module, so this is done here: the reference documents
    # this checkout's code, not another copy the environment may have installed.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    config["nav"] = _without_missing(config["nav"], Path(config["docs_dir"]))
    return config


def on_files(files: Files, config: Any) -> Files:
    """Add the reference pages, generated from the code."""
    from docs.reference import PAGES

    for path, build in PAGES.items():
        files.append(File.generated(config, path, content=build()))
    return files
