"""The deploy proof: what ``cdk deploy`` would upload, booted as the Lambda Python runtime would boot it.

Nothing here is rebuilt by hand. A stack holding a :class:`~cdk_sklearn.SklearnLambdaEndpoint` is
synthesized with bundling on; the function code, the layer and the model are then taken from the cloud
assembly the way the CDK CLI publishes them: ``<Stack>.assets.json`` names each asset's source in
``cdk.out``, its packaging (``zip`` for a folder, ``file`` as-is) and its bucket and key, and the
template's ``Code.S3Key`` / ``Content.S3Key`` / ``MODEL_URI`` point at those keys. Folder assets are
zipped as the CLI zips them (every file, dotfiles too, symbolic links followed, the file mode kept,
no folder entries, a fixed 1980 timestamp) and unzipped where Lambda puts them: the function code in
``/var/task``, each layer in ``/opt``.

They are booted by :mod:`tests.support.lambda_environment`: in a Debian trixie userland with CPython
3.13, through AWS's own runtime interface client (``awslambdaric``, installed with boto3 into the
``/var/runtime`` folder :func:`runtime_folder` makes), under the function's memory limit and timeout.
The model is served by an S3 server on loopback (moto), at the bucket and key the template names;
the function finds it through ``AWS_ENDPOINT_URL_S3``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from cdk_sklearn.packaging.cache import cache_root
from tests.support.userland import host_architecture, make_userland
from tests.support.userland import missing_tools as userland_missing_tools

ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
PSEUDO_PARAMETERS: Mapping[str, str] = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": PARTITION,
    "AWS::URLSuffix": "amazonaws.com",
}
PYTHON_VERSION = "3.13"
TASK_ROOT = "/var/task"
RUNTIME_DIR = "/var/runtime"
LAYER_ROOT = "/opt"
LAMBDA_PYTHONPATH = (
    TASK_ROOT,
    f"{LAYER_ROOT}/python/lib/python{PYTHON_VERSION}/site-packages",
    f"{LAYER_ROOT}/python",
    RUNTIME_DIR,
)
"""``sys.path`` before the standard library, in Lambda's order."""
USERLAND_STDLIB = (
    f"/usr/lib/python{PYTHON_VERSION.replace('.', '')}.zip",
    f"/usr/lib/python{PYTHON_VERSION}",
    f"/usr/lib/python{PYTHON_VERSION}/lib-dynload",
)
"""What the userland's CPython adds after ``PYTHONPATH`` (its standard library, nothing else)."""
CONSTRAINTS = Path(__file__).resolve().parents[2] / "constraints.txt"
_MANYLINUX_MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the CLI resets every entry's date so equal content hashes alike


# -- synth -------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _bytecode_python() -> Iterator[None]:
    # As `make synth` does: the userland's CPython 3.13 compiles the target .pyc when the host's
    # Python is another version. An explicit CDK_SKLEARN_BYTECODE_PYTHON wins.
    name = "CDK_SKLEARN_BYTECODE_PYTHON"
    if os.environ.get(name) or host_architecture() not in ("x86_64", "arm64"):
        yield
        return
    launcher = make_userland(host_architecture()).host_python()
    os.environ[name] = str(launcher)
    try:
        yield
    finally:
        os.environ.pop(name, None)


SYNTH_ESTIMATES: dict[Path, int] = {}
"""The memory estimate the construct made at synth, per cloud assembly :func:`synthesize` wrote."""


def synthesize(outdir: Path, model_path: Path, *, stack_name: str = "DeployProof", **props: Any) -> Path:
    """Synthesize a stack with one ``SklearnLambdaEndpoint`` ``E`` into ``outdir``, bundling for real.

    ``props`` are the endpoint's keyword arguments besides ``model_path`` (e.g. ``architecture``).
    Returns the cloud assembly folder (``outdir``).
    """
    import aws_cdk as cdk

    from cdk_sklearn.endpoint import SklearnLambdaEndpoint

    with _bytecode_python():
        app = cdk.App(outdir=str(outdir))
        stack = cdk.Stack(app, stack_name)
        endpoint = SklearnLambdaEndpoint(stack, "E", model_path=str(model_path), **props)
        app.synth()
    SYNTH_ESTIMATES[outdir] = endpoint.memory_estimate_mb
    return outdir


