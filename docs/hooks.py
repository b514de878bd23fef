"""mkdocs hooks (``hooks:`` in mkdocs.yml): the generated reference pages.

The reference pages (:data:`docs.reference.PAGES`) are built from this checkout's code on every build and
added to the site as generated files: nothing is written into the repository. A missing page fails the
strict build.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent


def on_config(config: Any) -> Any:
    """Put this checkout first on the import path."""
    # mkdocs restores sys.path after loading a hook module, so this is done here: the reference documents
    # this checkout's code, not another copy the environment may have installed.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return config


def on_files(files: Files, config: Any) -> Files:
    """Add the reference pages, generated from the code."""
    from docs.reference import PAGES

    for path, build in PAGES.items():
        files.append(File.generated(config, path, content=build()))
    return files
