"""Read what a pickle stream references without unpickling it.

A scikit-learn model file is a pickle: loading it runs arbitrary code, so at synth time we must never
``pickle.load`` it. Instead this module runs the pickle machine *symbolically*: it tokenizes the
stream with :func:`pickletools.genops` and keeps a stack of inert placeholders, so it can see which
``module.name`` globals are referenced and what state dictionaries are passed to ``BUILD`` (where
scikit-learn stores ``_sklearn_version``), while no object is ever constructed and no global is ever
imported.

joblib writes numpy arrays *between* pickle opcodes: after the ``BUILD`` of each
``joblib.numpy_pickle.NumpyArrayWrapper`` come the raw array bytes (or, for object arrays, a whole
nested pickle). The scanner recognises that wrapper's state and skips the bytes, as ``joblib.load``
would read them.
"""

from __future__ import annotations

import pickletools
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from cdk_sklearn.model.xgboost_raw import booster_version

_SKIP_CHUNK = 1 << 20
# joblib >= 0.10 marks each array it writes out of band with this class.
_JOBLIB_WRAPPER = ("joblib.numpy_pickle", "NumpyArrayWrapper")
_XGBOOST_BOOSTER = ("xgboost.core", "Booster")
_DTYPE_SIZE = re.compile(r"^[<>|=]?([a-zA-Z])(\d*)")
# CPython's sizes, rounded up (64-bit): what an opcode makes once loaded, beyond array data. Counted per
# item for the opcodes that add many (SETITEMS, APPENDS, ADDITEMS).
_OBJECT_BYTES: dict[str, int] = {
    "SETITEM": 100,  # a dict entry, with the table's growth
    "SETITEMS": 100,
    "APPEND": 8,
    "APPENDS": 8,
    "ADDITEMS": 60,
    "PUT": 72,  # the unpickler's memo holds every stored object until the load ends
    "BINPUT": 72,
    "LONG_BINPUT": 72,
    "MEMOIZE": 72,
    "REDUCE": 100,
    "NEWOBJ": 100,
    "NEWOBJ_EX": 100,
    "OBJ": 100,
    "INST": 100,
    "EMPTY_DICT": 64,
    "EMPTY_LIST": 56,
    "EMPTY_SET": 216,
}
_PER_ITEM = frozenset({"SETITEMS", "APPENDS", "ADDITEMS"})


class PickleScanError(ValueError):
    """The bytes are not a pickle stream this scanner can follow (truncated, corrupt, not a pickle)."""


@dataclass(frozen=True)
class Global:
    """A ``module.name`` reference (``GLOBAL``/``STACK_GLOBAL``); never imported."""

    module: str
    name: str


@dataclass(eq=False)
class Instance:
    """An object the stream would create: the callable, its arguments, and the state given to ``BUILD``."""

    factory: Any
    args: Any
    state: Any = None


