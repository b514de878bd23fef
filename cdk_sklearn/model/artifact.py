"""Static inspection of a model file: hash, format, training versions and the modules it needs.

Runs at every synth, so it must be fast and must never load the model: a pickle executes code when
loaded. joblib and pickle files are read with :mod:`cdk_sklearn.model.pickle_scan` (a symbolic pickle
machine) through :mod:`cdk_sklearn.model.compressed` (joblib's compressors), skops files by reading
their JSON schema, ONNX graphs by walking the top-level fields of their protobuf and reading the
verification report ``cdk-sklearn convert`` wrote next to them.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import re
import sys
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from cdk_sklearn.model.compressed import READ_CHUNK, compression_of, open_stream
from cdk_sklearn.model.pickle_scan import PickleScanError, ScanResult, scan_pickle
from lambda_runtime import contract

ModelFormat = Literal["joblib", "pickle", "skops", "onnx"]

_EXPECTED = (
    "expected a scikit-learn model written by joblib.dump (optionally compressed), pickle.dump or "
    "skops.io.dump, or an .onnx graph written by cdk-sklearn convert"
)
_ZIP_MAGIC = b"PK\x03\x04"
_VERSION = re.compile(r"^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?(\+[a-zA-Z0-9.]+)?$")

# Top-level modules a model may reference -> the PyPI distribution that provides them.
MODULE_DISTRIBUTIONS: dict[str, str] = {
    "sklearn": "scikit-learn",
    "numpy": "numpy",
    "onnxruntime": "onnxruntime",
    "scipy": "scipy",
    "joblib": "joblib",
    "threadpoolctl": "threadpoolctl",
    "pandas": "pandas",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "catboost": "catboost",
    "imblearn": "imbalanced-learn",
    "category_encoders": "category-encoders",
    "statsmodels": "statsmodels",
    "feature_engine": "feature-engine",
    "sklearn_pandas": "sklearn-pandas",
    "umap": "umap-learn",
    "hdbscan": "hdbscan",
    "pyarrow": "pyarrow",
    "polars": "polars",
    "skops": "skops",
    "narwhals": "narwhals",
    "cloudpickle": "cloudpickle",
    "dateutil": "python-dateutil",
    "pytz": "pytz",
}
# scikit-learn depends on these; naming them again would only loosen nothing and add noise.
_SKLEARN_DEPENDENCIES = frozenset({"numpy", "scipy", "joblib", "threadpoolctl", "narwhals"})
# Distributions with a CPU-only build of the same module: the default wheel of xgboost (Linux) pulls
# nvidia-nccl (hundreds of MB) that only GPU training loads; Lambda has no GPU.
CPU_DISTRIBUTIONS: dict[str, str] = {"xgboost": "xgboost-cpu"}


@dataclass(frozen=True)
class ModelArtifact:
    """What synth needs to know about a model file, read without loading it.

    Attributes
    ----------
    path
        Absolute path of the file.
    sha256
        Hex SHA-256 of the file's bytes (the runtime verifies the download against it).
    size_bytes
        File size.
    format
        ``"joblib"`` (joblib.dump, possibly compressed), ``"pickle"`` (pickle.dump), ``"skops"`` or
        ``"onnx"`` (a graph written by ``cdk-sklearn convert``, with its report next to it).
    sklearn_version
        The scikit-learn version the model was saved with (``_sklearn_version`` in each estimator's
        state, or the skops schema), or ``None`` when the file holds no scikit-learn estimator.
    modules
        Top-level modules the file references (``sklearn``, ``numpy``, ``builtins``, ...).
    requirements
        pip requirement strings the model needs at load time, scikit-learn pinned to the training
        version first, e.g. ``("scikit-learn==1.9.1", "pandas")``.
    compression
        The joblib compressor (``"zlib"``, ``"gzip"``, ``"bz2"``, ``"xz"``, ``"lzma"``, ``"lz4"``) or
        ``None``.
    named_columns
        True when an estimator was fitted on named columns (``feature_names_in_``): the runtime then
        builds a pandas DataFrame for it, so the layer gets pandas.
    xgboost_version
        The XGBoost version that wrote the model's boosters, when the file records it.
    referenced
        Every dotted module the file references (``sklearn.pipeline``, ``__main__``...), for the
        closure check.
    advisories
        Sentences for the user about requirements that could not be decided exactly (callers warn).
    """

    path: Path
    sha256: str
    size_bytes: int
    format: ModelFormat
    sklearn_version: str | None
    modules: frozenset[str]
    requirements: tuple[str, ...]
    compression: str | None = None
    named_columns: bool = False
    xgboost_version: str | None = None
    referenced: frozenset[str] = frozenset()
    advisories: tuple[str, ...] = ()
    onnx_report: Path | None = None
    """For ``"onnx"``: the verification report next to the graph (``<file>.report.json``)."""
    data_bytes: int = 0
    """Bytes of array data the loaded model holds, read statically (joblib's arrays and the pickle's
    bytes literals; a skops file's uncompressed members; a graph's own size); 0 when unknown."""
    object_bytes: int = 0
    """What its Python objects (strings, dict entries, instances) cost beyond the arrays, read statically."""
    objects: int = 0
    """How many Python objects loading it makes."""

    def runtime_environment(self) -> dict[str, str]:
        """The function environment describing this model: ``MODEL_SHA256``, ``MODEL_FORMAT`` and,
        when known, ``MODEL_SKLEARN_VERSION`` (the construct and ``cdk-sklearn serve`` both use it)."""
        env = {contract.ENV_MODEL_SHA256: self.sha256, contract.ENV_MODEL_FORMAT: self.format}
        if self.sklearn_version:
            env[contract.ENV_MODEL_SKLEARN_VERSION] = self.sklearn_version
        return env

    @property
    def unknown_modules(self) -> frozenset[str]:
        """Referenced modules that are neither standard library nor a known PyPI distribution.

        The model cannot load unless these ship with it (``__main__`` never can): callers warn.
        """
        return frozenset(
            m for m in self.modules if m not in sys.stdlib_module_names and m not in MODULE_DISTRIBUTIONS
        )


def inspect_model(path: str | os.PathLike[str]) -> ModelArtifact:
    """Read a model file's hash, format, training versions and needed packages without loading it.

    Parameters
    ----------
    path
        A ``.joblib``, ``.pkl``/``.pickle``, ``.skops`` or ``.onnx`` file. The format is detected from
        the content (compression and zip magic bytes, the ONNX protobuf's fields), not from the name.
        An ``.onnx`` graph must have the report ``cdk-sklearn convert`` wrote next to it, and the
        report must name the graph's SHA-256: only a verified graph is served.

    Returns
    -------
    ModelArtifact

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist or is not a file.
    ValueError
        If the file is empty, truncated, corrupt or not a model; the message names the path and what
        was expected.
    """
    file = Path(path).expanduser().resolve()
    size = _checked_size(file)
    digest = _sha256(file)
    with file.open("rb") as raw:
        head = raw.read(8)
    if _looks_like_onnx(file, head):
        return _inspect_onnx(file, digest, size)
    if head.startswith(_ZIP_MAGIC):
        return _skops_artifact(file, digest, size)
    return _pickle_artifact(file, digest, size, compression_of(head))


def _checked_size(file: Path) -> int:
    """The size of ``file``, which must exist and hold something."""
    if not file.is_file():
        raise FileNotFoundError(f"model file {file} does not exist or is not a file; {_EXPECTED}")
    size = file.stat().st_size
    if size == 0:
        raise ValueError(f"model file {file} is empty; {_EXPECTED}")
    return size


def _skops_artifact(file: Path, digest: str, size: int) -> ModelArtifact:
    """A .skops zip: what it needs is read from its schema, not from a pickle stream."""
    version, modules, skops_version, named, referenced = _inspect_skops(file)
    needs = _Needs(version, modules, named_columns=named, loads_with_joblib=False)
    requirements = _requirements(needs, extra=(f"skops=={skops_version}",))
    return ModelArtifact(
        file,
        digest,
        size,
        "skops",
        version,
        modules,
        requirements,
        named_columns=named,
        referenced=referenced,
        data_bytes=_skops_data_bytes(file),
    )


def _skops_data_bytes(file: Path) -> int:
    # skops stores each array as a .npy member of the zip; their uncompressed sizes are the data.
    with zipfile.ZipFile(file) as archive:
        return sum(info.file_size for info in archive.infolist() if info.filename != "schema.json")


def _scan(file: Path, compression: str | None) -> ScanResult:
    """The symbolic scan of a joblib or pickle file's stream; refuses what cannot be a model."""
    if compression == "zf":
        raise ValueError(
            f"model file {file} was written by joblib older than 0.10 (zlib 'ZF' format), which is not "
            "supported; load it with that joblib and save it again with a current joblib.dump"
        )
    try:
        with open_stream(file, compression) as stream:
            scan = scan_pickle(stream)
    except (PickleScanError, EOFError, OSError, lzma.LZMAError, zlib.error) as exc:
        what = f"{compression}-compressed joblib file" if compression else "pickle stream"
        raise ValueError(f"model file {file} is not a readable {what} ({exc}); {_EXPECTED}") from exc
    if not scan.globals:
        raise ValueError(
            f"model file {file} is a pickle that references no class or function, so it holds plain data, "
            f"not a model; {_EXPECTED}"
        )
    return scan


def _pickle_artifact(file: Path, digest: str, size: int, compression: str | None) -> ModelArtifact:
    """A joblib or plain pickle file, from the symbolic scan of its stream (never unpickled)."""
    scan = _scan(file, compression)
    modules = scan.modules
    version = _training_version(file, scan.sklearn_versions.most_common())
    is_joblib = compression is not None or scan.joblib_arrays > 0 or "joblib" in modules
    model_format: ModelFormat = "joblib" if is_joblib or file.suffix in (".joblib", ".jbl") else "pickle"
    numpy_floor = ("numpy>=2",) if any(g.module.startswith("numpy._core") for g in scan.globals) else ()
    xgboost_version = _training_version(file, scan.xgboost_versions.most_common(), "XGBoost")
    needs = _Needs(
        version,
        modules,
        named_columns=scan.named_columns > 0,
        # The runtime loads both joblib and pickle files with joblib.load.
        loads_with_joblib=True,
        xgboost_version=xgboost_version,
    )
    return ModelArtifact(
        file,
        digest,
        size,
        model_format,
        version,
        modules,
        _requirements(needs, extra=numpy_floor),
        compression,
        named_columns=scan.named_columns > 0,
        xgboost_version=xgboost_version,
        referenced=frozenset(g.module for g in scan.globals),
        advisories=_xgboost_advisories(file, modules, xgboost_version),
        data_bytes=scan.data_bytes,
        object_bytes=scan.object_bytes,
        objects=scan.objects,
    )


def _xgboost_advisories(file: Path, modules: frozenset[str], xgboost_version: str | None) -> tuple[str, ...]:
    if "xgboost" in modules and xgboost_version is None:
        return (
            f"model {file.name} does not record the XGBoost version that wrote it (a pre-1.6 binary "
            "booster?), so the layer gets the newest xgboost-cpu; pin the training version with "
            "extra_requirements=['xgboost-cpu==X.Y.Z'] if predictions must match exactly",
        )
    return ()


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _training_version(file: Path, counts: list[tuple[str, int]], library: str = "scikit-learn") -> str | None:
    if not counts:
        return None
    version = counts[0][0]
    if not _VERSION.match(version):
        raise ValueError(
            f"model file {file} says it was saved with {library} {version!r}, which is not a release "
            f"version pip can install; save the model with a released {library}"
        )
    return version


@dataclass(frozen=True)
class _Needs:
    """What decides the requirements: what the file references and how the runtime loads it."""

    sklearn_version: str | None
    modules: frozenset[str]
    named_columns: bool
    loads_with_joblib: bool
    xgboost_version: str | None = None


def _requirements(needs: _Needs, extra: tuple[str, ...]) -> tuple[str, ...]:
    version = needs.sklearn_version
    pinned: list[str] = []
    if version is not None:
        pinned.append(f"scikit-learn=={version}")
    elif needs.loads_with_joblib or "sklearn" in needs.modules:
        # joblib.load needs joblib, and the runtime's estimator checks import scikit-learn, even
        # for a model (XGBoost's sklearn API) whose states record no _sklearn_version.
        pinned += ["scikit-learn", "joblib"]
    modules = set(needs.modules)
    if needs.named_columns:
        modules.add("pandas")
    for module in sorted(modules):
        distribution = MODULE_DISTRIBUTIONS.get(module)
        if distribution is None or module == "sklearn":
            continue
        if module in _SKLEARN_DEPENDENCIES and any(r.startswith("scikit-learn") for r in pinned):
            continue
        if module in CPU_DISTRIBUTIONS:
            distribution = CPU_DISTRIBUTIONS[module]
            if module == "xgboost" and needs.xgboost_version:
                distribution += f"=={needs.xgboost_version}"
        pinned.append(distribution)
    for requirement in extra:
        name = re.split(r"[<>=!~ ]", requirement, maxsplit=1)[0]
        pinned = [r for r in pinned if r != name]
        pinned.append(requirement)
    return tuple(pinned)


def _inspect_skops(file: Path) -> tuple[str | None, frozenset[str], str, bool, frozenset[str]]:
    try:
        with zipfile.ZipFile(file) as archive:
            schema = json.loads(archive.read("schema.json"))
    except KeyError as exc:
        raise ValueError(
            f"model file {file} is a zip without schema.json, so not a skops file; {_EXPECTED}"
        ) from exc
    except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"model file {file} is not a readable skops file ({exc}); {_EXPECTED}") from exc
    if not isinstance(schema, dict) or "__module__" not in schema:
        raise ValueError(f"model file {file} has a schema.json that is not a skops schema; {_EXPECTED}")
    skops_version = schema.get("_skops_version")
    if not isinstance(skops_version, str) or not _VERSION.match(skops_version):
        raise ValueError(
            f"model file {file} has no readable _skops_version in schema.json (got {skops_version!r}); "
            f"{_EXPECTED}"
        )
    modules: set[str] = set()
    referenced: set[str] = set()
    versions: dict[str, int] = {}
    named = False
    for node in _walk(schema):
        module = node.get("__module__")
        if isinstance(module, str):
            modules.add(module.split(".", 1)[0])
            referenced.add(module)
        content = node.get("content")
        # skops keeps an estimator's __dict__ under "content": the same key as in a pickle's state.
        named = named or (isinstance(content, dict) and "feature_names_in_" in content)
        version_node = content.get("_sklearn_version") if isinstance(content, dict) else None
        if isinstance(version_node, dict):
            value = version_node.get("content")
            if version_node.get("is_json") and isinstance(value, str):
                value = json.loads(value)
            if isinstance(value, str):
                versions[value] = versions.get(value, 0) + 1
    ranked = sorted(versions.items(), key=lambda item: -item[1])
    return _training_version(file, ranked), frozenset(modules), skops_version, named, frozenset(referenced)


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            yield current
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


