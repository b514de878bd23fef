"""The XGBoost version recorded in a raw booster model, read from its bytes.

A pickled ``xgboost.core.Booster`` (inside every ``XGBClassifier``/``XGBRegressor``) holds the model as
``bytearray(Booster.save_raw())``: UBJSON since XGBoost 2.0, JSON when saved so, and an older binary
format before 1.6. UBJSON and JSON models carry ``"version": [major, minor, patch]`` (the writer's
version) in their ``Config`` and ``Model`` objects. Only that key is decoded here: the model itself is
never parsed or loaded.
"""

from __future__ import annotations

import re
import struct

# UBJSON integer markers and their struct formats (big-endian, as UBJSON specifies).
_UBJSON_INTS = {b"i": ">b", b"U": ">B", b"I": ">h", b"l": ">i", b"L": ">q"}
# In a UBJSON object a key is a length (an integer with its marker) followed by the UTF-8 bytes;
# the value follows the key. XGBoost writes lengths as int64 ("L"), other writers may use smaller ints.
_UBJSON_KEY = re.compile(rb"(?:i\x07|U\x07|I\x00\x07|l\x00\x00\x00\x07|L\x00{7}\x07)version")
_JSON_VERSION = re.compile(rb'"version"\s*:\s*\[\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\]')
_MAX_PARTS = 4


def booster_version(raw: bytes) -> str | None:
    """Return ``"3.2.0"`` for a raw XGBoost model that records its writer's version, else ``None``.

    Parameters
    ----------
    raw
        The bytes of ``Booster.save_raw()`` (UBJSON or JSON; the pre-1.6 binary format has no version).
    """
    found = _JSON_VERSION.search(raw)
    if found:
        return ".".join(str(int(part)) for part in found.groups())
    for key in _UBJSON_KEY.finditer(raw):
        parts = _ubjson_int_array(raw, key.end())
        if parts is not None and 2 <= len(parts) <= _MAX_PARTS and all(p >= 0 for p in parts):
            return ".".join(map(str, parts))
    return None


def _ubjson_int_array(raw: bytes, at: int) -> list[int] | None:
    """Decode the small UBJSON integer array starting at ``at`` (``[`` ...), or None if it is not one."""
    if raw[at : at + 1] != b"[":
        return None
    at += 1
    typed: str | None = None
    if raw[at : at + 1] == b"$":  # optimized array: one element type for all
        typed = _UBJSON_INTS.get(raw[at + 1 : at + 2])
        if typed is None:
            return None
        at += 2
    count: int | None = None
    if raw[at : at + 1] == b"#":
        decoded = _ubjson_int(raw, at + 1)
        if decoded is None:
            return None
        count, at = decoded
        if count > _MAX_PARTS:
            return None
    parts: list[int] = []
    while count is None or len(parts) < count:
        if count is None and raw[at : at + 1] == b"]":
            return parts
        if typed is not None:
            size = struct.calcsize(typed)
            if at + size > len(raw):
                return None
            parts.append(struct.unpack_from(typed, raw, at)[0])
            at += size
        else:
            decoded = _ubjson_int(raw, at)
            if decoded is None:
                return None
            value, at = decoded
            parts.append(value)
        if len(parts) > _MAX_PARTS:
            return None
    return parts


def _ubjson_int(raw: bytes, at: int) -> tuple[int, int] | None:
    """Decode one marked UBJSON integer at ``at``: ``(value, position after it)``, or None."""
    fmt = _UBJSON_INTS.get(raw[at : at + 1])
    if fmt is None:
        return None
    size = struct.calcsize(fmt)
    if at + 1 + size > len(raw):
        return None
    return struct.unpack_from(fmt, raw, at + 1)[0], at + 1 + size
