"""The parts of a new project's README that depend on the model and on how cdk-sklearn was installed.

The request examples take the model's own input shape: its columns (``feature_names_in_``) or its
feature count (``n_features_in_``). A pickle cannot be read for those without loading it, so they are
read by loading the model once in a child interpreter, as ``cdk-sklearn serve`` will (joblib and
pickle files; a ``.skops`` or ``.onnx`` file, or a model that does not load here, gets the generic
example and the ``/metadata`` route that lists its inputs).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cdk_sklearn.cli.new_sources import OwnRequirement

LOADABLE = (".joblib", ".pkl", ".pickle")
"""Model files whose inputs are read by loading them in a child interpreter."""
PORT = 8080
"""The port ``cdk-sklearn serve`` listens on by default, in the examples."""
_TIMEOUT_S = 120
# Prints the model's column names or feature count as JSON; run with the model file as argv[1].
_READ_INPUTS = """
import json, sys, joblib
model = joblib.load(sys.argv[1])
names = getattr(model, "feature_names_in_", None)
count = getattr(model, "n_features_in_", None)
print(json.dumps({"names": None if names is None else [str(n) for n in names],
                  "count": None if count is None else int(count)}))
"""


@dataclass(frozen=True)
class ModelInputs:
    """What a model takes: named columns, or a number of features.

    Attributes
    ----------
    names
        The columns it was fitted on (a DataFrame model), or ``None``.
    count
        How many features it takes, or ``None`` when unknown.
    """

    names: tuple[str, ...] | None
    count: int | None


def model_inputs(model: Path) -> ModelInputs | None:
    """The columns or feature count of ``model``, or ``None`` when they cannot be read here."""
    if model.suffix.lower() not in LOADABLE:
        return None
    try:
        result = subprocess.run(
            [sys.executable, "-c", _READ_INPUTS, str(model)],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    try:
        data = json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return None
    names = data.get("names")
    count = data.get("count")
    return ModelInputs(tuple(names) if names is not None else None, count)


def request_body(inputs: ModelInputs | None) -> str:
    """A JSON ``/predict`` body shaped for the model: one record, or one row of zeros."""
    if inputs is not None and inputs.names is not None:
        return json.dumps({"instances": [dict.fromkeys(inputs.names)]})
    if inputs is not None and inputs.count is not None:
        return json.dumps({"instances": [[0.0] * inputs.count]})
    return json.dumps({"instances": [[0.0, 0.0, 0.0, 0.0]]})


def request_note(inputs: ModelInputs | None) -> str:
    """The sentence under the example request: what to put in it."""
    if inputs is not None and inputs.names is not None:
        return (
            f"The model was fitted on a DataFrame with {len(inputs.names)} columns: send one record per "
            "row, replacing each `null` with that column's value (a number, or a string for a "
            "categorical column)."
        )
    if inputs is not None and inputs.count is not None:
        return f"The model takes {inputs.count} numbers per row: replace the zeros with yours."
    return (
        "Put your model's features in the row (`curl -s localhost:8080/metadata` lists "
        "`n_features_in_`, and `feature_names_in_` for a DataFrame model)."
    )


def readme_fields(model_path: str, model: Path | None, own: OwnRequirement) -> dict[str, str]:
    """The README template's model- and install-dependent fields.

    Parameters
    ----------
    model_path
        The model's path inside the project (``models/churn.joblib``).
    model
        The model file given to ``new`` (read for its inputs), or ``None``.
    own
        How the project requires cdk-sklearn.
    """
    inputs = model_inputs(model) if model is not None else None
    body = request_body(inputs).replace("'", "'\\''")
    return {
        "request": (f"curl -s -H 'Content-Type: application/json' -d '{body}' localhost:{PORT}/predict"),
        "request_note": request_note(inputs),
        "onnx_install": f"python -m pip install {_shell_word(own.onnx)}"
        + (" --find-links ./wheels" if own.wheel is not None or own.note else ""),
        "share": share_paragraph(own),
        "onnx_model": str(PurePosixPath(model_path).with_suffix(".onnx")),
    }


def share_paragraph(own: OwnRequirement) -> str:
    """How a teammate or CI gets cdk-sklearn from the committed project."""
    if own.wheel is not None or own.note:
        return (
            "cdk-sklearn is not on a package index: its wheel is in `wheels/`, and `requirements.txt` "
            "asks for it by version next to `--find-links ./wheels`. pip reads that folder relative to "
            "`requirements.txt` itself, so `python -m pip install -r path/to/requirements.txt` works "
            "from any directory. Commit `wheels/`; to upgrade, put the new wheel there (delete the old "
            "one) and change the `cdk-sklearn==` line."
        )
    return (
        f"`requirements.txt` installs cdk-sklearn as `{own.lines[-1]}`; a teammate or CI needs access "
        "to where that comes from."
    )


def _shell_word(requirement: str) -> str:
    return "'" + requirement.replace("'", "'\\''") + "'"