class _ReadOnly:
    """Expose only ``read`` and ``readline`` of a stream."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.read = stream.read
        self.readline = stream.readline


class _Mark:
    """The ``MARK`` sentinel on the symbolic stack."""


class _Opaque:
    """A value the scanner does not model (buffers, extension-registry objects, persistent ids)."""


_MARK = _Mark()
_OPAQUE = _Opaque()


@dataclass
class ScanResult:
    """What a stream references.

    Attributes
    ----------
    globals
        Every ``(module, name)`` pair referenced, in first-seen order.
    sklearn_versions
        How many estimators' states carried each ``_sklearn_version`` value.
    joblib_arrays
        How many joblib out-of-band numpy arrays were skipped.
    named_columns
        How many object states carry ``feature_names_in_``: scikit-learn sets it when an estimator is
        fitted on a DataFrame, and then the model is called with one (so the runtime needs pandas).
    xgboost_versions
        The XGBoost versions recorded in the raw models of pickled ``xgboost.core.Booster`` objects.
    data_bytes
        Bytes of array data the loaded model holds: joblib's out-of-band arrays plus every bytes and
        bytearray literal in the stream (numpy pickles an array in-band as one; a bytearray counts twice,
        as the unpickler reads it as bytes and copies it). What the memory estimate starts from.
    object_bytes
        What the loaded model's Python objects cost beyond their arrays (strings, numbers, dict and list
        entries, instances, and the unpickler's memo while it loads): a vocabulary of 600,000 words is
        a small file and a large heap.
    objects
        How many Python objects the stream makes (their unpickling time, not their bytes, dominates).
    """

    globals: dict[Global, None] = field(default_factory=dict)
    sklearn_versions: Counter[str] = field(default_factory=Counter)
    joblib_arrays: int = 0
    named_columns: int = 0
    xgboost_versions: Counter[str] = field(default_factory=Counter)
    data_bytes: int = 0
    object_bytes: int = 0
    objects: int = 0

    @property
    def modules(self) -> frozenset[str]:
        """Top-level module names referenced (``sklearn`` for ``sklearn.linear_model._logistic``)."""
        return frozenset(g.module.split(".", 1)[0] for g in self.globals)


def scan_pickle(stream: IO[bytes]) -> ScanResult:
    """Follow one pickle stream (plus joblib's inline arrays) up to its ``STOP`` opcode.

    Parameters
    ----------
    stream
        A binary file object positioned at the first opcode; only ``read`` is needed.

    Returns
    -------
    ScanResult
        The globals referenced and the scikit-learn versions found in estimator states.

    Raises
    ------
    PickleScanError
        If the stream is truncated, has an unknown opcode, or is inconsistent (stack underflow, a
        memo key used before it was stored).
    """
    result = ScanResult()
    _Machine(stream, result).run()
    return result


class _Machine:
    """A pickle virtual machine over placeholders; see the module docstring."""

    def __init__(self, stream: IO[bytes], result: ScanResult) -> None:
        self.stream = stream
        self.result = result
        self.stack: list[Any] = []
        self.marks: list[int] = []
        self.memo: dict[int, Any] = {}
        self.handlers: dict[str, Callable[[Any], object]] = {
            "MARK": lambda _: self._mark(),
            "POP": lambda _: self._pop_or_mark(),
            "POP_MARK": lambda _: self._pop_mark(),
            "DUP": lambda _: self.stack.append(self._top()),
            "EMPTY_LIST": lambda _: self.stack.append([]),
            "EMPTY_TUPLE": lambda _: self.stack.append(()),
            "EMPTY_DICT": lambda _: self.stack.append({}),
            "EMPTY_SET": lambda _: self.stack.append(set()),
            "NONE": lambda _: self.stack.append(None),
            "NEWTRUE": lambda _: self.stack.append(True),
            "NEWFALSE": lambda _: self.stack.append(False),
            "LIST": lambda _: self.stack.append(self._pop_mark()),
            "TUPLE": lambda _: self.stack.append(tuple(self._pop_mark())),
            "TUPLE1": lambda _: self._tuple(1),
            "TUPLE2": lambda _: self._tuple(2),
            "TUPLE3": lambda _: self._tuple(3),
            "FROZENSET": lambda _: self.stack.append(_OPAQUE),
            "DICT": lambda _: self.stack.append(self._pairs({}, self._pop_mark())),
            "APPEND": lambda _: self._append([self._pop()]),
            "APPENDS": lambda _: self._append(self._pop_mark()),
            "SETITEM": lambda _: self._setitems(2),
            "SETITEMS": lambda _: self._setitems(None),
            "ADDITEMS": lambda _: self._pop_mark(),
            "GET": self._get,
            "BINGET": self._get,
            "LONG_BINGET": self._get,
            "PUT": self._put,
            "BINPUT": self._put,
            "LONG_BINPUT": self._put,
            "MEMOIZE": lambda _: self._put(len(self.memo)),
            "GLOBAL": self._global,
            "STACK_GLOBAL": lambda _: self._stack_global(),
            "INST": self._inst,
            "OBJ": lambda _: self._obj(),
            "REDUCE": lambda _: self._new(2),
            "NEWOBJ": lambda _: self._new(2),
            "NEWOBJ_EX": lambda _: self._new(3),
            "BUILD": lambda _: self._build(),
            "EXT1": lambda _: self.stack.append(_OPAQUE),
            "EXT2": lambda _: self.stack.append(_OPAQUE),
            "EXT4": lambda _: self.stack.append(_OPAQUE),
            "PERSID": lambda _: self.stack.append(_OPAQUE),
            "BINPERSID": lambda _: self._replace_top(_OPAQUE),
            "NEXT_BUFFER": lambda _: self.stack.append(_OPAQUE),
            "READONLY_BUFFER": lambda _: None,
            "PROTO": lambda _: None,
            "FRAME": lambda _: None,
        }

    # -- driver ---------------------------------------------------------------------------------

    def run(self) -> None:
        while True:
            # genops stops after STOP; it is restarted after each joblib array because the array
            # bytes are not opcodes. The memo and stack live here, so restarting loses nothing.
            stopped, resume = self._run_until_array()
            if stopped:
                return
            self._skip_array(resume)

    def _run_until_array(self) -> tuple[bool, Instance | None]:
        for opcode, arg in self._ops():
            name = opcode.name
            if name == "STOP":
                self._pop()
                return True, None
            self._count(name, arg)
            handler = self.handlers.get(name)
            if handler is not None:
                handler(arg)
            else:
                # Every remaining opcode pushes one literal (int, float, str, bytes).
                self.stack.append(arg)
            if name == "BUILD":
                built = self._top()
                if isinstance(built, Instance) and built.factory == Global(*_JOBLIB_WRAPPER):
                    return False, built
        raise PickleScanError("the pickle stream ended without a STOP opcode (file truncated?)")

    def _count(self, name: str, arg: Any) -> None:
        """Add what ``name`` makes once loaded to the result's byte and object counts."""
        result = self.result
        if isinstance(arg, bytes | bytearray):
            result.data_bytes += len(arg) * (2 if name == "BYTEARRAY8" else 1)
        elif isinstance(arg, str) and name not in ("GLOBAL", "INST"):
            result.object_bytes += 49 + 2 * len(arg)  # the str, and what parses it (LightGBM's model)
            result.objects += 1
        elif isinstance(arg, int | float) and name not in _OBJECT_BYTES:
            result.object_bytes += 32
        cost = _OBJECT_BYTES.get(name)
        if cost is not None:
            items = len(self.stack) - self.marks[-1] if name in _PER_ITEM and self.marks else 1
            result.object_bytes += cost * (items // 2 if name == "SETITEMS" else items)
            result.objects += 1

    def _ops(self) -> Iterator[tuple[pickletools.OpcodeInfo, Any]]:
        try:
            # genops asks for tell() when the object has it; decompressing streams may not support it.
            reader: Any = _ReadOnly(self.stream)
            for opcode, arg, _pos in pickletools.genops(reader):
                yield opcode, arg
                if opcode.name == "STOP":
                    return
        except ValueError as exc:  # genops reports bad opcodes and short reads as ValueError
            raise PickleScanError(f"not a valid pickle stream: {exc}") from exc
        except (MemoryError, OverflowError):
            # genops reads a declared length at once: a corrupt one asks for more than exists.
            raise PickleScanError(
                "the stream declares a length larger than any file (corrupt pickle)"
            ) from None

    # -- joblib arrays ------------------------------------------------------------------------------

    def _skip_array(self, wrapper: Instance | None) -> None:
        assert wrapper is not None
        state = wrapper.state if isinstance(wrapper.state, dict) else {}
        shape = state.get("shape")
        dtype = state.get("dtype")
        if not isinstance(shape, tuple) or not all(isinstance(n, int) for n in shape):
            raise PickleScanError(f"a joblib array wrapper has an unreadable shape: {shape!r}")
        itemsize, has_object = _dtype_layout(dtype)
        self.result.joblib_arrays += 1
        if has_object:
            # joblib pickles object arrays as a complete nested pickle with its own memo.
            nested = scan_pickle(self.stream)
            self.result.globals.update(nested.globals)
            self.result.sklearn_versions.update(nested.sklearn_versions)
            self.result.joblib_arrays += nested.joblib_arrays
            self.result.named_columns += nested.named_columns
            self.result.xgboost_versions.update(nested.xgboost_versions)
            self.result.data_bytes += nested.data_bytes
            self.result.object_bytes += nested.object_bytes
            self.result.objects += nested.objects
            return
        if state.get("numpy_array_alignment_bytes") is not None:
            pad = self.stream.read(1)
            if len(pad) != 1:
                raise PickleScanError("the file ends inside a joblib array (file truncated?)")
            self._skip(pad[0])
        count = 1
        for n in shape:
            count *= n
        self.result.data_bytes += count * itemsize
        self._skip(count * itemsize)

    def _skip(self, size: int) -> None:
        while size > 0:
            chunk = self.stream.read(min(size, _SKIP_CHUNK))
            if not chunk:
                raise PickleScanError("the file ends inside a joblib array (file truncated?)")
            size -= len(chunk)

    # -- stack helpers ------------------------------------------------------------------------------

    def _pop(self) -> Any:
        if not self.stack or (self.marks and len(self.stack) == self.marks[-1]):
            raise PickleScanError("stack underflow: this is not a pickle written by pickle or joblib")
        return self.stack.pop()

    def _pop_or_mark(self) -> None:
        # POP on an empty frame discards the MARK itself, as pickle's own loader does.
        if self.marks and len(self.stack) == self.marks[-1]:
            self.marks.pop()
        else:
            self._pop()

    def _top(self) -> Any:
        if not self.stack:
            raise PickleScanError("stack underflow: this is not a pickle written by pickle or joblib")
        return self.stack[-1]

    def _replace_top(self, value: Any) -> None:
        self._pop()
        self.stack.append(value)

    def _mark(self) -> None:
        self.marks.append(len(self.stack))

    def _pop_mark(self) -> list[Any]:
        if not self.marks:
            raise PickleScanError("an opcode needs a MARK that was never set: not a valid pickle")
        start = self.marks.pop()
        items = self.stack[start:]
        del self.stack[start:]
        return items

    def _tuple(self, n: int) -> None:
        items = [self._pop() for _ in range(n)]
        self.stack.append(tuple(reversed(items)))

    def _append(self, items: list[Any]) -> None:
        target = self._top()
        if isinstance(target, list):
            target.extend(items)

    @staticmethod
    def _pairs(target: dict[Any, Any], items: list[Any]) -> dict[Any, Any]:
        for key, value in zip(items[::2], items[1::2], strict=False):
            try:
                target[key] = value
            except TypeError:  # an unhashable placeholder key: the scanner has no use for it
                continue
        return target

    def _setitems(self, count: int | None) -> None:
        if count is None:
            items = self._pop_mark()
        else:
            value = self._pop()
            key = self._pop()
            items = [key, value]
        target = self._top()
        if isinstance(target, dict):
            self._pairs(target, items)

    def _get(self, key: Any) -> None:
        try:
            self.stack.append(self.memo[int(key)])
        except (KeyError, ValueError) as exc:
            raise PickleScanError(
                f"memo key {key!r} is read before it is written: not a valid pickle"
            ) from exc

    def _put(self, key: Any) -> None:
        self.memo[int(key)] = self._top()

    # -- objects ------------------------------------------------------------------------------------

    def _reference(self, module: Any, name: Any) -> Global:
        if not isinstance(module, str) or not isinstance(name, str):
            raise PickleScanError(f"a global reference is not made of names: {module!r}, {name!r}")
        ref = Global(module, name)
        self.result.globals.setdefault(ref, None)
        return ref

    def _global(self, arg: Any) -> None:
        module, _, name = str(arg).partition(" ")
        self.stack.append(self._reference(module, name))

    def _stack_global(self) -> None:
        name = self._pop()
        module = self._pop()
        self.stack.append(self._reference(module, name))

    def _inst(self, arg: Any) -> None:
        module, _, name = str(arg).partition(" ")
        args = tuple(self._pop_mark())
        self.stack.append(Instance(self._reference(module, name), args))

    def _obj(self) -> None:
        items = self._pop_mark()
        if not items:
            raise PickleScanError("OBJ without a class: not a valid pickle")
        self.stack.append(Instance(items[0], tuple(items[1:])))

    def _new(self, arity: int) -> None:
        operands = [self._pop() for _ in range(arity)]
        operands.reverse()
        # REDUCE and NEWOBJ take (callable, args); NEWOBJ_EX adds kwargs, which the scanner ignores.
        self.stack.append(Instance(operands[0], operands[1]))

    def _build(self) -> None:
        state = self._pop()
        target = self._top()
        if isinstance(target, Instance):
            target.state = state
        # scikit-learn's BaseEstimator.__getstate__ adds the version it was pickled with.
        version = state.get("_sklearn_version") if isinstance(state, dict) else None
        if isinstance(version, str):
            self.result.sklearn_versions[version] += 1
        if isinstance(state, dict) and "feature_names_in_" in state:
            self.result.named_columns += 1
        if isinstance(target, Instance) and target.factory == Global(*_XGBOOST_BOOSTER):
            # Booster.__getstate__ keeps the model as {"handle": bytearray(raw model)}; the raw
            # model (UBJSON or JSON) records the XGBoost version that wrote it.
            raw = _bytearray_payload(state.get("handle") if isinstance(state, dict) else None)
            written_by = booster_version(raw) if raw is not None else None
            if written_by is not None:
                self.result.xgboost_versions[written_by] += 1


def _bytearray_payload(value: Any) -> bytes | None:
    """The bytes of a pickled ``bytearray(b"...")`` (a REDUCE of ``builtins.bytearray``), else None."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if (
        isinstance(value, Instance)
        and value.factory == Global("builtins", "bytearray")
        and isinstance(value.args, tuple)
        and value.args
        and isinstance(value.args[0], bytes)
    ):
        return value.args[0]
    return None


def _dtype_layout(dtype: Any) -> tuple[int, bool]:
    """Return ``(itemsize, has_object)`` of a numpy dtype as pickled by ``numpy.dtype.__reduce__``.

    The dtype arrives as ``Instance(numpy.dtype, ("f8", False, True), state)`` where ``state`` is
    ``(version, byteorder, subarray, names, fields, elsize, alignment, flags)``; ``elsize`` is -1 for
    fixed-size kinds (the size is then in the type string).
    """
    if not isinstance(dtype, Instance) or not dtype.args or not isinstance(dtype.args[0], str):
        raise PickleScanError(f"a joblib array wrapper has an unreadable dtype: {dtype!r}")
    typestr = dtype.args[0]
    state = dtype.state if isinstance(dtype.state, tuple) else ()
    match = _DTYPE_SIZE.match(typestr)
    if match is None:
        raise PickleScanError(f"a joblib array wrapper has an unknown dtype {typestr!r}")
    kind, digits = match.groups()
    flags = state[7] if len(state) > 7 and isinstance(state[7], int) else 0
    # NPY_ITEM_REFCOUNT (bit 0) is set for object dtypes and records holding objects.
    has_object = kind == "O" or bool(flags & 1)
    elsize = state[5] if len(state) > 5 and isinstance(state[5], int) else -1
    if elsize > 0:
        return elsize, has_object
    if digits:
        return int(digits), has_object
    if kind == "?":
        return 1, has_object
    raise PickleScanError(f"a joblib array wrapper has a dtype of unknown size {typestr!r}")
