"""What a graph costs onnxruntime at run time, measured once when it is converted.

Two fresh child processes, so the converter's own memory (scikit-learn, skl2onnx, the model) does not
count: one imports onnxruntime and creates the session from the bytes, runs one row, then times two more
session creations; the other only imports onnxruntime. The report records

- ``session_create_ms``: creating the ``InferenceSession`` from the bytes, the median of 3;
- ``session_peak_rss_mb``: the first child's peak RSS minus the second's (MiB).

Measured at conversion and written to the report, never at synth: a committed report is reused as it
is, so synthesis stays reproducible. A measurement that fails records nothing; it never refuses a graph.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Final

_TIMEOUT_SECONDS: Final = 120
_PEAK: Final = """
import resource


def peak_kb():
    # VmHWM: this process's own high-water mark. ru_maxrss keeps the parent's across fork + exec on
    # Linux, so a child started from a large converter process would report the converter's peak.
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""
_BASELINE: Final = (
    _PEAK
    + """
import json
import onnxruntime
print(json.dumps({"peak_kb": peak_kb()}))
"""
)
_SESSION: Final = (
    _PEAK
    + """
import json, statistics, sys, time
import numpy as np
import onnxruntime as ort

data = open(sys.argv[1], "rb").read()


def create():
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    start = time.perf_counter()
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    return session, (time.perf_counter() - start) * 1000.0


session, first = create()
feed = {}
for item in session.get_inputs():
    width = item.shape[1] if len(item.shape) > 1 and isinstance(item.shape[1], int) else 1
    if item.type == "tensor(string)":
        feed[item.name] = np.full((1, width), "", dtype=object)
    else:
        feed[item.name] = np.zeros((1, width), dtype=np.float32 if "float)" in item.type else np.float64)
try:
    session.run(None, feed)
except Exception:
    pass  # a row of zeros the model refuses still measured the session's memory
peak = peak_kb()
del session
times = [first] + [create()[1] for _ in range(2)]
print(json.dumps({"peak_kb": peak, "create_ms": statistics.median(times)}))
"""
)


def _child(script: str, *args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_SECONDS,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    found: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def measure_runtime_cost(onnx_bytes: bytes) -> dict[str, float] | None:
    """``{"session_create_ms": ..., "session_peak_rss_mb": ...}`` for ``onnx_bytes``, or ``None``.

    ``None`` when a child process fails or times out (the graph is still verified; its cost is unknown).
    """
    with tempfile.TemporaryDirectory() as folder:
        graph = Path(folder) / "graph.onnx"
        graph.write_bytes(onnx_bytes)
        try:
            measured = _child(_SESSION, str(graph))
            baseline = _child(_BASELINE)
        except (OSError, ValueError, subprocess.SubprocessError):
            return None
    # KiB on Linux (VmHWM, ru_maxrss); ru_maxrss is in bytes on macOS.
    per_mb = 1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0
    increase = max(0.0, float(measured["peak_kb"] - baseline["peak_kb"])) / per_mb
    return {
        "session_create_ms": round(float(measured["create_ms"]), 3),
        "session_peak_rss_mb": round(increase, 2),
    }
