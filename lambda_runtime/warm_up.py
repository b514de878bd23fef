"""What a failed warm-up call says about the model's run-time dependencies.

The app calls the model once at init (:meth:`App._warm_up <lambda_runtime.app.App>`); a module or
shared library missing then is missing for every request, while data the model refuses says nothing
about its health.
"""

from __future__ import annotations

import re

from .model import ModelLoadError

# A shared library named in an ImportError/OSError ("libgomp.so.1: cannot open shared object file"),
# without the directories before it (only failed loads search it, so it is not compiled up front).
_SHARED_LIBRARY = r"[\w.+-]+\.so(?:\.[\w.]+)?\b"


def missing_dependency(exc: BaseException, method: str) -> ModelLoadError | None:
    """The load problem when ``exc`` shows a module or shared library missing, else ``None``."""
    text = str(exc)
    library = re.search(_SHARED_LIBRARY, text)
    detail = f"warm-up {method}: {type(exc).__name__}: {text}"
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return ModelLoadError(
            f"the model loads but cannot predict: its {method} needs the Python module {exc.name!r}, "
            "which is not installed in the function; add the package that provides it to the layer "
            "(extra_requirements) and redeploy",
            detail=detail,
        )
    if isinstance(exc, (ImportError, OSError)) and library is not None:
        # Only the file name is shown: the text may hold a path inside the function.
        return ModelLoadError(
            f"the model loads but cannot predict: its {method} needs the shared library {library.group()}, "
            "which is neither in the function's layer nor in the Lambda runtime; add it to the layer and "
            "redeploy",
            detail=detail,
        )
    if isinstance(exc, ImportError):
        return ModelLoadError(
            f"the model loads but cannot predict: its {method} fails to import a module "
            f"({type(exc).__name__}); check that the layer has every package the model uses",
            detail=detail,
        )
    return None
