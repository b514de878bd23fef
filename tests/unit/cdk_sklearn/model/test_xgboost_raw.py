"""The writer's version read from a raw XGBoost model (UBJSON or JSON), without parsing the model."""

from __future__ import annotations

import struct

from cdk_sklearn.model.xgboost_raw import booster_version


def _key(name: bytes) -> bytes:
    return b"L" + struct.pack(">q", len(name)) + name


def test_ubjson_counted_array_as_xgboost_writes_it():
    raw = (
        b"{"
        + _key(b"learner")
        + b"{}"
        + _key(b"version")
        + b"[#L"
        + struct.pack(">q", 3)
        + b"i\x03i\x02i\x00}"
    )
    assert booster_version(raw) == "3.2.0"


def test_ubjson_typed_array():
    raw = b"{" + _key(b"version") + b"[$i#i\x03\x02\x01\x04}"
    assert booster_version(raw) == "2.1.4"


def test_ubjson_plain_array_with_small_length_marker():
    raw = b"{i\x07version[U\x01U\x07U\x06]}"
    assert booster_version(raw) == "1.7.6"


def test_json_model():
    assert booster_version(b'{"learner": {}, "version": [2, 0, 3]}') == "2.0.3"


def test_old_binary_model_has_no_version():
    assert booster_version(b"binf\x00\x00\x00\x00" + b"\x00" * 64) is None


def test_version_key_with_a_non_array_value_is_ignored():
    assert booster_version(b"{" + _key(b"version") + b"SU\x05three}") is None
