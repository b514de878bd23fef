"""Without a CPython of the runtime's version, synth says so in one stderr line, once."""

from __future__ import annotations

import pytest

from cdk_sklearn.packaging import build
from cdk_sklearn.packaging.build import resolve_bytecode
from cdk_sklearn.packaging.target import LambdaTarget

TARGET = LambdaTarget("python3.13", "arm64")


@pytest.fixture
def no_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "find_interpreter", lambda version, explicit=None: None)
    monkeypatch.setattr(build, "_reported_without_bytecode", set())


@pytest.mark.usefixtures("no_interpreter")
def test_notice_is_one_line_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    resolve_bytecode(TARGET, None)
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1


@pytest.mark.usefixtures("no_interpreter")
def test_notice_names_the_three_fixes(capsys: pytest.CaptureFixture[str]) -> None:
    resolve_bytecode(TARGET, None)
    err = capsys.readouterr().err
    for fix in (
        "uv python install 3.13",
        "pyenv install 3.13",
        "bytecode_python=",
        "CDK_SKLEARN_BYTECODE_PYTHON=",
    ):
        assert fix in err


@pytest.mark.usefixtures("no_interpreter")
def test_notice_gives_the_measured_cold_start_cost(capsys: pytest.CaptureFixture[str]) -> None:
    resolve_bytecode(TARGET, None)
    assert "2.1 s instead of 1.0 s" in capsys.readouterr().err


@pytest.mark.usefixtures("no_interpreter")
def test_notice_is_printed_once_per_python_version(capsys: pytest.CaptureFixture[str]) -> None:
    for architecture in ("arm64", "x86_64", "arm64"):
        resolve_bytecode(LambdaTarget("python3.13", architecture), None)
    assert len(capsys.readouterr().err.splitlines()) == 1


@pytest.mark.usefixtures("no_interpreter")
def test_notice_is_not_a_python_warning(recwarn: pytest.WarningsRecorder) -> None:
    resolve_bytecode(TARGET, None)
    assert len(recwarn) == 0


def test_cost_figures_are_the_readmes() -> None:
    from tests.conftest import PROJECT_DIR

    table = (PROJECT_DIR / "docs" / "readme" / "layer.md").read_text()
    assert "| iris demo (StandardScaler + LogisticRegression) | 1.6 kB | 1.03 s | 1.03 s | 2.14 s |" in table
