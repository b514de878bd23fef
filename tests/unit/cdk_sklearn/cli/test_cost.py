"""``cdk-sklearn cost`` end to end through the real CLI entry point: the summary first, the full tables
behind ``--details``, defaults from the construct or from a cdk.json environment (issue 23, friction 10).

Figures are computed here by hand from the price table's list prices, never read back from the code."""

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
        "managed instances+http_api",
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
    assert main([*BASE, "--front-door", "http_api", "--details"]) == 0
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


def test_fails_with_batch_rows_and_requests_per_month_together(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["cost", "--requests-per-month", "1M", "--batch-rows", "1M"])
    assert exc.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


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
        "CloudWatch Logs ingestion (950 B/request)",
    ]


def test_text_says_what_monitoring_it_counted(capsys: pytest.CaptureFixture[str]) -> None:
    main([*DEFAULTS[:-1], "--details"])
    assert (
        "count CloudWatch: 5 standard alarm metrics and 1 dashboard (the construct's monitoring"
        in capsys.readouterr().out
    )


def test_text_says_the_api_gateway_free_tier_is_not_applied(capsys: pytest.CaptureFixture[str]) -> None:
    main([*DEFAULTS[:-1], "--details"])
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


# -- the summary: the answer first ---------------------------------------------------------------


