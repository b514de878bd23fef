"""What each deploy-proof case used against Lambda's limits: recorded by the proof, published on request.

The deploy proof (``tests/integration/test_deploy_proof.py``) records one JSON document per case and
architecture in a scratch folder (``$DEPLOY_PROOF_FIGURES``, else ``cdk-sklearn-deploy-proof`` in the
temporary folder) and prints the table at the end of its run. The tests never write into the
repository; ``python -m tests.support.fit_figures`` does, when asked: it gathers the recorded figures
into ``docs/fit/measured.json`` (the source of the table in ``docs/readme/fit.md``) and prints the
table in Markdown. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]
PUBLISHED = PROJECT / "docs" / "fit" / "measured.json"
COLUMNS = (
    ("case", "case"),
    ("engine", "engine"),
    ("architecture", "arch"),
    ("model_file_bytes", "model file"),
    ("memory_size", "memory_size MB"),
    ("init_seconds", "INIT s"),
    ("peak_mb", "cgroup peak MB"),
    ("rss_peak_mb", "VmHWM MB"),
    ("outcome", "outcome"),
)


def figures_folder() -> Path:
    """Where the proof records its figures (``$DEPLOY_PROOF_FIGURES``, else a temporary folder)."""
    configured = os.environ.get("DEPLOY_PROOF_FIGURES")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "cdk-sklearn-deploy-proof"


def record(name: str, figures: dict[str, Any], folder: Path | None = None) -> Path:
    """Write one case's ``figures`` as ``<folder>/<name>.json``; return the path."""
    target = (folder or figures_folder()) / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    stamped = {**figures, "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}
    target.write_text(json.dumps(stamped, indent=2, sort_keys=True) + "\n")
    return target


def load(folder: Path | None = None) -> list[dict[str, Any]]:
    """Every recorded case in ``folder``, sorted by architecture (native first) and case."""
    source = folder or figures_folder()
    rows = [json.loads(path.read_text()) for path in sorted(source.glob("*.json"))]
    return sorted(
        rows, key=lambda row: (bool(row.get("emulated")), row.get("case", ""), row.get("memory_size", 0))
    )


def _cell(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    if value is None:
        return "-"
    if key == "model_file_bytes":
        return f"{value / 1e6:.0f} MB" if value >= 1e6 else f"{value / 1e3:.0f} kB"
    if key in ("init_seconds", "peak_mb", "rss_peak_mb") and row.get("emulated"):
        return f"{value} (qemu)"
    if key == "architecture" and row.get("emulated"):
        return f"{value} (qemu)"
    return str(value)


def table(rows: list[dict[str, Any]]) -> str:
    """The figures as a Markdown table (times and memory under qemu marked so)."""
    lines = [
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    lines += ["| " + " | ".join(_cell(row, key) for key, _ in COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


def publish(rows: list[dict[str, Any]], target: Path = PUBLISHED) -> Path:
    """Write ``rows`` to ``target`` (``docs/fit/measured.json``) with the date they were gathered."""
    target.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "gathered_at": datetime.now(UTC).date().isoformat(),
        "source": "make deploy-proof, then python -m tests.support.fit_figures",
        "cases": rows,
    }
    target.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return target


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.support.fit_figures [--source DIR] [--target FILE]``."""
    parser = argparse.ArgumentParser(prog="python -m tests.support.fit_figures", description=__doc__)
    parser.add_argument("--source", type=Path, default=None, help="the proof's figures folder")
    parser.add_argument("--target", type=Path, default=PUBLISHED, help="the JSON file to write")
    args = parser.parse_args(argv)
    rows = load(args.source)
    if not rows:
        print(
            f"no figures in {args.source or figures_folder()}: run make deploy-proof first", file=sys.stderr
        )
        return 1
    print(f"wrote {publish(rows, args.target)}")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
