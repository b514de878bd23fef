"""Time for the proof, injectable: polling with a deadline, a clock for signatures and reports."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class Clock(Protocol):
    """What the proof needs from time; :class:`SystemClock` in a run, a fake in tests."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never go back (for deadlines)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware UTC."""
        return dt.datetime.now(dt.UTC)

    def monotonic(self) -> float:
        """:func:`time.monotonic`."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """:func:`time.sleep`."""
        time.sleep(seconds)


class ProofTimeout(Exception):
    """A wait ran past its deadline; the message says what was awaited and the last thing seen."""


def wait_for(
    probe: Callable[[], T | None],
    *,
    what: str,
    timeout: float,
    interval: float,
    clock: Clock,
    last_seen: Callable[[], str] | None = None,
) -> T:
    """Call ``probe`` every ``interval`` seconds until it returns something other than None.

    Parameters
    ----------
    probe
        Returns the awaited value, or None to keep waiting. Its exceptions propagate.
    what
        What is awaited, for the timeout message ("stack X to be deleted").
    timeout
        Seconds before giving up (measured on ``clock.monotonic``).
    interval
        Seconds between calls.
    clock
        The clock to read and sleep on.
    last_seen
        Describes the last state seen, appended to the timeout message.

    Returns
    -------
    T
        The first value ``probe`` returned that is not None.

    Raises
    ------
    ProofTimeout
        When ``timeout`` seconds pass first.
    """
    deadline = clock.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if clock.monotonic() + interval > deadline:
            seen = f"; last seen: {last_seen()}" if last_seen is not None else ""
            raise ProofTimeout(f"gave up after {timeout:g} s waiting for {what}{seen}")
        clock.sleep(interval)