def _text(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    assert main(["cost", *argv]) == 0
    return capsys.readouterr().out.rstrip("\n").splitlines()


def test_needs_no_arguments_and_answers_in_at_most_15_lines(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _text(capsys)
    assert len(lines) <= 15
    assert lines[0].startswith("This endpoint (the construct's defaults): Lambda 1024 MB arm64 + HTTP API")
    rows = [line.split()[0] for line in lines if re.match(r"^ +[0-9.]+[kMB]? +\$", line)]
    assert rows == ["100k", "1M", "10M", "100M"]


def test_memory_and_duration_default_to_the_construct_and_a_stated_assumption(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from lambda_runtime.limits import DEFAULT_MEMORY_MB

    assert main(["cost", "--requests-per-month", "1M", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["inputs"]["memory_mb"], doc["inputs"]["duration_ms"]) == (DEFAULT_MEMORY_MB, 10.0)
    assert doc["this_endpoint"]["duration_assumed"] is True


def test_the_summary_says_the_duration_is_assumed_and_how_to_measure_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = "\n".join(_text(capsys, "--requests-per-month", "1M"))
    assert "10 ms per prediction (assumed, see below)" in text
    assert "`cdk-sklearn serve` logs each request's PredictionLatency" in text


def test_a_given_duration_is_not_called_an_assumption(capsys: pytest.CaptureFixture[str]) -> None:
    text = "\n".join(_text(capsys, "--requests-per-month", "1M", "--duration-ms", "5"))
    assert "assumed" not in text and "is an assumption" not in text


def test_summary_row_prices_this_endpoint_and_the_cheapest_alternative_by_hand(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # BASE at 2M: Lambda + HTTP API $0.40 requests + $0.166667 duration + $2.00 API = $2.57;
    # SageMaker Serverless 2M x 0.005 s x 1 GB x $0.00002 = $0.20
    (row,) = (line for line in _text(capsys, *BASE[1:]) if line.lstrip().startswith("2M "))
    assert row.split()[:5] == ["2M", "$2.57", "sagemaker", "serverless", "$0.2000"]


def test_the_cheapest_alternative_carries_its_caveats_next_to_its_price(
    capsys: pytest.CaptureFixture[str],
) -> None:
    (row,) = (line for line in _text(capsys, *BASE[1:]) if line.lstrip().startswith("2M "))
    assert "sagemaker serverless $0.2000 (cold starts of seconds; no HTTPS URL of its own" in row
    assert "(an HTTP API in front: +$1.00/M); its CloudWatch not counted)" in row


def test_summary_gives_the_break_even_with_the_cheapest_instance_by_hand(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # $36.50 a month / ($0.20 + $0.0833335 + $1.00 per million requests) = 28.4M
    lines = _text(capsys, *BASE[1:])
    assert "  sagemaker ml.t3.medium (from $36.50 a month) costs less above 28.4M requests/month" in lines


def test_summary_gives_the_break_even_with_lambda_managed_instances_by_hand(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # At 4,096 MB the construct's managed instances are 3 environments of 1 vCPU (4 GiB per vCPU) on
    # 3 x m7g.large: $0.0816/h x 1.15 (fee) x 730 h x 3 = $205.5096; the Logs endpoint in 3 zones
    # $0.01/h x 3 x 730 h = $21.90; flow logs of 6 interfaces, 10 flows x 4,380 windows x 130 B
    # = 0.0318178 GB x $0.50 = $0.0159: $227.4255 a month. Per million requests $0.20 + the HTTP API
    # $1.00 against Lambda's $0.20 + 4 GB x 0.005 s x $16.6667 + $1.00 = $1.533334: the difference
    # $0.333334/M crosses $227.4255 at 682M (below the 2.2 billion the floor's 6 slots serve at 5 ms).
    lines = _text(capsys, *BASE[1:], "--memory-mb", "4096")
    expected = "  managed instances+http_api (from $227.43 a month) costs less above 682M requests/month"
    assert expected in lines


def test_summary_says_when_managed_instances_never_pay_off_by_hand(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # At 1,024 MB Lambda's duration is 1 GB x 0.005 s x $16.6667 = $0.0833/M above what managed
    # instances bill per request: $227.4255 / $0.0833335/M = 2.73 billion requests, beyond the 2.21
    # billion the floor serves; past that each request buys 0.005 s / 2,520 CPU-s of half an
    # m7g.large-hour ($0.04692): $0.0931/M, more than $0.0833/M, so the lines never cross.
    lines = _text(capsys, *BASE[1:])
    assert (
        "  managed instances+http_api (from $227.43 a month) costs more than this endpoint at every volume"
        in lines
    )


def test_several_volumes_give_one_row_each(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [*BASE[3:], "--requests-per-month", "1M,3M"]
    rows = [line.split()[:2] for line in _text(capsys, *argv) if re.match(r"^ +[0-9.]+M +\$", line)]
    # 1M: $0.20 + $0.0833 + $1.00 = $1.28; 3M: three times that, $3.85
    assert rows == [["1M", "$1.28"], ["3M", "$3.85"]]


def test_json_with_several_volumes_has_a_document_per_volume(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", *BASE[3:], "--requests-per-month", "1M,3M", "--json"]) == 0
    docs = json.loads(capsys.readouterr().out)["volumes"]
    assert [doc["inputs"]["requests_per_month"] for doc in docs] == [1e6, 3e6]


def test_details_put_each_alternatives_caveat_next_to_its_price(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _text(capsys, *BASE[1:], "--details")
    (row,) = (line for line in lines if line.split()[:3] == ["sagemaker", "ml.t3.medium", "$36.50"])
    caveat = "one instance always on, capacity not checked, its CloudWatch not counted"
    assert " ".join(row.split()[2:]) == f"$36.50 {caveat}"


def test_details_list_the_caveats_of_each_kind_of_alternative_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = _text(capsys, *BASE[1:], "--details")
    caveats = lines[lines.index("Caveats of the alternatives:") + 1 :]
    labels = [line.split(":")[0].strip() for line in caveats[: caveats.index("")]]
    assert labels == [
        "lambda+function_url",
        "sagemaker instances",
        "sagemaker serverless",
        "managed instances+http_api",
    ]


def test_the_summary_does_not_point_to_details_when_they_follow(capsys: pytest.CaptureFixture[str]) -> None:
    assert not any("--details" in line for line in _text(capsys, *BASE[1:], "--details"))


# -- --env: an environment of the app, read through the endpoint's props --------------------------


@pytest.fixture(scope="module")
def app_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.helpers import models

    folder = tmp_path_factory.mktemp("app")
    (folder / "models").mkdir()
    models.save(models.logistic(), folder / "models" / "m.joblib")
    environments = {
        "big": {
            "model_path": "models/m.joblib",
            "memory_size": 2048,
            "architecture": "x86_64",
            "front_door": "function_url",
            "auth": "iam",
            "cold_start": {"strategy": "snapstart"},
            "monitoring": False,
        }
    }
    (folder / "cdk.json").write_text(
        json.dumps({"app": "python app.py", "context": {"environments": environments}})
    )
    return folder


def _env_json(capsys: pytest.CaptureFixture[str], folder: Path, *argv: str) -> dict:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        assert main(["cost", "--requests-per-month", "1M", "--json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_env_reads_memory_architecture_front_door_and_cold_start_from_cdk_json(
    app_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _env_json(capsys, app_folder, "--env", "big")
    inputs = doc["inputs"]
    assert (inputs["memory_mb"], inputs["architecture"], inputs["snapstart"], inputs["monitoring"]) == (
        2048,
        "x86_64",
        True,
        False,
    )
    assert inputs["front_doors"][0] == "function_url"
    assert doc["this_endpoint"]["option"] == "lambda+function_url"
    assert doc["this_endpoint"]["source"] == "cdk.json environment big"


def test_flags_given_override_the_environment(app_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _env_json(capsys, app_folder, "--env", "big", "--memory-mb", "512")
    assert doc["inputs"]["memory_mb"] == 512


def test_fails_with_exit_2_when_env_names_no_environment(
    app_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(app_folder)
        assert main(["cost", "--env", "prod"]) == 2
    assert "--env prod: unknown environment 'prod'; allowed: big" in capsys.readouterr().err


def test_fails_with_exit_2_when_env_is_given_without_a_cdk_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        assert main(["cost", "--env", "prod"]) == 2
    assert f"--env prod: no cdk.json in {tmp_path}" in capsys.readouterr().err


def test_the_default_front_door_is_the_constructs() -> None:
    from cdk_sklearn.cost.workload import DEFAULT_FRONT_DOOR
    from cdk_sklearn.front_door import FrontDoorProps

    assert FrontDoorProps().front_door == DEFAULT_FRONT_DOOR
