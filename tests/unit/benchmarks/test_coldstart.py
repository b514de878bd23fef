from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from benchmarks.coldstart import PHASES, Variant, cold_start_once, cold_starts
from benchmarks.layers import function_dir
from benchmarks.targets import host_target

PROJECT = Path(__file__).resolve().parents[3]


def _ours(tmp_path: Path, venv_site: Path, sha: str | None = None) -> Variant:
    code = function_dir(PROJECT / "lambda_runtime", tmp_path / "function")

    def env(model: str) -> dict[str, str]:
        return {
            "MODEL_URI": model,
            "MODEL_SHA256": sha or hashlib.sha256(Path(model).read_bytes()).hexdigest(),
        }

    return Variant(
        "cdk-sklearn",
        (code, venv_site),
        model_env=env,
        handler="lambda_runtime.handler:handler",
        entry_module="lambda_runtime.handler",
    )


def test_cold_start_of_our_handler_splits_into_phases_that_add_up(tmp_path, venv_site, small_models):
    run = cold_start_once(_ours(tmp_path, venv_site), host_target(), small_models["scaler-logreg"])
    assert set(run.phases) == set(PHASES)
    assert run.phases["interpreter"] > 0 and run.phases["imports"] > run.phases["interpreter"]
    assert run.phases["model"] > 0
    assert sum(run.phases.values()) == pytest.approx(run.total)


def test_floor_imports_numpy_and_reads_the_model(venv_site, small_models):
    floor = Variant("floor", (venv_site,))
    [result] = cold_starts(
        [floor], host_target(), [small_models["mlp-100x3"]], runs=1, progress=lambda _: None
    )
    assert result.phase("imports") > 0
    assert result.phase("first_prediction") == pytest.approx(0, abs=1e-3)


def test_fails_when_the_handler_does_not_answer_200(tmp_path, venv_site, small_models):
    wrong_sha = "0" * 64
    with pytest.raises(RuntimeError, match=r"cdk-sklearn cold start on scaler-logreg .*answered 503"):
        cold_start_once(_ours(tmp_path, venv_site, wrong_sha), host_target(), small_models["scaler-logreg"])


def test_fails_with_the_probe_output_when_the_handler_cannot_be_imported(tmp_path, small_models):
    empty = tmp_path / "empty"
    empty.mkdir()
    variant = Variant("nothing", (empty,), handler="no_such_module:handler")
    with pytest.raises(RuntimeError, match=r"(?s)gave no result.*No module named 'no_such_module'"):
        cold_start_once(variant, host_target(), small_models["scaler-logreg"])
    shutil.rmtree(empty)