# -- ONNX ------------------------------------------------------------------------------------------

# ModelProto field numbers (onnx/onnx.proto3): a serializer writes them in ascending order, so a graph
# starts with ir_version (field 1, varint: tag byte 0x08). No pickle opcode, joblib compressor or zip
# starts with 0x08, so that byte alone rules out every other format; the field walk confirms it.
_ONNX_FIRST_TAG = 0x08
_ONNX_IR_VERSION = 1
_ONNX_PRODUCER_NAME = 2
_ONNX_GRAPH = 7
_ONNX_OPSET_IMPORT = 8
_ONNX_MAX_IR_VERSION = 64  # ir_version 13 in 2026; far beyond it is not an ONNX file
_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5


def _read_varint(stream: IO[bytes]) -> int | None:
    value, shift = 0, 0
    while shift < 64:
        byte = stream.read(1)
        if not byte:
            return None
        value |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return value
        shift += 7
    return None


def _onnx_fields(file: Path, size: int) -> dict[int, list[int | bytes]] | None:
    """The top-level fields of a ModelProto (small ones read, the graph only skipped), or ``None``."""
    fields: dict[int, list[int | bytes]] = {}
    with file.open("rb") as stream:
        while stream.tell() < size:
            key = _read_varint(stream)
            if key is None or key >> 3 == 0:
                return None
            number, wire = key >> 3, key & 7
            if wire == _VARINT:
                value = _read_varint(stream)
                if value is None:
                    return None
                fields.setdefault(number, []).append(value)
            elif wire == _LENGTH_DELIMITED:
                length = _read_varint(stream)
                if length is None or stream.tell() + length > size:
                    return None
                if number == _ONNX_GRAPH:
                    stream.seek(length, os.SEEK_CUR)
                    fields.setdefault(number, []).append(length)
                else:
                    fields.setdefault(number, []).append(stream.read(length))
            elif wire in (_FIXED64, _FIXED32):
                stream.seek(8 if wire == _FIXED64 else 4, os.SEEK_CUR)
            else:
                return None
    return fields


