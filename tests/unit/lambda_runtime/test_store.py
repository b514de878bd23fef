"""Fetching, verifying and loading model files: the digest is checked before anything is unpickled."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import sklearn

from lambda_runtime.config import Settings
from lambda_runtime.model import ModelLoadError
from lambda_runtime.store import load_model, verify_sha256
from tests.helpers import models
from tests.helpers.apigw_events import http_api_event
from tests.unit.lambda_runtime.conftest import invoke_app


class _RunsCodeWhenUnpickled:
    """A pickle payload that would create a file if it were ever unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def settings_for(path: Path | str, sha: str | None, **extra: str) -> Settings:
    env = {"MODEL_URI": str(path), **extra}
    if sha is not None:
        env["MODEL_SHA256"] = sha
    return Settings.from_environ(env)


def test_loads_a_joblib_model_and_describes_it(model_files: dict[str, Path]) -> None:
    path = model_files["random_forest"]
    model = load_model(settings_for(path, models.sha256(path.read_bytes())))
    assert model.estimator_class == "sklearn.ensemble._forest.RandomForestClassifier"
    assert model.n_features_in == 4
    assert model.classes == [0, 1, 2]
    assert model.methods == ("predict", "predict_proba")
    assert model.file_format == "joblib"
    assert model.size_bytes == path.stat().st_size


def test_accepts_a_file_uri_and_an_upper_case_digest(model_files: dict[str, Path]) -> None:
    path = model_files["logistic"]
    model = load_model(settings_for(f"file://{path}", models.sha256(path.read_bytes()).upper()))
    assert model.n_features_in == 4


def test_fails_on_a_digest_mismatch_without_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    path = tmp_path / "evil.joblib"
    path.write_bytes(pickle.dumps(_RunsCodeWhenUnpickled(marker)))
    with pytest.raises(ModelLoadError) as caught:
        load_model(settings_for(path, "a" * 64))
    assert not marker.exists()
    assert "failed its integrity check" in caught.value.public_message
    assert str(tmp_path) not in caught.value.public_message  # no paths shown to callers
    assert str(path) in caught.value.detail  # but the operator's log has it
    assert not caught.value.retryable


def test_the_digest_check_is_what_stands_between_a_file_and_unpickling(tmp_path: Path) -> None:
    # The same evil file with its true digest does run: proves the test above guards something real.
    marker = tmp_path / "code-ran"
    path = tmp_path / "evil.joblib"
    path.write_bytes(pickle.dumps(_RunsCodeWhenUnpickled(marker)))
    with pytest.raises(ModelLoadError, match="none of the methods"):
        load_model(settings_for(path, models.sha256(path.read_bytes())))
    assert marker.exists()


def test_fails_when_model_sha256_is_not_set(model_files: dict[str, Path]) -> None:
    with pytest.raises(ModelLoadError, match="MODEL_SHA256 is not set"):
        load_model(settings_for(model_files["logistic"], None))


def test_fails_when_model_uri_is_not_set() -> None:
    with pytest.raises(ModelLoadError, match="MODEL_URI is not set"):
        load_model(Settings.from_environ({}))


def test_fails_on_a_malformed_digest(model_files: dict[str, Path]) -> None:
    with pytest.raises(ModelLoadError, match="64 hexadecimal characters"):
        load_model(settings_for(model_files["logistic"], "abc"))


def test_fails_retryably_when_the_file_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError) as caught:
        load_model(settings_for(tmp_path / "absent.joblib", "0" * 64))
    assert caught.value.retryable


def test_fails_on_bytes_that_are_not_a_joblib_file(tmp_path: Path) -> None:
    path = tmp_path / "noise.joblib"
    path.write_bytes(b"definitely not a pickle")
    with pytest.raises(ModelLoadError, match="could not be deserialized with joblib"):
        load_model(settings_for(path, models.sha256(path.read_bytes())))