# -- reading the cloud assembly ------------------------------------------------------------------


def resolve(value: Any, where: str = "value") -> str:
    """Resolve a template value made of strings, ``Fn::Join``, ``Fn::Sub`` and pseudo-parameter ``Ref``s.

    Raises
    ------
    ValueError
        For anything else (a ``Ref`` to a resource, ``Fn::GetAtt``...): the deployed value would
        depend on other resources, which this proof cannot know.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Fn::Join":
            separator, parts = argument
            return str(separator).join(resolve(part, where) for part in parts)
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            known = {**PSEUDO_PARAMETERS, **{k: resolve(v, where) for k, v in variables.items()}}
            for name, replacement in known.items():
                text = text.replace("${" + name + "}", replacement)
            if "${" in text:
                raise ValueError(f"{where}: unresolved substitution in {text!r}")
            return str(text)
        if function == "Ref" and argument in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[str(argument)]
    raise ValueError(f"{where}: cannot resolve {json.dumps(value)[:300]} without deploying")


@dataclass(frozen=True)
class FileAsset:
    """One file asset of the cloud assembly and where ``cdk deploy`` would put it."""

    asset_id: str
    source: Path
    packaging: str
    bucket: str
    key: str


@dataclass(frozen=True)
class Deployment:
    """What the Lambda service would be given for the endpoint's function.

    Attributes
    ----------
    function_id
        The function's logical ID.
    runtime, architecture, handler, memory_size, timeout
        The function's properties (``architecture`` in Lambda's spelling, ``x86_64`` or ``arm64``).
    code
        The function code asset.
    layers
        The layer assets, in the function's order.
    model
        The asset ``MODEL_URI`` points at.
    environment
        The function's environment variables, tokens resolved.
    """

    function_id: str
    runtime: str
    architecture: str
    handler: str
    memory_size: int
    timeout: int
    code: FileAsset
    layers: tuple[FileAsset, ...]
    model: FileAsset
    environment: dict[str, str]


def _file_assets(manifest: dict[str, Any], cdk_out: Path) -> dict[tuple[str, str], FileAsset]:
    found: dict[tuple[str, str], FileAsset] = {}
    for asset_id, asset in manifest.get("files", {}).items():
        source = asset["source"]
        if "path" not in source:  # an executable-produced asset: nothing of ours
            continue
        packaging = source.get("packaging", "file")
        for destination_id, destination in asset["destinations"].items():
            where = f"asset {asset_id} destination {destination_id}"
            # The asset manifest writes placeholders in plain strings; the CLI fills them in.
            bucket = resolve({"Fn::Sub": destination["bucketName"]}, where)
            key = resolve({"Fn::Sub": destination["objectKey"]}, where)
            found[(bucket, key)] = FileAsset(asset_id, cdk_out / source["path"], packaging, bucket, key)
    return found


def _asset_at(
    assets: dict[tuple[str, str], FileAsset], location: dict[str, Any], bucket_key: str, key_key: str
) -> FileAsset:
    bucket = resolve(location[bucket_key], bucket_key)
    key = resolve(location[key_key], key_key)
    try:
        return assets[(bucket, key)]
    except KeyError:
        raise AssertionError(f"no asset of the assembly is published to s3://{bucket}/{key}") from None


def read_deployment(cdk_out: Path, stack_name: str = "DeployProof") -> Deployment:
    """Read the endpoint's function, its layers and its model from the cloud assembly in ``cdk_out``."""
    template = json.loads((cdk_out / f"{stack_name}.template.json").read_text())
    manifest = json.loads((cdk_out / f"{stack_name}.assets.json").read_text())
    assets = _file_assets(manifest, cdk_out)
    resources: dict[str, Any] = template["Resources"]
    functions = {
        logical_id: resource["Properties"]
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function"
        and str(resource["Properties"].get("Runtime", "")).startswith("python")
        and resource["Properties"].get("Layers")
    }
    if len(functions) != 1:
        raise AssertionError(f"expected one Python function with layers, found {sorted(functions)}")
    ((function_id, function),) = functions.items()
    code = _asset_at(assets, function["Code"], "S3Bucket", "S3Key")
    layers = []
    for reference in function["Layers"]:
        layer_id = reference["Ref"]
        content = resources[layer_id]["Properties"]["Content"]
        layers.append(_asset_at(assets, content, "S3Bucket", "S3Key"))
    variables = function.get("Environment", {}).get("Variables", {})
    environment = {name: resolve(value, f"environment {name}") for name, value in variables.items()}
    model_uri = environment["MODEL_URI"]
    if not model_uri.startswith("s3://"):
        raise AssertionError(f"MODEL_URI is not an S3 URI: {model_uri}")
    bucket, _, key = model_uri.removeprefix("s3://").partition("/")
    model = assets.get((bucket, key))
    if model is None:
        raise AssertionError(f"MODEL_URI {model_uri} is not where any asset of the assembly is published")
    (architecture,) = function.get("Architectures", ["x86_64"])
    return Deployment(
        function_id=function_id,
        runtime=function["Runtime"],
        architecture=architecture,
        handler=function["Handler"],
        memory_size=int(function.get("MemorySize", 128)),
        timeout=int(function.get("Timeout", 3)),
        code=code,
        layers=tuple(layers),
        model=model,
        environment=environment,
    )


