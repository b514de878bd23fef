"""Stand-ins for command-line tools: small executable scripts that print what the real tool prints."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def fake_tool(folder: Path, name: str, output: str, exit_code: int = 0) -> Path:
    """Write ``folder/name``: a shell script that prints ``output`` and exits with ``exit_code``.

    Only shell built-ins: the script must run with nothing else on PATH.
    """
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    quoted = output.replace("'", "'\\''")
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' '{quoted}'\nexit {exit_code}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


def fake_cdk_package(app_dir: Path, version: str, schema_revision: int | None) -> Path:
    """An npm-installed CDK CLI in ``app_dir/node_modules``: ``bin/cdk`` and a bundled ``lib/index.js``
    laid out as the aws-cdk package ships them, linked from ``node_modules/.bin/cdk``."""
    package = app_dir / "node_modules" / "aws-cdk"
    fake_tool(package / "bin", "cdk", f"{version} (build fcf5e34)")
    (package / "lib").mkdir(parents=True)
    bundled = (
        'var require_version = __commonJS({\n  "../@aws-cdk/cloud-assembly-schema/schema/version.json"'
        '(exports2, module2) {\n    module2.exports = {\n      schemaHash: "00",\n'
        f"      revision: {schema_revision}\n    }};\n  }}\n}});\n"
        if schema_revision is not None
        else "module.exports = {};\n"
    )
    (package / "lib" / "index.js").write_text(bundled)
    (app_dir / "node_modules" / ".bin").mkdir()
    link = app_dir / "node_modules" / ".bin" / "cdk"
    os.symlink("../aws-cdk/bin/cdk", link)
    return link


MACHINE_NODE = Path("/usr/bin/node")
"""The machine's own Node (20 here, end-of-life), which an end-of-life stand-in runs for real work."""


def end_of_life_node(folder: Path, version: str = "v20.19.0") -> Path:
    """Write ``folder/node``: says it is ``version`` (an end-of-life Node) and runs everything else on
    the machine's ``/usr/bin/node``, so the CDK CLI really runs on it, as on a machine with Node 20."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "node"
    script.write_text(
        f'#!/bin/sh\nif [ "$1" = --version ]; then printf "%s\\n" {version}; exit 0; fi\n'
        f'exec {MACHINE_NODE} "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script