def test_fails_when_the_model_needs_a_module_that_is_not_installed(tmp_path: Path) -> None:
    path = tmp_path / "needs-module.joblib"
    # protocol-0 GLOBAL opcode naming a module that does not exist
    path.write_bytes(b"cnot_installed_anywhere\nEstimator\n.")
    with pytest.raises(ModelLoadError, match="'not_installed_anywhere'"):
        load_model(settings_for(path, models.sha256(path.read_bytes())))


def test_verify_sha256_passes_on_a_match() -> None:
    verify_sha256(b"abc", models.sha256(b"abc"))


def test_version_mismatch_warnings_are_kept(model_files: dict[str, Path], tmp_path: Path) -> None:
    # Rewrite the recorded training version inside the pickle: scikit-learn warns when loading it.
    data = model_files["logistic"].read_bytes()
    import sklearn

    old = sklearn.__version__.encode()
    assert old in data
    # Same length, so the pickle's string-length prefixes stay valid: "1.9.1" -> "0.000".
    tampered = data.replace(old, b"0." + b"0" * (len(old) - 2))
    path = tmp_path / "old.joblib"
    path.write_bytes(tampered)
    model = load_model(settings_for(path, models.sha256(tampered)))
    assert any("InconsistentVersionWarning" in w for w in model.load_warnings)


# -- skops ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def skops_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    import skops.io as sio

    path = tmp_path_factory.mktemp("skops") / "model.skops"
    sio.dump(models.scaled_pipeline(), path)
    return path, models.sha256(path.read_bytes())


def test_loads_a_skops_model_with_its_default_trusted_types(skops_file: tuple[Path, str]) -> None:
    path, digest = skops_file
    model = load_model(settings_for(path, digest, MODEL_FORMAT="skops"))
    assert model.file_format == "skops"
    assert model.estimator_class == "sklearn.pipeline.Pipeline"


@pytest.fixture(scope="module")
def custom_skops_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    import skops.io as sio

    path = tmp_path_factory.mktemp("skops") / "custom.skops"
    sio.dump(models.custom_function_pipeline(), path)
    return path, models.sha256(path.read_bytes())


def test_fails_on_a_skops_model_with_untrusted_types(custom_skops_file: tuple[Path, str]) -> None:
    path, digest = custom_skops_file
    with pytest.raises(ModelLoadError, match="SKOPS_TRUSTED_TYPES") as caught:
        load_model(settings_for(path, digest, MODEL_FORMAT="skops"))
    assert "tests.helpers.models.shift" in caught.value.public_message


def test_skops_types_listed_in_the_environment_are_trusted(custom_skops_file: tuple[Path, str]) -> None:
    path, digest = custom_skops_file
    model = load_model(
        settings_for(path, digest, MODEL_FORMAT="skops", SKOPS_TRUSTED_TYPES=" tests.helpers.models.shift , ")
    )
    assert model.methods == ("predict", "predict_proba", "decision_function")


def test_the_format_comes_from_model_format_not_the_file_name(
    skops_file: tuple[Path, str], tmp_path: Path
) -> None:
    # A skops file whose name says joblib: the runtime follows MODEL_FORMAT, as the construct set it.
    renamed = tmp_path / "model.joblib"
    renamed.write_bytes(skops_file[0].read_bytes())
    model = load_model(settings_for(renamed, skops_file[1], MODEL_FORMAT="skops"))
    assert model.file_format == "skops"


# -- a model saved by another scikit-learn version --------------------------------------------------

INSTALLED = sklearn.__version__
TRAINED = "1.7.2" if INSTALLED != "1.7.2" else "1.6.1"


def write_model(tmp_path: Path, data: bytes) -> tuple[Path, str]:
    path = tmp_path / "model.joblib"
    path.write_bytes(data)
    return path, models.sha256(data)


def load_failure(tmp_path: Path, data: bytes, **env: str) -> ModelLoadError:
    path, digest = write_model(tmp_path, data)
    with pytest.raises(ModelLoadError) as caught:
        load_model(settings_for(path, digest, **env))
    return caught.value


def renamed(data: bytes, old: str, new: str) -> bytes:
    # Same length, so the pickle's string-length prefixes and frame sizes stay valid.
    assert len(old) == len(new) and old.encode() in data
    return data.replace(old.encode(), new.encode())


