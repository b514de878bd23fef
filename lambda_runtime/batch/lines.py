"""Reading lines: a byte range of an object aligned to the lines that start in it, cut a chunk at a time."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Generator, Iterable, Iterator
from itertools import accumulate
from operator import add

from .storage import ObjectStore


def _line_blocks(chunks: Iterable[bytes], base: int) -> Generator[tuple[list[int], list[bytes]]]:
    """Yield ``(offsets, lines)`` per chunk of the byte stream that starts at offset ``base``.

    The lines of a chunk are cut and their offsets computed in C (``split``, ``accumulate``): a
    Python step per line costs more than decoding it does on the vectorized paths. CR of CRLF is
    removed (after the offsets are taken).
    """
    pending = b""
    offset = base
    for chunk in chunks:
        data = pending + chunk
        parts = data.split(b"\n")
        pending = parts.pop()
        if parts:
            # offset of line i: base + the lengths of the lines before it + one newline each
            starts = accumulate(map(len, parts), initial=offset)
            offsets = list(map(add, starts, range(len(parts) + 1)))
            offset = offsets.pop()
            if b"\r" in data:
                parts = [part.removesuffix(b"\r") for part in parts]
            yield offsets, parts
    if pending:
        yield [offset], [pending.removesuffix(b"\r")]


def owned_line_blocks(
    store: ObjectStore, bucket: str, key: str, start: int, end: int
) -> Iterator[tuple[list[int], list[bytes]]]:
    """:func:`owned_lines` a chunk at a time: ``(offsets, lines)`` lists, in order."""
    first = max(start - 1, 0)
    stream = store.read(bucket, key, first)
    blocks = _line_blocks(stream, first)
    skip = start > 0
    try:
        for offsets, lines in blocks:
            if skip:
                # The line holding byte start-1 began in the previous range (or is empty when that
                # byte is the newline ending it): either way it is not ours.
                offsets, lines, skip = offsets[1:], lines[1:], False
            cut = bisect_left(offsets, end)
            if cut < len(offsets):  # this block reaches the next range: the rest is not ours
                if cut:
                    yield offsets[:cut], lines[:cut]
                break
            if offsets:
                yield offsets, lines
    finally:
        blocks.close()
        close = getattr(stream, "close", None)
        if close is not None:
            close()


def owned_lines(
    store: ObjectStore, bucket: str, key: str, start: int, end: int
) -> Iterator[tuple[int, bytes]]:
    """The lines whose first byte is in ``[start, end)``, with their offsets, CR of CRLF removed."""
    for offsets, lines in owned_line_blocks(store, bucket, key, start, end):
        yield from zip(offsets, lines, strict=True)


def first_line(store: ObjectStore, bucket: str, key: str) -> bytes:
    """The object's first line (CR of CRLF removed), read up to its newline only."""
    head = b""
    stream = store.read(bucket, key, 0)
    try:
        for chunk in stream:
            head += chunk
            if b"\n" in chunk:
                break
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    return head.partition(b"\n")[0].removesuffix(b"\r")
