"""The local store's writes when several processes write the same key at once (``cdk-sklearn batch
--workers``, or two runs into one folder): every file read is one writer's whole output."""

from __future__ import annotations

import io
import multiprocessing
from pathlib import Path
from typing import Any

from lambda_runtime.batch.storage import LocalStore

ROUNDS = 20
SIZE = 2 << 20


def _write_many(root: str, fill: bytes, barrier: Any) -> None:
    store = LocalStore({"out": Path(root)})
    barrier.wait(timeout=60)
    for _ in range(ROUNDS):
        store.write("out", "part-00000.csv", io.BytesIO(fill * SIZE))


def test_processes_writing_one_key_at_once_leave_one_whole_file(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    writers = [
        context.Process(target=_write_many, args=(str(tmp_path), fill, barrier)) for fill in (b"a", b"b")
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
    assert [w.exitcode for w in writers] == [0, 0]
    data = (tmp_path / "part-00000.csv").read_bytes()
    assert data in (b"a" * SIZE, b"b" * SIZE)
    # No temporary file is left behind.
    assert [p.name for p in tmp_path.iterdir()] == ["part-00000.csv"]