def names_both_versions(message: str, trained: str = TRAINED) -> bool:
    return (
        f"trained with scikit-learn {trained}, but the function has scikit-learn {INSTALLED}" in message
        and f"pins scikit-learn=={trained}, or retrain the model with scikit-learn {INSTALLED}" in message
    )


def test_fails_naming_both_versions_when_a_scikit_learn_module_has_moved(tmp_path: Path) -> None:
    # HistGradientBoosting pickles its loss from the compiled module sklearn._loss._loss; a version
    # that moved it fails on that module.
    data = renamed(models.dump_bytes(models.nan_tolerant()), "sklearn._loss._loss", "sklearn._loss._lost")
    error = load_failure(tmp_path, data, MODEL_SKLEARN_VERSION=TRAINED)
    assert names_both_versions(error.public_message)
    assert "'sklearn._loss._lost'" in error.public_message
    assert "add the package" not in error.public_message


def test_fails_naming_both_versions_for_a_module_pickled_under_its_short_name(tmp_path: Path) -> None:
    # Some builds pickle compiled classes under the bare module name: "No module named '_loss'".
    error = load_failure(tmp_path, b"c_loss\nCyHalfSquaredError\n)R.", MODEL_SKLEARN_VERSION=TRAINED)
    assert names_both_versions(error.public_message)
    assert "add the package" not in error.public_message


def test_fails_naming_both_versions_when_a_class_is_gone(tmp_path: Path) -> None:
    error = load_failure(
        tmp_path, b"csklearn.linear_model\nRemovedEstimator\n)R.", MODEL_SKLEARN_VERSION=TRAINED
    )
    assert names_both_versions(error.public_message)
    assert "'RemovedEstimator'" in error.public_message


def test_fails_naming_the_version_recorded_in_the_file_when_the_environment_has_none(
    tmp_path: Path,
) -> None:
    # The scaler unpickles first and warns with the version it was saved with; then the
    # logistic regression's module is not found.
    data = models.dump_bytes(models.scaled_pipeline())
    recorded = "0." + "0" * (len(INSTALLED) - 2)
    data = renamed(data, INSTALLED, recorded)
    data = renamed(data, "sklearn.linear_model._logistic", "sklearn.linear_model._logistiX")
    error = load_failure(tmp_path, data)
    assert names_both_versions(error.public_message, trained=recorded)


def test_fails_pointing_at_a_missing_third_party_package_even_across_versions(tmp_path: Path) -> None:
    error = load_failure(
        tmp_path, b"cgbm_package_not_installed\nBoostedClassifier\n)R.", MODEL_SKLEARN_VERSION=TRAINED
    )
    assert error.public_message == (
        "the model needs the Python module 'gbm_package_not_installed', which is not installed in the "
        "function; add the package that provides it to the layer"
    )


def test_fails_without_blaming_versions_when_they_are_the_same(tmp_path: Path) -> None:
    error = load_failure(tmp_path, b"csklearn._gone\nThing\n)R.", MODEL_SKLEARN_VERSION=INSTALLED)
    assert "trained with" not in error.public_message
    assert "needs the Python module 'sklearn._gone'" in error.public_message


def test_fails_suspecting_versions_when_the_training_version_is_unknown(tmp_path: Path) -> None:
    error = load_failure(tmp_path, b"csklearn._gone\nThing\n)R.")
    assert error.public_message.startswith(
        f"the model refers to the module 'sklearn._gone', which scikit-learn {INSTALLED} in the function "
        "does not have, so it was probably saved with another scikit-learn version"
    )


def test_a_version_failure_is_the_503_on_health(tmp_path: Path) -> None:
    data = renamed(models.dump_bytes(models.nan_tolerant()), "sklearn._loss._loss", "sklearn._loss._lost")
    path, _ = write_model(tmp_path, data)
    app, _ = models.app_for(path, MODEL_SKLEARN_VERSION=TRAINED)
    status, body, _ = invoke_app(app, http_api_event("GET", "/health"))
    assert status == 503
    assert names_both_versions(body["error"])
