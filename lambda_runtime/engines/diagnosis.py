"""Locating the row a model refuses: both engines re-run the first rows one at a time.

Standard library only: imported by the engines' error paths, never on a request that succeeds.
"""

from __future__ import annotations

from collections.abc import Callable

DIAGNOSED_ROWS = 64
"""At most this many rows are re-run one by one to find the row at fault: the diagnosis costs at most
this many single-row runs, whatever the request's size."""


def locate_rows(passes: Callable[[int], bool], n_rows: int) -> tuple[int | None, int | None]:
    """The first row that fails alone and the first that passes, among the first :data:`DIAGNOSED_ROWS`.

    Parameters
    ----------
    passes
        Whether the model answers row ``i`` on its own.
    n_rows
        The rows of the request.
    """
    bad = good = None
    for i in range(min(n_rows, DIAGNOSED_ROWS)):
        if passes(i):
            good = i if good is None else good
        else:
            bad = i if bad is None else bad
        if bad is not None and good is not None:
            break
    return bad, good
