"""Run ``cdk-sklearn serve`` in a child process for as long as a ``with`` block lasts.

For end-to-end checks of a model behind the real handler: ``make demo``, the load benchmark and
the tests all use it. The server is ready once it prints its address (the model is loaded by
then); the block's exit stops it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

_ADDRESS = re.compile(r" at (http://127\.0\.0\.1:\d+)")


@dataclass
class ServerProcess:
    """A running ``cdk-sklearn serve``.

    Attributes
    ----------
    url
        Base URL, e.g. ``http://127.0.0.1:8080``.
    command
        The command line that started it.
    output
        Every line it has written to stderr so far (its banner and access log).
    """

    url: str
    command: list[str]
    output: list[str] = field(default_factory=list)


@contextmanager
def serve_process(
    model: Path,
    *,
    port: int = 0,
    quiet: bool = True,
    cwd: Path | None = None,
    timeout: float = 60.0,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[ServerProcess]:
    """Start ``python -m cdk_sklearn.cli serve --model MODEL`` on loopback and yield it once ready.

    Parameters
    ----------
    model
        The model file to serve.
    port
        The port; 0 lets the system choose a free one.
    quiet
        Leave out the access-log line per request.
    cwd
        Working directory of the child (the checkout whose code should be served).
    timeout
        Seconds to wait for the server to be ready.
    extra_args, env
        More arguments for ``cdk-sklearn serve``; variables set on top of this process's environment.

    Raises
    ------
    RuntimeError
        The server exited or did not become ready in time; the message has its output.
    """
    command = [sys.executable, "-m", "cdk_sklearn.cli", "serve", "--model", str(model), "--port", str(port)]
    command += [*(["--quiet"] if quiet else []), *extra_args]
    child = subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stderr is not None
    stderr = child.stderr
    lines: list[str] = []
    ready = threading.Event()
    found: list[str] = []

    def drain() -> None:
        # Keep reading so a chatty server never blocks on a full pipe.
        for line in stderr:
            lines.append(line.rstrip("\n"))
            match = _ADDRESS.search(line)
            if match and not found:
                found.append(match.group(1))
                ready.set()
        ready.set()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + timeout
        while not found:
            ready.wait(timeout=max(0.0, deadline - time.monotonic()))
            if found:
                break
            exited = child.poll() is not None
            if exited or time.monotonic() >= deadline:
                why = (
                    f"exited with code {child.returncode}"
                    if exited
                    else f"was not ready after {timeout:.0f} s"
                )
                raise RuntimeError(f"cdk-sklearn serve {why}:\n" + "\n".join(lines))
        yield ServerProcess(url=found[0], command=command, output=lines)
    finally:
        _stop(child)
        reader.join(timeout=5)


def _stop(child: subprocess.Popen[str]) -> None:
    child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
