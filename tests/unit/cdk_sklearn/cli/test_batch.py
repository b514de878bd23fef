"""``cdk-sklearn batch``: a folder scored with the batch entry point's code, in the same layout; it fails
early and once on input that cannot be scored, and its exit code says what happened (issue 23)."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cdk_sklearn.cli import main
from cdk_sklearn.cli.batch import EXIT_CODES, Progress, _score_all, _split_for, exit_code
from cdk_sklearn.cli.serve import model_environment
from lambda_runtime import contract
from lambda_runtime.batch import LocalStore, empty_summary, plan, write_summary
from tests.helpers import models
from tests.helpers.batch import iris_csv, job

REPO = Path(__file__).resolve().parents[4]


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    folder = tmp_path_factory.mktemp("batch")
    model = folder / "forest.joblib"
    models.save(models.random_forest(), model)
    (folder / "in" / "sub").mkdir(parents=True)
    (folder / "in" / "sub" / "iris.csv").write_text(iris_csv() + "r150,1,2,x,4\n")
    argv = ["batch", "--model", str(model), "--input", str(folder / "in"), "--output", str(folder / "out")]
    argv += ["--id-column", "id", "--workers", "2", "--split-mib", "1"]
    code, out, err = _run(argv)
    return folder / "out", code, out + "\n" + err


def _run(argv: list[str]) -> tuple[int, str, str]:
    err = io.StringIO()
    out = io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = main(argv)
    finally:
        sys.stdout, sys.stderr = saved
    return code, out.getvalue(), err.getvalue()


def _argv(model: Path, folder: Path, *extra: str) -> list[str]:
    paths = ["--model", str(model), "--input", str(folder / "in"), "--output", str(folder / "out")]
    return ["batch", *paths, "--workers", "1", "--quiet", *extra]


@pytest.fixture(scope="module")
def frame_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DataFrame model taking exactly colour, size, weight."""
    path = tmp_path_factory.mktemp("frame") / "ct.joblib"
    models.save(models.column_transformer(), path)
    return path


CUSTOMERS = "customer,colour,size,weight\nc1,red,S,10.5\nc2,blue,M,9.0\nc3,green,L,11.0\n"


def test_exits_3_when_some_rows_were_refused(scored):
    assert scored[1] == 3


def test_last_line_sums_up_the_run_and_names_the_errors_file(scored):
    out, _, text = scored
    last = text.strip().splitlines()[-1]
    errors = out / contract.batch_error_key("", "", "sub/iris.csv", 0)
    assert last.startswith("cdk-sklearn batch: 151 rows: 150 answered, 1 refused (reasons in ")
    assert str(errors) in last and "run summary" in last


def test_exits_0_when_every_row_is_answered(tmp_path, frame_model):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text(CUSTOMERS)
    code, _, err = _run(_argv(frame_model, tmp_path, "--id-column", "customer"))
    assert code == 0
    assert "3 rows: 3 answered, 0 refused" in err.strip().splitlines()[-1]


def test_fails_with_exit_2_and_one_message_when_the_header_has_an_id_column_not_named(tmp_path, frame_model):
    (tmp_path / "in").mkdir()
    for name in ("a.csv", "b.csv"):
        (tmp_path / "in" / name).write_text(CUSTOMERS)
    code, out, err = _run(_argv(frame_model, tmp_path))
    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()  # once, not once per row or per file
    assert line.startswith(
        "cdk-sklearn batch: error: a.csv (and 1 more files) cannot be scored, so nothing was"
    )
    assert "['customer']" in line and "pass --id-column customer" in line


def test_writes_nothing_when_a_header_cannot_match(tmp_path, frame_model):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("colour,size\nred,S\n")
    assert _run(_argv(frame_model, tmp_path))[0] == 2
    assert not (tmp_path / "out").exists()


def test_fails_with_exit_2_on_a_method_the_model_lacks(tmp_path):
    model = tmp_path / "regressor.joblib"
    models.save(models.regressor(), model)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("a,b,c,d\n1,2,3,4\n")
    code, _, err = _run(_argv(model, tmp_path, "--method", "predict_proba"))
    assert code == 2 and "--method predict_proba: this model" in err and "has no predict_proba" in err


