"""``cdk-sklearn cost`` end to end through the real CLI entry point."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from cdk_sklearn.cli import main

BASE = [
    "cost",
    "--requests-per-month",
    "2M",
    "--memory-mb",
    "1024",
    "--duration-ms",
    "5",
    "--cold-start-rate",
    "0",
    # The hand-computed figures below price the bare function on x86_64 (test_cost_monitoring.py
    # covers the defaults: arm64, alarms, dashboard, logs).
    "--architecture",
    "x86_64",
    "--no-monitoring",
    "--log-bytes-per-request",
    "0",
    "--custom-metrics",
    "0",
]


def _json(capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    assert main([*BASE, "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_lists_every_option_with_its_monthly_cost(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys)
    costs = {o["name"]: o["monthly_cost_usd"] for o in doc["options"]}
    assert set(costs) == {
        "lambda+http_api",
        "lambda+rest_api",
        "lambda+function_url",
        "sagemaker ml.t2.medium",
        "sagemaker ml.t3.medium",
        "sagemaker ml.m5.large",
        "sagemaker ml.c5.large",
        "sagemaker serverless",
        "lambda managed instances m7g.large",
    }
    # $0.40 requests + $0.166667 duration + $2.00 HTTP API; 730 h x $0.05
    assert costs["lambda+http_api"] == pytest.approx(2.566667, rel=1e-9)
    assert costs["sagemaker ml.t3.medium"] == pytest.approx(36.50, rel=1e-9)


def test_json_echoes_the_inputs_used(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "--architecture", "arm64", "--front-door", "http_api")
    assert doc["inputs"]["requests_per_month"] == 2e6
    assert doc["inputs"]["memory_mb"] == 1024
    assert doc["inputs"]["duration_ms"] == 5.0
    assert doc["inputs"]["architecture"] == "arm64"
    assert doc["inputs"]["front_doors"] == ["http_api"]
    assert doc["inputs"]["include_free_tier"] is False
    assert doc["region"] == "us-east-1"
    assert doc["prices"]["lambda.request"]["source"].startswith("https://")


def test_json_line_items_add_up_to_the_option_cost(capsys: pytest.CaptureFixture[str]) -> None:
    for option in _json(capsys)["options"]:
        assert sum(i["usd"] for i in option["line_items"]) == pytest.approx(
            option["monthly_cost_usd"], rel=1e-12
        )


def test_json_gives_break_evens_for_each_comparison(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "--front-door", "rest_api")
    rows = {(b["lambda"], b["versus"]): b for b in doc["break_even"]}
    assert len(rows) == 6
    # $83.95 / ($0.0000002 + $0.0000035 + $0.0000000833335)
    (n,) = rows[("lambda+rest_api", "sagemaker ml.m5.large")]["requests_per_month"]
    assert n == pytest.approx(83.95 / 0.0000037833335, rel=1e-9)
    assert rows[("lambda+rest_api", "sagemaker serverless")]["requests_per_month"] == []


def test_front_door_may_be_repeated(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "--front-door", "function_url", "--front-door", "http_api")
    assert [o["name"] for o in doc["options"]][:2] == ["lambda+function_url", "lambda+http_api"]


def test_include_free_tier_lowers_the_lambda_bill(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, "--front-door", "http_api", "--include-free-tier")
    costs = {o["name"]: o["monthly_cost_usd"] for o in doc["options"]}
    # requests (2M - 1M) x $0.20/1M = $0.20; 10,000 GB-s inside the free 400,000; HTTP API 2M x $1 = $2.00
    # (its 12-month free tier is not applied: accounts created after 2025-07-15 do not have it)
    assert costs["lambda+http_api"] == pytest.approx(2.20, rel=1e-9)


def test_text_report_shows_costs_savings_and_break_evens(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*BASE, "--front-door", "http_api"]) == 0
    out = capsys.readouterr().out
    assert "<- cheapest" in out
    assert "lambda+http_api vs sagemaker ml.t3.medium: Lambda saves 93.0%" in out
    assert "break even at 28.4M requests/month" in out
    assert "Assumptions:" in out


def test_plot_option_writes_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cost.png"
    assert main([*BASE, "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"Plot written to {out}" in capsys.readouterr().out


def test_plot_path_is_reported_in_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "c.png"
    assert _json(capsys, "--plot", str(out))["plot"] == str(out)


def _argv(overrides: dict[str, str], flags: list[str]) -> list[str]:
    values = {"--requests-per-month": "2M", "--memory-mb": "1024", "--duration-ms": "5", **overrides}
    return ["cost", *(part for item in values.items() for part in item), *flags]


@pytest.mark.parametrize(
    ("overrides", "flags", "message"),
    [
        ({"--requests-per-month": "-5"}, [], "requests per month must be >= 0, got '-5'"),
        ({"--requests-per-month": "lots"}, [], "got 'lots'"),
        ({"--memory-mb": "64"}, [], "from 128 to 10240 .*got 64"),
        ({"--duration-ms": "0"}, [], "duration must be > 0 ms"),
        ({"--cold-start-rate": "2"}, [], "cold-start rate .*got 2.0"),
        ({"--provisioned-concurrency": "1"}, ["--snapstart"], "SnapStart and provisioned concurrency"),
        ({"--plot": "cost.jpg"}, [], r"ending in \.png"),
    ],
)
def test_fails_with_one_line_and_exit_2(
    overrides: dict[str, str], flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_argv(overrides, flags)) == 2
    err = capsys.readouterr().err
    assert err.startswith("cdk-sklearn cost: error: ")
    assert len(err.strip().splitlines()) == 1
    assert re.search(message, err)


def test_fails_unknown_architecture_with_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*BASE, "--architecture", "sparc"])
    assert exc.value.code == 2
    assert "invalid choice: 'sparc'" in capsys.readouterr().err


def test_fails_without_requests_per_month(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["cost", "--memory-mb", "1024", "--duration-ms", "5"])
    assert exc.value.code == 2
    assert "--requests-per-month" in capsys.readouterr().err


def test_plot_without_matplotlib_names_the_extra(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ModuleNotFoundError
    assert main([*BASE, "--plot", str(tmp_path / "cost.png")]) == 2
    assert "pip install 'cdk-sklearn[plot]'" in capsys.readouterr().err


DEFAULTS = ["cost", "--requests-per-month", "2M", "--memory-mb", "1024", "--duration-ms", "5", "--json"]


def test_architecture_defaults_to_arm64_like_the_construct(capsys: pytest.CaptureFixture[str]) -> None:
    main(DEFAULTS)
    assert json.loads(capsys.readouterr().out)["inputs"]["architecture"] == "arm64"


def test_monitoring_is_counted_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    main(DEFAULTS)
    items = {i["name"]: i["usd"] for i in json.loads(capsys.readouterr().out)["options"][0]["line_items"]}
    # 5 alarm metrics x $0.10; one dashboard $3.00
    assert (items["CloudWatch alarms (5 alarm metrics)"], items["CloudWatch dashboard"]) == pytest.approx(
        (0.50, 3.00), rel=1e-9
    )


def test_no_monitoring_leaves_out_alarms_and_dashboard(capsys: pytest.CaptureFixture[str]) -> None:
    main([*DEFAULTS, "--no-monitoring"])
    names = [i["name"] for i in json.loads(capsys.readouterr().out)["options"][0]["line_items"]]
    assert [n for n in names if n.startswith("CloudWatch")] == [
        "CloudWatch custom metrics (5 EMF)",
        "CloudWatch Logs ingestion (900 B/request)",
    ]


def test_text_says_what_monitoring_it_counted(capsys: pytest.CaptureFixture[str]) -> None:
    main(DEFAULTS[:-1])
    assert (
        "count CloudWatch: 5 standard alarm metrics and 1 dashboard (the construct's monitoring"
        in capsys.readouterr().out
    )


def test_text_says_the_api_gateway_free_tier_is_not_applied(capsys: pytest.CaptureFixture[str]) -> None:
    main(DEFAULTS[:-1])
    assert "accounts created after 2025-07-15 get credits instead" in capsys.readouterr().out


def test_apigw_free_tier_flag_subtracts_a_million_requests(capsys: pytest.CaptureFixture[str]) -> None:
    main([*DEFAULTS, "--front-door", "http_api", "--apigw-free-tier"])
    items = {i["name"]: i["usd"] for i in json.loads(capsys.readouterr().out)["options"][0]["line_items"]}
    # (2M - 1M free) x $1.00/1M = $1.00
    assert items["API Gateway HTTP API"] == pytest.approx(1.00, rel=1e-9)


def test_batch_rows_price_lambda_against_batch_transform(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--batch-rows", "1M", "--per-row-ms", "0.02", "--json"]) == 0
    names = [o["name"] for o in json.loads(capsys.readouterr().out)["options"]]
    assert names[0] == "lambda batch (step functions)" and "batch transform ml.t3.medium" in names


def test_fails_with_exit_2_on_an_endpoint_comparison_without_memory(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["cost", "--requests-per-month", "2M", "--duration-ms", "5"]) == 2
    assert "--memory-mb" in capsys.readouterr().err
