"""joblib's compressed model files: which compressor wrote one, and its decompressed stream.

``joblib.dump(compress=...)`` writes gzip, bz2, xz, lzma, lz4 or raw zlib; each is recognised by its
magic bytes, not by the file's name, and read as a stream so a large model is never held in memory
twice.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from pathlib import Path
from typing import IO, Any

READ_CHUNK = 1 << 20
"""Bytes read at a time from a model file."""

# Magic bytes of the compressors joblib.dump(compress=...) can use.
_GZIP_MAGIC = b"\x1f\x8b"
_BZ2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_LZMA_MAGIC = b"]\x00\x00"
_LZ4_MAGIC = b"\x04\x22\x4d\x18"
_ZLIB_MAGIC = b"\x78"  # a zlib stream's first byte for the 32 KiB window every compressor uses
_OLD_JOBLIB_MAGIC = b"ZF"


def compression_of(head: bytes) -> str | None:
    """The compressor whose magic bytes start ``head`` (a file's first 8 bytes), or ``None``.

    ``"zf"`` names joblib's pre-0.10 zlib format, which is detected only to be refused.
    """
    # No magic is a prefix of another, so the order of the checks does not matter.
    magics = (
        (_GZIP_MAGIC, "gzip"),
        (_BZ2_MAGIC, "bz2"),
        (_XZ_MAGIC, "xz"),
        (_LZMA_MAGIC, "lzma"),
        (_LZ4_MAGIC, "lz4"),
        (_ZLIB_MAGIC, "zlib"),
        (_OLD_JOBLIB_MAGIC, "zf"),
    )
    return next((name for magic, name in magics if head.startswith(magic)), None)


class _ZlibReader(io.RawIOBase):
    """A readable stream over a raw zlib stream (joblib's ``compress=("zlib", n)`` format)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._inflate = zlib.decompressobj()
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            if self._inflate.eof:
                return 0
            compressed = self._raw.read(READ_CHUNK)
            if not compressed:
                raise EOFError("the zlib stream ends early (file truncated?)")
            self._pending = self._inflate.decompress(compressed)
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


class _Stream:
    """Context manager opening a model file as a decompressed binary stream."""

    def __init__(self, file: Path, compression: str | None) -> None:
        self._file = file
        self._compression = compression
        self._handles: list[IO[bytes]] = []

    def __enter__(self) -> IO[bytes]:
        raw = self._file.open("rb")
        self._handles.append(raw)
        stream: IO[bytes]
        if self._compression is None:
            stream = io.BufferedReader(raw, READ_CHUNK)
        elif self._compression == "gzip":
            stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
        elif self._compression == "bz2":
            stream = bz2.BZ2File(raw, mode="rb")
        elif self._compression in ("xz", "lzma"):
            stream = lzma.LZMAFile(raw, mode="rb")
        elif self._compression == "lz4":
            stream = _lz4_stream(self._file, raw)
        else:
            stream = io.BufferedReader(_ZlibReader(raw), READ_CHUNK)
        self._handles.append(stream)
        return stream

    def __exit__(self, *exc_info: object) -> None:
        for handle in reversed(self._handles):
            handle.close()


def open_stream(file: Path, compression: str | None) -> _Stream:
    """Open ``file`` as its decompressed binary stream, in a ``with`` block.

    Raises
    ------
    ValueError
        When the file is lz4-compressed and the ``lz4`` package is not installed.
    """
    return _Stream(file, compression)


def _lz4_stream(file: Path, raw: IO[bytes]) -> IO[bytes]:
    try:
        import lz4.frame  # optional: joblib itself needs it to write such files
    except ModuleNotFoundError as exc:
        raise ValueError(
            f"model file {file} is lz4-compressed; install the 'lz4' package to let cdk-sklearn read it "
            "(pip install lz4), or save the model with another compressor"
        ) from exc
    stream: IO[bytes] = lz4.frame.LZ4FrameFile(raw, mode="rb")
    return stream
