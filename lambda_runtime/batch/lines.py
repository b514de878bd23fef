"""Reading lines: a byte range of an object aligned to the lines that start in it, cut a chunk at a time.

A line ends at LF (CR of CRLF removed); a bare CR is not a line end. Lines longer than
:data:`~lambda_runtime.contract.MAX_LINE_BYTES` are not kept: reading skips to their newline and
yields a :class:`LongLine` (their first bytes, for the error record), so time and memory stay linear.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Generator, Iterable, Iterator
from itertools import accumulate
from operator import add

from .. import contract as c
from .storage import ObjectStore

LONG_LINE_HEAD = 500
"""Bytes of a too-long line kept for its error record."""

Block = tuple[list[int], list[bytes]]


class LongLine(bytes):
    """The first bytes of a line longer than the maximum; ``length`` is the whole line's length."""

    length: int

    def __new__(cls, head: bytes, length: int) -> LongLine:
        line = super().__new__(cls, head[:LONG_LINE_HEAD])
        line.length = length
        return line


def is_long(lines: list[bytes]) -> bool:
    """Whether the block is a too-long line (always a block of its own)."""
    return len(lines) == 1 and type(lines[0]) is LongLine


class _Reader:
    """The state of :func:`_line_blocks`: the unfinished line (as parts, joined once) or the long line
    being skipped."""

    def __init__(self, base: int, limit: int) -> None:
        self.limit = limit
        self.offset = base  # where the unfinished line starts
        self.parts: list[bytes] = []
        self.size = 0
        self.skipping = -1  # the length of the long line skipped so far, or -1

    def keep(self, data: bytes) -> None:
        """Keep the start of an unfinished line, or start skipping it when it is too long."""
        if self.skipping >= 0:
            self.skipping += len(data)
            return
        if not data:
            return
        self.parts.append(data)
        self.size += len(data)
        if self.size > self.limit + 1:  # too long even if it ends in CRLF
            self.skipping = self.size
            self.parts = [b"".join(self.parts)[:LONG_LINE_HEAD]]

    def take(self) -> bytes:
        """The unfinished line's bytes so far (or, when skipping, its head), and forget them."""
        data = b"".join(self.parts)
        self.parts, self.size = [], 0
        return data


def _line_blocks(chunks: Iterable[bytes], base: int, limit: int | None = None) -> Generator[Block]:
    """Yield ``(offsets, lines)`` per chunk of the byte stream that starts at offset ``base``.

    The lines of a chunk are cut and their offsets computed in C (``split``, ``accumulate``): a
    Python step per line costs more than decoding it does on the vectorized paths. CR of CRLF is
    removed (after the offsets are taken). A too-long line is a block of its own, a :class:`LongLine`.
    An unfinished line is kept as parts joined once, when its newline comes.
    """
    state = _Reader(base, c.MAX_LINE_BYTES if limit is None else limit)
    for chunk in chunks:
        newline = chunk.find(b"\n")
        if newline < 0:
            state.keep(chunk)
            continue
        if state.skipping >= 0:  # the long line ends in this chunk
            length = state.skipping + newline
            yield [state.offset], [LongLine(state.take(), length)]
            state.offset += length + 1
            state.skipping = -1
            data = chunk[newline + 1 :]
        else:
            data = state.take() + chunk if state.parts else chunk
        yield from _cut(state, data)
    if state.skipping >= 0:
        yield [state.offset], [LongLine(state.take(), state.skipping)]
    elif state.parts:
        last = state.take().removesuffix(b"\r")
        yield [state.offset], [LongLine(last, len(last)) if len(last) > state.limit else last]


def _cut(state: _Reader, data: bytes) -> Iterator[Block]:
    """The whole lines of ``data`` (which starts at ``state.offset``); keep its unfinished end."""
    parts = data.split(b"\n")
    rest = parts.pop()
    if parts:
        # offset of line i: its first offset + the lengths of the lines before it + one newline each
        starts = accumulate(map(len, parts), initial=state.offset)
        offsets = list(map(add, starts, range(len(parts) + 1)))
        state.offset = offsets.pop()
        if b"\r" in data:
            parts = [part.removesuffix(b"\r") for part in parts]
        if len(data) > state.limit and max(map(len, parts)) > state.limit:
            yield from _split_long(offsets, parts, state.limit)
        else:
            yield offsets, parts
    state.keep(rest)


def _split_long(offsets: list[int], lines: list[bytes], limit: int) -> Iterator[Block]:
    """The block with each too-long line as a block of its own."""
    first = 0
    for i, line in enumerate(lines):
        if len(line) > limit:
            if first < i:
                yield offsets[first:i], lines[first:i]
            yield [offsets[i]], [LongLine(line, len(line))]
            first = i + 1
    if first < len(lines):
        yield offsets[first:], lines[first:]


def _until_newline(chunks: Iterable[bytes], budget: int, *, then_all: bool) -> Iterator[bytes]:
    """The chunks up to the first newline (and all after it when ``then_all``), or up to ``budget``
    bytes when no newline comes first: a range that starts inside a long line, or a header read,
    stops there instead of reading the whole line."""
    seen = 0
    iterator = iter(chunks)
    for chunk in iterator:
        yield chunk
        if b"\n" in chunk:
            if then_all:
                yield from iterator
            return
        seen += len(chunk)
        if seen >= budget:
            return


def owned_line_blocks(
    store: ObjectStore, bucket: str, key: str, start: int, end: int, etag: str | None = None
) -> Iterator[Block]:
    """:func:`owned_lines` a chunk at a time: ``(offsets, lines)`` lists, in order."""
    first = max(start - 1, 0)
    stream = store.read(bucket, key, first, etag)
    # A line starting after the newline that ends the line holding byte start-1 is ours only if
    # that newline comes before end: reading stops at end when there is none.
    chunks = _until_newline(stream, end - first, then_all=True) if start > 0 else stream
    blocks = _line_blocks(chunks, first)
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
    store: ObjectStore, bucket: str, key: str, start: int, end: int, etag: str | None = None
) -> Iterator[tuple[int, bytes]]:
    """The lines whose first byte is in ``[start, end)``, with their offsets, CR of CRLF removed
    (a too-long line as a :class:`LongLine`)."""
    for offsets, lines in owned_line_blocks(store, bucket, key, start, end, etag):
        yield from zip(offsets, lines, strict=True)


def first_line(store: ObjectStore, bucket: str, key: str, etag: str | None = None) -> bytes:
    """The object's first line (CR of CRLF removed), read up to its newline only (a :class:`LongLine`
    past the maximum)."""
    stream = store.read(bucket, key, 0, etag)
    blocks = _line_blocks(_until_newline(stream, c.MAX_LINE_BYTES + 2, then_all=False), 0)
    try:
        for _, lines in blocks:
            return lines[0]
        return b""
    finally:
        blocks.close()
        close = getattr(stream, "close", None)
        if close is not None:
            close()
