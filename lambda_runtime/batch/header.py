"""The CSV header, read once per object and checked against the model before any row is scored.

A header that cannot match the model (a column the model does not take, one it needs that is
missing, a feature count that differs) would refuse every row for the same reason. The check names
the columns at fault and the fix once; ``cdk-sklearn batch`` stops on it before scoring, and the
``score`` action refuses the rows of such a segment with that one reason, without running the model.
"""

from __future__ import annotations

import csv
import shlex
from collections import Counter

from .. import contract as c
from ..model import LoadedModel
from .lines import LongLine

_SHOWN = 20
"""Column names listed in a message before "and N more"."""


class HeaderUnreadable(Exception):
    """The object's first line cannot be read as a CSV header; the message says why."""


def too_long(line: bytes) -> str:
    """Why a line longer than :data:`~lambda_runtime.contract.MAX_LINE_BYTES` is refused."""
    length = getattr(line, "length", len(line))
    return (
        f"the line is {length} bytes, longer than the maximum of {c.MAX_LINE_BYTES}; "
        "it is not read (are the line ends LF or CRLF?)"
    )


def parse_header(head: bytes) -> list[str]:
    """The column names of a CSV object's first line (a UTF-8 BOM and the CR of CRLF removed).

    Raises
    ------
    HeaderUnreadable
        The line is too long, not UTF-8, or not one CSV record.
    """
    if type(head) is LongLine:
        raise HeaderUnreadable(too_long(head))
    try:
        return next(csv.reader([head.decode("utf-8-sig").strip("\r")]), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise HeaderUnreadable(f"{exc}; lines must end in LF or CRLF") from None


def id_fix(option: str, column: str) -> str:
    """How the user names ``column`` as the row id: ``--id-column NAME`` (CLI) or ``id_column='NAME'``."""
    if option.startswith("--"):
        return f"{option} {shlex.quote(column)}"
    return f"{option}={column!r}"


def _columns(n: int) -> str:
    return "1 column" if n == 1 else f"{n} columns"


def _listed(values: list[str]) -> str:
    more = len(values) - _SHOWN
    return repr(values[:_SHOWN]) + (f" and {more} more" if more > 0 else "")


def header_mismatch(
    header: list[str], id_column: str | None, model: LoadedModel, id_option: str = "id_column"
) -> str | None:
    """Why no row under ``header`` can be scored by ``model``, with the fix; None when it can match.

    Parameters
    ----------
    header
        The CSV header's column names.
    id_column
        The column carried into the output as the row id (not a feature), if any.
    model
        The loaded model: its ``feature_names_in`` (fitted on a DataFrame) or ``n_features_in``.
    id_option
        How the id column is set where the message is read: ``--id-column`` for the CLI,
        ``id_column`` (the job's field and the construct's prop) otherwise.

    Returns
    -------
    str or None
        One message naming the extra, missing or repeated columns (or the counts) and the fix.
    """
    if not any(name.strip() for name in header):
        return _blank(model)
    if id_column is not None and id_column not in header:
        return f"{id_option} {id_column!r} is not a column of the header {_listed(header)}"
    index = header.index(id_column) if id_column is not None else None
    features = [name for i, name in enumerate(header) if i != index]
    if model.feature_names_in is not None:
        return _named_mismatch(features, id_column, model.feature_names_in, id_option)
    return _width_mismatch(features, id_column, model.n_features_in, id_option)


def _blank(model: LoadedModel) -> str:
    """A blank first line: the header is not where it must be (first), or the file has no rows."""
    names = model.feature_names_in
    columns = f"the columns {_listed(list(names))} (in any order)" if names else "its columns"
    return (
        f"the first line is blank; a CSV file's first line is its header, naming {columns}. "
        "Fix: remove the blank lines before the header"
    )


def _named_mismatch(
    features: list[str], id_column: str | None, names: tuple[str, ...], id_option: str
) -> str | None:
    """The header's feature columns against the model's ``feature_names_in_``."""
    counts = Counter(features)
    wanted = set(names)
    if set(counts) == wanted and len(counts) == len(features):
        return None
    missing = [name for name in names if name not in counts]
    extra = [name for name in features if name not in wanted]
    repeated = sorted(name for name, n in counts.items() if n > 1)
    found = []
    if extra:
        found.append(f"has {_columns(len(extra))} the model does not take, {_listed(extra)}")
    if missing:
        found.append(f"lacks {_columns(len(missing))} the model needs, {_listed(missing)}")
    if repeated:
        found.append(f"repeats {_listed(repeated)}")
    fixes = [*_near_misses(missing, extra)]
    # A column only spelled another way is explained by its near miss, not an extra to remove.
    spelled = {name.strip().casefold() for name in missing}
    extra = [name for name in extra if name.strip().casefold() not in spelled]
    if id_column is not None and id_column in wanted:
        fixes.append(
            f"{id_column!r} is the id column ({id_option}) but also a column the model takes: choose "
            "a column the model does not use as the id, or none"
        )
    elif extra and id_column is None and len(extra) == 1 and not missing:
        fixes.append(
            f"if {extra[0]!r} identifies the rows, pass {id_fix(id_option, extra[0])} (it is carried "
            "into the output, not scored); otherwise remove it from the files"
        )
    elif extra:
        one_id = f"; one column can be the row id ({id_option})" if id_column is None else ""
        fixes.append(f"remove the columns the model does not take from the files{one_id}")
    if missing and not fixes:
        fixes.append("add the missing columns to the files: the model was fitted on them")
    if repeated:
        fixes.append("keep one column of each name")
    return (
        f"the CSV header {' and '.join(found)}; the model takes exactly {_listed(list(names))}. "
        f"Fix: {'; '.join(fixes)}"
    )


def _near_misses(missing: list[str], extra: list[str]) -> list[str]:
    """A missing column written another way in the file (case, spaces): names must match exactly."""
    spelled = {name.strip().casefold(): name for name in extra}
    return [
        f"{spelled[key]!r} in the files is {name!r} in the model: names must match exactly"
        for name in missing
        if (key := name.strip().casefold()) in spelled
    ]


def _width_mismatch(
    features: list[str], id_column: str | None, n_features: int | None, id_option: str
) -> str | None:
    """The header's feature count against ``n_features_in_`` (a model fitted without column names)."""
    if n_features is None or len(features) == n_features:
        return None
    have = (
        f"the CSV files have {len(features)} feature columns"
        + (f" besides the id column {id_column!r}" if id_column is not None else "")
        + f" ({_listed(features)}) but the model takes {n_features} (n_features_in_ = {n_features}; it "
        "was fitted without column names, so the columns are taken in order)"
    )
    if len(features) == n_features + 1 and id_column is None:
        fix = (
            f"if one column identifies the rows, pass it as the id, e.g. {id_fix(id_option, features[0])}; "
            "otherwise remove the extra column from the files"
        )
    elif len(features) > n_features:
        fix = f"remove the {len(features) - n_features} columns the model does not take from the files"
    else:
        fix = f"the files need {n_features - len(features)} more feature columns, in the order of training"
    return f"{have}. Fix: {fix}"