# -- publishing and unpacking as the CLI and Lambda do -------------------------------------------


def zip_directory(directory: Path, destination: Path) -> Path:
    """Zip ``directory`` as the CDK CLI zips a folder asset; return ``destination``.

    Every file (dotfiles included) is stored with its path relative to ``directory``, symbolic links
    are followed (a zip from the CLI never holds a link), each entry keeps the file's mode and gets the
    same fixed date, and folders get no entries of their own (so empty folders are not published).
    The CLI deflates the entries; they are stored here, which unpacks to the same files four times
    faster (a 200 MB layer: 3 s instead of 11 s).
    """
    files = sorted(
        Path(root, name).relative_to(directory)
        for root, _, names in os.walk(directory, followlinks=True)
        for name in names
    )
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}.tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED) as archive:
        for relative in files:
            path = directory / relative
            mode = path.stat().st_mode  # stat follows links, as the CLI does
            if not stat.S_ISREG(mode):
                continue
            entry = zipfile.ZipInfo(relative.as_posix(), date_time=_ZIP_EPOCH)
            entry.external_attr = (mode & 0xFFFF) << 16
            with path.open("rb") as source, archive.open(entry, "w") as target:
                shutil.copyfileobj(source, target, 1 << 20)
    temporary.rename(destination)
    return destination


def unzip(archive_path: Path, destination: Path) -> None:
    """Unpack a deployment package into ``destination`` keeping each entry's mode, as Lambda does."""
    destination.mkdir(parents=True, exist_ok=True)
    root = destination.resolve()
    with zipfile.ZipFile(archive_path) as archive:
        for entry in archive.infolist():
            target = (destination / entry.filename).resolve()
            if not target.is_relative_to(root):
                raise AssertionError(f"{archive_path}: entry {entry.filename!r} escapes the folder")
            if entry.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(entry) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
            mode = (entry.external_attr >> 16) & 0o7777
            if mode:
                target.chmod(mode)


def unpacked(asset: FileAsset, work: Path) -> Path:
    """The folder ``asset`` unpacks into on Lambda, made once per asset under ``work``.

    A folder asset (packaging ``zip``) is zipped as the CLI would, then unpacked; a file asset that is
    itself a zip is unpacked as uploaded. Assets are named by their content hash, so cases that share a
    layer share its unpacked folder.
    """
    folder = work / f"asset.{asset.asset_id}"
    if folder.is_dir():
        return folder
    work.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".asset.{asset.asset_id}.", dir=work))
    if asset.packaging == "zip":
        archive = zip_directory(asset.source, staging / "package.zip")
    elif asset.packaging == "file" and zipfile.is_zipfile(asset.source):
        archive = asset.source
    else:
        raise AssertionError(f"asset {asset.asset_id} ({asset.packaging}) is not a deployment package")
    unzip(archive, staging / "content")
    if archive.parent == staging:
        archive.unlink()
    with contextlib.suppress(OSError):  # another boot unpacked it first
        (staging / "content").rename(folder)
    shutil.rmtree(staging, ignore_errors=True)
    return folder


