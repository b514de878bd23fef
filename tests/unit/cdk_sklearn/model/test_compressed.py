"""joblib's compressed files: the compressor told from its magic bytes, and the stream read back."""

from __future__ import annotations

import joblib
import pytest

from cdk_sklearn.model.compressed import compression_of, open_stream

PAYLOAD = {"rows": list(range(1000))}


@pytest.mark.parametrize("compress", ["zlib", "gzip", "bz2", "xz", "lzma"])
def test_each_joblib_compressor_is_told_from_its_first_bytes(tmp_path, compress):
    path = tmp_path / "data.bin"  # a name that says nothing: only the content decides
    joblib.dump(PAYLOAD, path, compress=(compress, 3))
    assert compression_of(path.read_bytes()[:8]) == compress


def test_an_uncompressed_pickle_has_no_compressor(tmp_path):
    path = tmp_path / "data.pkl"
    joblib.dump(PAYLOAD, path)
    assert compression_of(path.read_bytes()[:8]) is None


@pytest.mark.parametrize("compress", ["zlib", "gzip", "bz2", "xz"])
def test_the_stream_is_the_pickle_joblib_compressed(tmp_path, compress):
    plain, packed = tmp_path / "plain.pkl", tmp_path / "packed.pkl"
    joblib.dump(PAYLOAD, plain)
    joblib.dump(PAYLOAD, packed, compress=(compress, 3))
    with open_stream(packed, compress) as stream:
        assert stream.read() == plain.read_bytes()
