"""``cdk-sklearn batch``: a folder scored with the batch entry point's code, in the same layout."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cdk_sklearn.cli import main
from cdk_sklearn.cli.batch import _split_for
from lambda_runtime import contract
from tests.helpers import models
from tests.helpers.batch import iris_csv

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
    err = io.StringIO()
    out = io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        code = main(argv)
    finally:
        sys.stdout, sys.stderr = saved
    return folder / "out", code, out.getvalue() + "\n" + err.getvalue()


def test_exits_0(scored):
    assert scored[1] == 0


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