def test_a_work_item_whose_file_changed_fails_and_the_exit_code_is_1(tmp_path):
    model = tmp_path / "forest.joblib"
    models.save(models.random_forest(), model)
    store = LocalStore({"in": tmp_path / "in", "out": tmp_path / "out"})
    (tmp_path / "in" / "data").mkdir(parents=True)
    (tmp_path / "in" / "data" / "a.csv").write_text(iris_csv(5))
    the_job = job(output_prefix="", id_column="id")
    planned = plan(store, the_job, "local")
    items = [json.loads(line) for line in store.read_all("out", planned["manifest_key"]).splitlines()]
    (tmp_path / "in" / "data" / "a.csv").write_text(iris_csv(6))  # replaced after the plan
    summary = empty_summary()
    roots = {"in": str(tmp_path / "in"), "out": str(tmp_path / "out")}
    progress = Progress(1, io.StringIO(), enabled=False)
    failed = _score_all(items, roots, the_job.to_event(), model_environment(model), 1, summary, progress)
    assert next(entry["error"] for entry in failed).startswith(
        "in/data/a.csv changed after the run was planned"
    )
    assert exit_code(write_summary(store, the_job, "local", summary, failed)) == 1


def test_help_documents_every_exit_code(capsys):
    with pytest.raises(SystemExit):
        main(["batch", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for code, meaning in EXIT_CODES.items():
        assert f"{code} {' '.join(meaning.split())}" in text
    assert sorted(EXIT_CODES) == [0, 1, 2, 3]


def test_predictions_are_at_the_output_key_of_the_contract(scored):
    out, _, _ = scored
    key = contract.batch_output_key("", "", "sub/iris.csv", 0, "csv")
    rows = list(csv.DictReader(io.StringIO((out / key).read_text())))
    assert [int(r[contract.PREDICTION_FIELD]) for r in rows] == (
        models.random_forest().predict(models.iris()[0]).tolist()
    )


def test_malformed_row_is_in_the_errors_object(scored):
    out, _, _ = scored
    key = contract.batch_error_key("", "", "sub/iris.csv", 0)
    (error,) = map(json.loads, (out / key).read_text().splitlines())
    assert error["id"] == "r150"


def test_run_summary_counts_every_row(scored):
    out, _, _ = scored
    summary = json.loads((out / contract.batch_summary_key("", "local")).read_text())
    assert (summary["rows"], summary["predicted"], summary["errors"]) == (151, 150, 1)


def test_progress_line_goes_to_stderr(scored):
    assert "rows/s" in scored[2]


def test_work_is_spread_over_the_workers_within_1_and_64_mib():
    assert [_split_for(n, 2) for n in (0, 80 << 20, 10 << 30)] == [1 << 20, 10 << 20, 64 << 20]


def test_fails_with_exit_2_when_output_is_inside_input(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    argv = [
        "batch",
        "--model",
        "m.joblib",
        "--input",
        str(tmp_path / "in"),
        "--output",
        str(tmp_path / "in" / "o"),
    ]
    assert main(argv) == 2
    assert "--output must not be" in capsys.readouterr().err


def test_command_never_imports_aws_cdk():
    code = "import sys, cdk_sklearn.cli.batch; sys.exit('aws_cdk' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False).returncode == 0


def test_the_docs_give_every_exit_code_its_meaning():
    doc = (REPO / "docs" / "readme" / "batch.md").read_text().replace("`", "")
    for code, meaning in EXIT_CODES.items():
        assert f"| {code} | {meaning} |" in doc


def test_a_lightgbm_model_is_scored_without_hanging_its_workers(tmp_path):
    # LightGBM starts GNU OpenMP threads when it loads; a worker forked after that waited forever
    # on its first prediction (libgomp is not fork-safe once its thread pool exists).
    model = tmp_path / "lgbm.joblib"
    models.save(models.lgbm_classifier(), model)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "iris.csv").write_text(iris_csv())
    argv = [sys.executable, "-m", "cdk_sklearn.cli", *_argv(model, tmp_path, "--id-column", "id")]
    argv[argv.index("--workers") + 1] = "2"
    child = subprocess.Popen(
        argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        _, err = child.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)  # the hung workers too
        child.communicate()
        pytest.fail("cdk-sklearn batch with a LightGBM model did not finish in 120 s")
    assert child.returncode == 0, err
    assert "150 rows: 150 answered, 0 refused" in err
