"""Layers made of real ELF files from this venv's wheels (copied, never loaded)."""

from __future__ import annotations

import shutil
from pathlib import Path

import lightgbm
import sklearn

SKLEARN_DIR = Path(sklearn.__file__).parent
LIGHTGBM_LIBRARY = Path(lightgbm.__file__).parent / "lib" / "lib_lightgbm.so"
SKLEARN_LIBS = SKLEARN_DIR.parent / "scikit_learn.libs"


def sklearn_extension() -> Path:
    """A scikit-learn extension module linked to its vendored libgomp through RPATH $ORIGIN/..."""
    return next(SKLEARN_DIR.glob("utils/_openmp_helpers.*.so"))


def layer_with(root: Path, *, lightgbm_library: bool = False, sklearn_openmp: bool = False) -> Path:
    """A layer folder (``root/python/...``) holding the chosen real ELF files at their wheel paths."""
    python = root / "python"
    if lightgbm_library:
        (python / "lightgbm" / "lib").mkdir(parents=True, exist_ok=True)
        shutil.copy2(LIGHTGBM_LIBRARY, python / "lightgbm" / "lib" / LIGHTGBM_LIBRARY.name)
    if sklearn_openmp:
        extension = sklearn_extension()
        (python / "sklearn" / "utils").mkdir(parents=True, exist_ok=True)
        shutil.copy2(extension, python / "sklearn" / "utils" / extension.name)
        shutil.copytree(SKLEARN_LIBS, python / "scikit_learn.libs", dirs_exist_ok=True)
    python.mkdir(parents=True, exist_ok=True)
    return root
