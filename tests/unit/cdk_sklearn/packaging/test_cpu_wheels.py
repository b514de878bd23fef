"""xgboost-cpu where a wheel exists for the target, else the full wheel without its GPU-only dependencies."""

from __future__ import annotations

import pytest

from cdk_sklearn.packaging.cpu_wheels import plan_cpu_wheels, runtime_dependencies, wheel_metadata
from cdk_sklearn.packaging.target import LambdaTarget

TARGET = LambdaTarget("python3.11", "x86_64")
XGBOOST_METADATA = {
    "name": "xgboost",
    "requires_dist": [
        "numpy",
        "nvidia-nccl-cu12; platform_system == 'Linux'",
        "scipy",
        "pandas; extra == 'pandas'",
    ],
}


def _index(**wheels):
    """A stand-in for pip: requirement string -> metadata, absent when there is no wheel."""
    return lambda requirement, _target: wheels.get(requirement)


def test_cpu_build_is_kept_when_it_has_a_wheel():
    plan = plan_cpu_wheels(
        ("scikit-learn", "xgboost-cpu==3.2.0"), TARGET, _index(**{"xgboost-cpu==3.2.0": {}})
    )
    assert plan.requirements == ("scikit-learn", "xgboost-cpu==3.2.0")
    assert plan.without_dependencies == () and plan.notes == ()


def test_full_wheel_without_gpu_dependencies_when_the_cpu_build_has_none():
    plan = plan_cpu_wheels(
        ("scikit-learn", "xgboost-cpu==2.0.3"), TARGET, _index(**{"xgboost==2.0.3": XGBOOST_METADATA})
    )
    assert plan.requirements == ("scikit-learn", "numpy", "scipy")
    assert plan.without_dependencies == ("xgboost==2.0.3",)
    assert plan.notes == (
        "xgboost-cpu==2.0.3 has no wheel for python3.11 on Amazon Linux 2 (glibc 2.26, x86_64): "
        "installing xgboost==2.0.3 without its GPU-only dependencies (nvidia-nccl-cu12), which CPU "
        "prediction never loads",
    )


def test_requirement_is_left_for_pip_to_explain_when_neither_build_exists():
    plan = plan_cpu_wheels(("xgboost-cpu==0.9",), TARGET, _index())
    assert plan.requirements == ("xgboost-cpu==0.9",) and plan.without_dependencies == ()


def test_other_requirements_are_never_looked_up():
    def refuse(requirement, target):
        raise AssertionError(f"looked up {requirement}")

    assert plan_cpu_wheels(("scikit-learn==1.9.1", "pandas"), TARGET, refuse).requirements == (
        "scikit-learn==1.9.1",
        "pandas",
    )


def test_extras_and_nvidia_packages_are_not_runtime_dependencies():
    kept, dropped = runtime_dependencies(XGBOOST_METADATA)
    assert kept == ["numpy", "scipy"] and dropped == ["nvidia-nccl-cu12"]


@pytest.mark.slow
def test_pip_reports_which_xgboost_cpu_wheels_exist():
    # Facts of PyPI checked by hand: xgboost-cpu starts at 2.1.1 and 3.x has no manylinux2014 wheel.
    assert wheel_metadata("xgboost-cpu==2.1.4", LambdaTarget("python3.13", "arm64")) is not None
    assert wheel_metadata("xgboost-cpu==2.1.0", LambdaTarget("python3.13", "x86_64")) is None
    assert wheel_metadata("xgboost-cpu==3.2.0", TARGET) is None


def test_note_says_the_full_wheel_is_used_when_it_has_no_gpu_dependencies():
    metadata = {"requires_dist": ["numpy", "scipy"]}
    plan = plan_cpu_wheels(("xgboost-cpu==2.0.3",), TARGET, _index(**{"xgboost==2.0.3": metadata}))
    assert plan.notes[0].endswith(
        "installing xgboost==2.0.3 (the full wheel: its library may hold GPU code, hundreds of MB on x86_64)"
    )