def _looks_like_onnx(file: Path, head: bytes) -> bool:
    if not head or head[0] != _ONNX_FIRST_TAG:
        return False
    fields = _onnx_fields(file, file.stat().st_size)
    if fields is None:
        return False
    ir_version = fields.get(_ONNX_IR_VERSION, [None])[0]
    return (
        isinstance(ir_version, int)
        and 1 <= ir_version <= _ONNX_MAX_IR_VERSION
        and len(fields.get(_ONNX_GRAPH, ())) == 1
        and bool(fields.get(_ONNX_OPSET_IMPORT))
    )


def is_onnx_file(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` holds an ONNX ``ModelProto`` (read from its bytes, whatever its name)."""
    file = Path(path)
    if not file.is_file():
        return False
    with file.open("rb") as handle:
        head = handle.read(1)
    return _looks_like_onnx(file, head)


def onnx_report_path(file: Path) -> Path:
    """Where ``cdk-sklearn convert`` writes the report of ``file``: ``<file>.report.json``."""
    return file.with_name(file.name + ".report.json")


def _inspect_onnx(file: Path, digest: str, size: int) -> ModelArtifact:
    report_file = onnx_report_path(file)
    how = f"write both with `cdk-sklearn convert --model <model> --sample <rows> --output {file.name}`"
    if not report_file.is_file():
        raise ValueError(f"ONNX model {file} has no verification report {report_file.name} next to it; {how}")
    try:
        report = json.loads(report_file.read_text())
        onnx_sha256 = report["onnx"]["sha256"]
        versions = report["versions"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"ONNX report {report_file} is not a cdk-sklearn convert report ({exc}); {how}"
        ) from exc
    if onnx_sha256 != digest:
        raise ValueError(
            f"ONNX model {file} is not the graph its report {report_file.name} verified "
            f"(sha256 {digest[:12]}… "
            f"vs {str(onnx_sha256)[:12]}…); {how}"
        )
    runtime = versions.get("onnxruntime") if isinstance(versions, dict) else None
    onnxruntime = (
        f"onnxruntime=={runtime}" if isinstance(runtime, str) and _VERSION.match(runtime) else "onnxruntime"
    )
    # The graph needs no scikit-learn at run time: onnxruntime (pinned to the version that verified it)
    # and numpy for the arrays fed to it.
    return ModelArtifact(
        file,
        digest,
        size,
        "onnx",
        None,
        frozenset({"numpy", "onnxruntime"}),
        ("numpy", onnxruntime),
        onnx_report=report_file,
        data_bytes=size,  # the graph's initializers are its weights
    )