def awslambdaric_version() -> str:
    """The ``awslambdaric`` version the proof boots with: its pin in ``constraints.txt`` (one home)."""
    for line in CONSTRAINTS.read_text().splitlines():
        name, _, version = line.partition("==")
        if name.strip().lower() == "awslambdaric":
            return version.strip()
    raise AssertionError(f"{CONSTRAINTS} pins no awslambdaric version")


def runtime_folder(architecture: str) -> Path:
    """What Lambda's python3.13 runtime puts in ``/var/runtime``, for ``architecture``.

    AWS's runtime interface client (``awslambdaric`` at its pin, with its dependencies, the binary
    ``runtime_client`` extension built for the architecture) and boto3 at the host's version, installed
    once with ``pip --target`` under the layer cache folder
    (:func:`cdk_sklearn.packaging.cache.cache_root`) and reused by every later run.
    """
    boto3_version, ric_version = metadata.version("boto3"), awslambdaric_version()
    tag = f"cp{PYTHON_VERSION.replace('.', '')}"
    folder = (
        cache_root()
        / "lambda-runtime"
        / f"runtime-{tag}-{architecture}-ric{ric_version}-boto3-{boto3_version}"
    )
    if (folder / "awslambdaric" / "__main__.py").is_file() and (folder / "boto3" / "__init__.py").is_file():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    machine = _MANYLINUX_MACHINE[architecture]
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--only-binary=:all:",
        "--implementation=cp",
        f"--python-version={PYTHON_VERSION}",
        f"--platform=manylinux2014_{machine}",
        f"--platform=manylinux_2_17_{machine}",
        f"--target={staging}",
        f"boto3=={boto3_version}",
        f"awslambdaric=={ric_version}",
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(f"pip could not install /var/runtime for {architecture}:\n{completed.stderr}")
    try:
        staging.rename(folder)
    except OSError:  # a concurrent run installed it first
        shutil.rmtree(staging, ignore_errors=True)
    return folder


# -- S3 on loopback --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def s3_server() -> Iterator[str]:
    """An S3 server (moto) on a random loopback port; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def upload(endpoint: str, asset: FileAsset) -> None:
    """Put ``asset`` at its bucket and key on the S3 server at ``endpoint`` (creating the bucket)."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="proof",
        aws_secret_access_key="proof",
    )
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=asset.bucket)
    s3.upload_file(str(asset.source), asset.bucket, asset.key)


# -- booting -------------------------------------------------------------------------------------


def missing_tools(architecture: str) -> list[str]:
    """What this machine lacks to boot a deployment for ``architecture`` (empty when ready)."""
    missing = userland_missing_tools(architecture)
    if architecture != host_architecture():
        missing += [f"{m} (to compile .pyc)" for m in userland_missing_tools(host_architecture())]
    if not missing and not _mount_namespaces_work():
        missing.append("private mount namespaces with overlayfs (unshare -m, mount -t overlay)")
    return sorted(set(missing))


def _mount_namespaces_work() -> bool:
    unshare, mount = shutil.which("unshare"), shutil.which("mount")
    if unshare is None or mount is None:
        return False
    with tempfile.TemporaryDirectory(prefix="deploy-proof-probe.") as probe:
        base = Path(probe)
        for name in ("lower", "upper", "work", "merged"):
            (base / name).mkdir()
        options = f"lowerdir={base / 'lower'},upperdir={base / 'upper'},workdir={base / 'work'}"
        command = [unshare, "--mount", "--propagation", "private", mount, "-t", "overlay", "-o", options]
        completed = subprocess.run(
            [*command, "overlay", str(base / "merged")],
            capture_output=True,
            check=False,
        )
        return completed.returncode == 0


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file (for comparing with what the function reports)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def elapsed(started: float) -> float:
    """Seconds since ``started`` (a ``time.perf_counter()`` value), rounded for reports."""
    return round(time.perf_counter() - started, 2)
