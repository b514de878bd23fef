"""The newcomer's path, replayed outside the repository: install, train, ``cdk-sklearn new``, set-up,
the local loop, a synth.

One run, several proofs (each a test below, sharing the module's fixtures):

- the README's install block, run as written (``python`` = a fresh virtualenv's, the checkout path
  = a copy of this checkout's files), builds a non-editable wheel and installs it from the registry,
  pinned by ``constraints.txt`` (through ``PIP_CONSTRAINT``) so nothing new is resolved;
- the wheel carries the library, the function code and the templates, and no tests or dev tools;
- a DataFrame model (a pandas pipeline: ColumnTransformer over categorical and numeric columns) is
  trained in that virtualenv, with pandas installed as a newcomer would;
- ``cdk-sklearn new`` writes a project laid out as ``cdk init app --language python`` that names no
  path of this machine, with the cdk-sklearn wheel in ``wheels/``;
- the generated README's set-up block runs as written in that same virtualenv (installing once: pip
  keeps what is installed), then its ``serve`` (good and bad requests), ``batch`` and ``cost`` lines;
- a teammate's resolution of the committed ``requirements.txt`` takes cdk-sklearn from ``wheels/``;
- the README's ``npx cdk synth`` (the CDK CLI from ``npm ci``) synthesizes WITH bundling: function
  code, layer and model assets, no "feature flags are not configured", with only the machine's Node
  on PATH (end-of-life 20 here) and no CPython 3.13 to be found: no jsii banner, and exactly one line
  about the missing interpreter, without jsii in it.

Nothing here can see the repository: a temporary working directory, no ``PYTHONPATH``. About 3-5 min on
a warm pip cache (the layer is built unless the user cache already has it).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cdk_sklearn import __version__
from cdk_sklearn.cli.new import SETUP_MARKER
from tests.conftest import PROJECT_DIR

pytestmark = pytest.mark.slow

INSTALL_MARKER = "<!-- install: run as written by tests/integration/test_wheel_install.py -->"
CHECKOUT_PLACEHOLDER = "path/to/cdk-sklearn"
WHEEL_NAME = f"cdk_sklearn-{__version__}-py3-none-any.whl"
NOTICE = "no CPython 3.13 found"
# Folders of the repository that are not the library: none may ship in the wheel.
NOT_SHIPPED = ("tests/", "devtools/", "benchmarks/", "docs/", "examples/")
# Only the machine's own tools: no venv of this repository, no pyenv shims, no python3.13.
MACHINE_PATH = "/usr/bin:/bin"


@dataclass(frozen=True)
class Installed:
    """The fresh virtualenv with the wheel installed, and where things are."""

    work: Path
    python: Path
    wheel: Path
    env: dict[str, str]


@dataclass(frozen=True)
class Synth:
    """The scaffolded project and its bundled synth."""

    project: Path
    outdir: Path
    result: subprocess.CompletedProcess[str]


def install_lines() -> list[str]:
    """The shell lines of the README's install block that run pip."""
    text = (PROJECT_DIR / "README.md").read_text()
    assert INSTALL_MARKER in text, "the README lost its tested install block"
    block = text.split(INSTALL_MARKER, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [" ".join(shlex.split(line, comments=True)) for line in block.splitlines() if line.strip()]


def _checkout_copy(destination: Path) -> Path:
    # What a clone has: the tracked files (and new ones not yet committed), no build leftovers.
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_DIR,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = PROJECT_DIR / relative
        if source.is_file():
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def _clean_env(work: Path, venv: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JSII_", "CDK_", "PYTHON", "VIRTUAL_ENV", "PYENV", "UV_"))
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{MACHINE_PATH}"
    env["PYENV_ROOT"] = str(work / "no-pyenv")  # pyenv's versions/3.13* stay out of reach
    env["VIRTUAL_ENV"] = str(venv)
    # Resolve nothing new: the repository's pins, plus the machine's own pip constraints if any.
    machine = Path("/etc/xdg/pip/constraints.txt")
    constraints = [str(PROJECT_DIR / "constraints.txt"), *([str(machine)] if machine.exists() else [])]
    env["PIP_CONSTRAINT"] = " ".join(constraints)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: int = 1200) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    work = tmp_path_factory.mktemp("outside")
    checkout = _checkout_copy(work / "src" / "cdk-sklearn")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = _clean_env(work, venv)
    for line in install_lines():
        words = line.replace(CHECKOUT_PLACEHOLDER, str(checkout)).split()
        assert words[:3] == ["python", "-m", "pip"], line
        _run([str(venv / "bin" / "python"), *words[1:]], cwd=work, env=env)
    yield Installed(work, venv / "bin" / "python", work / "dist" / WHEEL_NAME, env)


# The newcomer's own training script: a churn model over a DataFrame, with the answers scikit-learn
# itself gives on a few rows (what the endpoint must give back), and those rows as a CSV with a header.
TRAIN_SCRIPT = """
import json
import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

rng = np.random.default_rng(0)
n = 300
frame = pd.DataFrame({
    "plan": rng.choice(["basic", "plus", "pro"], n),
    "region": rng.choice(["eu", "us", "apac"], n),
    "tenure_months": rng.integers(1, 72, n).astype(float),
    "monthly_fee": rng.normal(30.0, 8.0, n).round(2),
})
churn = ((frame["plan"] == "basic") & (frame["tenure_months"] < 24)).astype(int)
columns = ColumnTransformer([
    ("categories", OneHotEncoder(handle_unknown="ignore"), ["plan", "region"]),
    ("numbers", StandardScaler(), ["tenure_months", "monthly_fee"]),
])
model = make_pipeline(columns, LogisticRegression(max_iter=1000)).fit(frame, churn)
joblib.dump(model, "churn.joblib")
rows = frame.head(8)
rows.to_csv("rows.csv", index=False)
expected = {"rows": rows.to_dict(orient="records"), "predictions": model.predict(rows).tolist()}
with open("expected.json", "w") as out:
    json.dump(expected, out)
"""
COLUMNS = ("plan", "region", "tenure_months", "monthly_fee")


@dataclass(frozen=True)
class Trained:
    """The newcomer's model, a CSV of its rows and scikit-learn's own answers on them."""

    model: Path
    rows_csv: Path
    rows: list[dict[str, object]]
    predictions: list[int]


@dataclass(frozen=True)
class Project:
    """The generated project after its README's set-up block ran."""

    path: Path
    readme: str
    setup: dict[str, subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def trained(installed: Installed) -> Trained:
    # A newcomer installs pandas to build a DataFrame pipeline (constrained like everything here).
    _run([str(installed.python), "-m", "pip", "install", "pandas"], cwd=installed.work, env=installed.env)
    folder = installed.work / "notebook"
    folder.mkdir()
    (folder / "train.py").write_text(TRAIN_SCRIPT)
    _run([str(installed.python), "train.py"], cwd=folder, env=installed.env)
    expected = json.loads((folder / "expected.json").read_text())
    return Trained(folder / "churn.joblib", folder / "rows.csv", expected["rows"], expected["predictions"])


def readme_block(readme: str, after: str, first_word: str | None = None) -> list[list[str]]:
    """The commands (as the shell splits them) of the first ``sh`` block after ``after``, those
    starting with ``first_word``."""
    assert after in readme, f"the generated README lost {after!r}"
    block = readme.split(after, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]
    return [words for words in commands if first_word is None or words[0] == first_word]


def _command(words: list[str], venv: Path) -> list[str]:
    # The README's commands as a shell with the virtualenv active runs them.
    if words[0] in ("python", "python3", "cdk-sklearn"):
        return [str(venv / "bin" / words[0]), *words[1:]]
    return words


@pytest.fixture(scope="module")
def project(installed: Installed, trained: Trained) -> Project:
    cli = installed.python.parent / "cdk-sklearn"
    _run(
        [str(cli), "new", "my-endpoint", "--model", str(trained.model)], cwd=installed.work, env=installed.env
    )
    path = installed.work / "my-endpoint"
    readme = (path / "README.md").read_text()
    setup: dict[str, subprocess.CompletedProcess[str]] = {}
    # The set-up block, as written, in the virtualenv that ran `new` (the README says so: install once).
    for words in readme_block(readme, SETUP_MARKER):
        setup[" ".join(words)] = subprocess.run(
            _command(words, installed.python.parent.parent),
            cwd=path,
            env=installed.env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
    return Project(path, readme, setup)


def _setup_result(project: Project, first_words: str) -> subprocess.CompletedProcess[str]:
    [line] = [line for line in project.setup if line.startswith(first_words)]
    return project.setup[line]


@pytest.fixture(scope="module")
def synth(installed: Installed, project: Project) -> Synth:
    # The README's synth line, through the CDK CLI that `npm ci` installed, with the venv first on PATH.
    [words] = [
        words for words in readme_block(project.readme, "## Synthesize and deploy") if "synth" in words
    ]
    result = subprocess.run(
        words, cwd=project.path, env=installed.env, capture_output=True, text=True, timeout=1800
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return Synth(project.path, project.path / "cdk.out", result)


@dataclass(frozen=True)
class Served:
    """A running ``cdk-sklearn serve`` started from the generated README's line."""

    url: str
    process: subprocess.Popen[str]


@pytest.fixture(scope="module")
def served(installed: Installed, project: Project) -> Iterator[Served]:
    [words] = readme_block(project.readme, "## Try it locally", "cdk-sklearn")
    # --port 0 after the README's line: a free port, whatever else runs on this machine.
    command = [*_command(words, installed.python.parent.parent), "--port", "0", "--quiet"]
    process = subprocess.Popen(
        command,
        cwd=project.path,
        env=installed.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    seen: list[str] = []
    for output in process.stderr:
        seen.append(output)
        address = re.search(r" at (http://127\.0\.0\.1:\d+)", output)
        if address:
            break
    else:
        pytest.fail(f"{command} exited without serving:\n{''.join(seen)[-3000:]}")
    threading.Thread(target=process.stderr.read, daemon=True).start()
    yield Served(address.group(1), process)
    process.terminate()
    process.wait(timeout=30)


def _post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_readme_install_builds_the_wheel_from_a_checkout(installed: Installed) -> None:
    assert installed.wheel.is_file()


def test_installed_package_is_the_wheel_not_the_repository(installed: Installed) -> None:
    where = _run(
        [str(installed.python), "-c", "import cdk_sklearn, lambda_runtime; print(cdk_sklearn.__file__)"],
        cwd=installed.work,
        env=installed.env,
    )
    assert "/site-packages/cdk_sklearn/" in where and str(PROJECT_DIR) not in where


def test_wheel_ships_no_tests_or_development_tools(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert [n for n in names if n.startswith(NOT_SHIPPED)] == []


def test_wheel_ships_no_aws_proof_anywhere(installed: Installed) -> None:
    # The AWS proof runs only inside this repository (devtools/awsproof): not at the top, not nested.
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert [n for n in names if "awsproof" in n or "devtools" in n] == []


def test_wheel_ships_function_code_and_templates(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    expected = {
        "lambda_runtime/handler.py",
        "lambda_runtime/contract.py",
        "cdk_sklearn/templates/package.json",
        "cdk_sklearn/templates/package-lock.json",
        "cdk_sklearn/templates/app.py.tmpl",
    }
    assert expected <= names


def test_new_project_is_laid_out_as_cdk_init(project: Project) -> None:
    names = {p.name for p in project.path.iterdir()}
    assert {"app.py", "cdk.json", "requirements.txt", "package.json", "package-lock.json", "models"} <= names


def test_new_project_requires_the_wheel_from_its_wheels_folder(project: Project) -> None:
    lines = (project.path / "requirements.txt").read_text().splitlines()
    assert "--find-links ./wheels" in lines and f"cdk-sklearn=={__version__}" in lines


def test_new_project_copies_the_installed_wheel(project: Project, installed: Installed) -> None:
    assert (project.path / "wheels" / WHEEL_NAME).read_bytes() == installed.wheel.read_bytes()


def test_new_project_requires_what_the_dataframe_model_needs(project: Project) -> None:
    lines = (project.path / "requirements.txt").read_text().splitlines()
    assert "pandas" in lines and any(line.startswith("scikit-learn==") for line in lines)


def test_new_project_names_no_path_of_this_machine(project: Project, installed: Installed) -> None:
    machine = (str(PROJECT_DIR), str(installed.work), sys.prefix, str(Path.home()))
    written = ["README.md", "app.py", "cdk.json", "requirements.txt", "package.json", "package-lock.json"]
    for name in [*written, ".gitignore"]:
        text = (project.path / name).read_text()
        assert [path for path in machine if path in text] == [], name


@pytest.mark.parametrize("first_words", ["python -m pip install", "npm ci"])
def test_readme_setup_line_succeeds(project: Project, first_words: str) -> None:
    result = _setup_result(project, first_words)
    assert result.returncode == 0, result.stderr[-3000:]


def test_readme_setup_installs_once(project: Project) -> None:
    # The virtualenv that ran `new` already has cdk-sklearn and aws-cdk-lib: pip installs nothing again.
    output = _setup_result(project, "python -m pip install").stdout
    assert "Installing collected packages" not in output, output[-3000:]


def test_readme_setup_runs_doctor(project: Project) -> None:
    result = _setup_result(project, "cdk-sklearn doctor")
    # Green where synth works (the synth test below synthesizes this project on this machine).
    assert result.returncode == 0, result.stdout + result.stderr
    assert "jsii-node" in result.stdout, result.stdout


def test_doctor_shows_an_app_user_no_repository_check(project: Project) -> None:
    # root, debootstrap and qemu are the deploy proof's needs, not an app's.
    output = _setup_result(project, "cdk-sklearn doctor").stdout
    assert not re.search(r"^\S+\s+(root|debootstrap|qemu-aarch64-static|userlands)\b", output, re.M), output


def test_teammate_gets_cdk_sklearn_from_the_wheels_folder(project: Project, installed: Installed) -> None:
    # A clean resolution of the committed requirements.txt (nothing installed counts), from another folder:
    # pip reads --find-links ./wheels against the requirements file's own folder.
    report = installed.work / "teammate.json"
    command = ["-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report)]
    _run(
        [str(installed.python), *command, "-r", str(project.path / "requirements.txt")],
        installed.work,
        installed.env,
    )
    items = {item["metadata"]["name"]: item for item in json.loads(report.read_text())["install"]}
    assert items["cdk-sklearn"]["download_info"]["url"].endswith(f"/my-endpoint/wheels/{WHEEL_NAME}")
    assert "pandas" in items


def test_serve_answers_like_scikit_learn(served: Served, trained: Trained) -> None:
    status, body = _post(f"{served.url}/predict", json.dumps({"instances": trained.rows}).encode())
    assert (status, body["predictions"]) == (200, trained.predictions)


def _records(**change: object) -> bytes:
    row: dict[str, object] = {"plan": "basic", "region": "eu", "tenure_months": 3.0, "monthly_fee": 20.0}
    row.update(change)
    return json.dumps({"instances": [{k: v for k, v in row.items() if v is not MISSING}]}).encode()


MISSING = object()
BAD_REQUESTS = {
    "malformed JSON": (b'{"instances": [', "application/json"),
    "a missing column": (_records(plan=MISSING), "application/json"),
    "an unknown column": (_records(colour="red"), "application/json"),
    "a word in a numeric column": (_records(tenure_months="three"), "application/json"),
    "a CSV body with a header row": (b"plan,region,tenure_months,monthly_fee\nbasic,eu,3,20\n", "text/csv"),
}
# What each refusal must name, as a newcomer reads it (issue 23, friction 7).
REASONS = {
    "malformed JSON": ("JSON",),
    "a missing column": ("plan",),
    "an unknown column": ("colour",),
    "a word in a numeric column": ("row 0", "tenure_months", "three", "numbers"),
    "a CSV body with a header row": ("header",),
}


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_serve_answers_a_bad_request_with_a_4xx_and_a_reason(served: Served, case: str) -> None:
    body, content_type = BAD_REQUESTS[case]
    status, answer = _post(f"{served.url}/predict", body, content_type)
    assert 400 <= status < 500 and answer["error"], (status, answer)
    missing = [word for word in REASONS[case] if word not in answer["error"]]
    assert missing == [], answer["error"]


def test_readme_request_example_names_the_models_columns(project: Project) -> None:
    [words] = [words for words in readme_block(project.readme, "In another terminal") if "-d" in words]
    body = json.loads(words[words.index("-d") + 1])
    assert list(body["instances"][0]) == list(COLUMNS)


def test_readme_batch_line_scores_a_csv(project: Project, installed: Installed, trained: Trained) -> None:
    [words] = readme_block(project.readme, "Score files", "cdk-sklearn")
    (project.path / "data").mkdir(exist_ok=True)
    shutil.copy2(trained.rows_csv, project.path / "data" / "rows.csv")
    command = _command(words, installed.python.parent.parent)
    result = subprocess.run(command, cwd=project.path, env=installed.env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)  # the run summary
    assert (summary["rows"], summary["predicted"], summary["errors"]) == (8, 8, 0)


def test_batch_without_id_column_stops_once_with_the_fix(
    project: Project, installed: Installed, trained: Trained
) -> None:
    # The newcomer's CSV carries a customer id the model never saw: one message and exit 2, no output.
    [words] = readme_block(project.readme, "Score files", "cdk-sklearn")
    folder = project.path / "ids"
    folder.mkdir(exist_ok=True)
    lines = trained.rows_csv.read_text().splitlines()
    rows = [f"customer,{lines[0]}", *(f"c{i},{line}" for i, line in enumerate(lines[1:]))]
    (folder / "rows.csv").write_text("\n".join(rows) + "\n")
    command = _command(words, installed.python.parent.parent)
    command[command.index("--input") + 1] = "ids/"
    command[command.index("--output") + 1] = "ids-scored/"
    result = subprocess.run(command, cwd=project.path, env=installed.env, capture_output=True, text=True)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "--id-column customer" in result.stderr and "Traceback" not in result.stderr, result.stderr
    scored = project.path / "ids-scored"
    assert not scored.exists() or not any(scored.rglob("*.jsonl"))


def test_readme_cost_line_prices_lambda(project: Project, installed: Installed) -> None:
    [words] = readme_block(project.readme, "Estimate the monthly bill", "cdk-sklearn")
    # Neither --memory-mb nor --duration-ms: the environment's memory, and a duration it states.
    assert "--memory-mb" not in words and "--duration-ms" not in words
    output = _run(_command(words, installed.python.parent.parent), project.path, installed.env)
    assert output.splitlines()[0].startswith("This endpoint"), output
    assert "assum" in output.lower() and "PredictionLatency" in output, output


def test_layer_lock_names_no_path_of_this_machine(synth: Synth, installed: Installed) -> None:
    # The README says to commit the lock the first synth writes.
    text = (synth.project / "pylock.cdk-sklearn.toml").read_text()
    machine = (str(PROJECT_DIR), str(installed.work), sys.prefix, str(Path.home()))
    assert [path for path in machine if path in text] == []


def test_synth_configures_every_feature_flag(synth: Synth) -> None:
    assert "feature flags are not configured" not in synth.result.stderr + synth.result.stdout


def _asset_dirs(outdir: Path) -> list[Path]:
    return [p for p in outdir.iterdir() if p.is_dir() and p.name.startswith("asset.")]


def test_synth_bundles_the_function_code(synth: Synth) -> None:
    assert any((d / "lambda_runtime" / "handler.py").is_file() for d in _asset_dirs(synth.outdir))


def test_synth_bundles_the_layer(synth: Synth) -> None:
    assert any((d / "python" / "sklearn" / "__init__.py").is_file() for d in _asset_dirs(synth.outdir))


def test_synth_stages_the_model(synth: Synth) -> None:
    assert list(synth.outdir.glob("asset.*.joblib"))


def test_synth_on_end_of_life_node_prints_no_jsii_banner(synth: Synth) -> None:
    assert "end-of-life" not in synth.result.stderr and "!!!!" not in synth.result.stderr


def test_missing_interpreter_is_one_line_without_jsii(synth: Synth) -> None:
    lines = [line for line in synth.result.stderr.splitlines() if NOTICE in line]
    assert len(lines) == 1, synth.result.stderr[-3000:]
    assert "jsii" not in lines[0]
    assert not re.search(r"\.py:\d+: ", lines[0]), "a Python warning location"


def test_synth_stderr_never_mentions_jsii(synth: Synth) -> None:
    assert "jsii" not in synth.result.stderr
