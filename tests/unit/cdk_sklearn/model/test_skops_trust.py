"""Untrusted types of a .skops file, decided at synth."""

from __future__ import annotations

import pytest
import skops.io

from cdk_sklearn.model.skops_trust import UntrustedTypesError, check_trusted, skops_untrusted_types
from tests.helpers import models


@pytest.fixture(scope="module")
def custom_skops(tmp_path_factory):
    path = tmp_path_factory.mktemp("skops") / "custom.skops"
    skops.io.dump(models.custom_function_pipeline(), path)
    return path


def test_lists_the_users_function_as_untrusted(custom_skops):
    assert skops_untrusted_types(custom_skops) == ("tests.helpers.models.shift",)


def test_fails_listing_untrusted_types_and_the_prop_to_set(custom_skops):
    with pytest.raises(UntrustedTypesError, match=r"skops_trusted_types=\['tests\.helpers\.models\.shift'\]"):
        check_trusted(custom_skops, [])


def test_passes_when_every_untrusted_type_is_listed(custom_skops):
    assert check_trusted(custom_skops, ["tests.helpers.models.shift"]) == ("tests.helpers.models.shift",)


def test_model_of_default_trusted_types_has_none(tmp_path):
    path = tmp_path / "logistic.skops"
    skops.io.dump(models.logistic(), path)
    assert skops_untrusted_types(path) == ()
