"""install: reading pip's report and writing the lock (the pip runs are in tests/integration)."""

from __future__ import annotations

import json

from cdk_sklearn.packaging.install import LockedPackage, read_report, write_lock
from cdk_sklearn.packaging.target import LambdaTarget


def test_reads_versions_wheel_names_and_hashes_from_report(tmp_path):
    report = tmp_path / "report.json"
    entry = {
        "metadata": {"name": "numpy", "version": "2.5.5"},
        "download_info": {
            "url": "file:///home/someone/wheels/numpy-2.5.5-cp313-cp313-manylinux_2_28_aarch64.whl",
            "archive_info": {"hashes": {"sha256": "ab" * 32}},
        },
    }
    report.write_text(
        json.dumps({"install": [entry, {**entry, "metadata": {"name": "Joblib", "version": "1.6.0"}}]})
    )
    packages = read_report(report)
    assert [p.name for p in packages] == ["Joblib", "numpy"]
    assert packages[1] == LockedPackage(
        "numpy", "2.5.5", "numpy-2.5.5-cp313-cp313-manylinux_2_28_aarch64.whl", "ab" * 32
    )


def test_lock_is_a_hash_pinned_requirements_file(tmp_path):
    lock = tmp_path / "requirements.lock"
    write_lock([LockedPackage("numpy", "2.5.5", "u", "cd" * 32)], LambdaTarget("python3.13", "arm64"), lock)
    lines = lock.read_text().splitlines()
    assert lines[0] == "# cdk-sklearn layer lock for python3.13 on Amazon Linux 2023 (glibc 2.34, arm64)"
    assert "--platform manylinux_2_28_aarch64" in lines[1]
    assert lines[2] == f"numpy==2.5.5 --hash=sha256:{'cd' * 32}"
