"""The bill of the Lambda function behind a front door: requests, duration, cold starts (INIT or
SnapStart), provisioned concurrency, the front door's requests and CloudWatch."""

from __future__ import annotations

from typing import Final

from cdk_sklearn.cost.bill import LineItem, OptionCost
from cdk_sklearn.cost.cloudwatch import cloudwatch_items
from cdk_sklearn.cost.prices import HOURS_PER_MONTH, price
from cdk_sklearn.cost.workload import FRONT_DOORS, Workload

_FRONT_DOOR_PRICE: Final[dict[str, str]] = {
    "http_api": "apigw.http.request",
    "rest_api": "apigw.rest.request",
    "function_url": "lambda.function_url.request",
}
_FRONT_DOOR_LABEL: Final[dict[str, str]] = {
    "http_api": "API Gateway HTTP API",
    "rest_api": "API Gateway REST API",
    "function_url": "Lambda Function URL",
}
_SNAPSTART_MINIMUM_HOURS: Final = 3.0


def lambda_option(workload: Workload, front_door: str) -> OptionCost:
    """The bill of the Lambda function behind ``front_door``.

    Raises
    ------
    ValueError
        If ``front_door`` is not one of :data:`~cdk_sklearn.cost.workload.FRONT_DOORS`.
    """
    if front_door not in FRONT_DOORS:
        raise ValueError(f"front door must be one of {', '.join(FRONT_DOORS)}, got {front_door!r}")
    w = workload
    items = [*_invocation_items(w), *_provisioned_items(w), front_door_item(w, front_door)]
    items.extend(cloudwatch_items(w))
    return OptionCost(name=f"lambda+{front_door}", kind="lambda", line_items=tuple(items))


def front_door_item(workload: Workload, front_door: str) -> LineItem:
    """The requests of ``front_door`` (API Gateway's 12-month free tier only with ``apigw_free_tier``);
    the same line whether on-demand Lambda or Lambda Managed Instances answers behind it."""
    door_free = workload.apigw_free_tier and front_door != "function_url"
    return LineItem(
        _FRONT_DOOR_LABEL[front_door],
        usd_per_request=price(_FRONT_DOOR_PRICE[front_door]),
        free_requests=price("apigw.free.requests") if door_free else 0.0,
    )


def _on_demand_share(w: Workload) -> float:
    # The share of requests that provisioned concurrency does not serve.
    pc_share = w.provisioned_hours / HOURS_PER_MONTH if w.provisioned_concurrency > 0 else 0.0
    return 1.0 - pc_share


def _invocation_items(w: Workload) -> list[LineItem]:
    """Requests, duration, and what cold starts cost (INIT, or SnapStart's restore and cache)."""
    gb = w.memory_gb
    on_demand = _on_demand_share(w)
    duration_price = price(f"lambda.duration.{w.architecture}")
    # Free tier: always free, but never for a function with provisioned concurrency.
    free = w.include_free_tier and w.provisioned_concurrency == 0
    invoke_gb_s = on_demand * gb * w.duration_ms / 1000.0
    cold_ms = w.snapstart_restore_ms if w.snapstart else w.init_duration_ms
    cold_gb_s = on_demand * w.cold_start_rate * gb * cold_ms / 1000.0
    # The 400,000 free GB-s cover invoke and INIT/restore duration alike; expressed in requests
    # the allowance is the same for both lines, so splitting it keeps each line exact.
    gb_s_per_request = invoke_gb_s + cold_gb_s
    free_duration_requests = (
        price("lambda.free.gb_seconds") / gb_s_per_request if free and gb_s_per_request > 0 else 0.0
    )
    items = [
        LineItem(
            "Lambda requests",
            usd_per_request=price("lambda.request"),
            free_requests=price("lambda.free.requests") if free else 0.0,
        ),
        LineItem(
            "Lambda duration",
            usd_per_request=invoke_gb_s * duration_price,
            free_requests=free_duration_requests,
        ),
    ]
    if not w.snapstart:
        items.append(
            LineItem(
                "Lambda INIT duration",
                usd_per_request=cold_gb_s * duration_price,
                free_requests=free_duration_requests,
            )
        )
        return items
    cached_hours = max(HOURS_PER_MONTH, _SNAPSTART_MINIMUM_HOURS)
    items += [
        LineItem(
            "Lambda SnapStart restore duration",
            usd_per_request=cold_gb_s * duration_price,
            free_requests=free_duration_requests,
        ),
        LineItem(
            "Lambda SnapStart cache",
            fixed_usd=w.snapstart_versions * gb * cached_hours * 3600.0 * price("lambda.snapstart.cache"),
        ),
        LineItem(
            "Lambda SnapStart restore",
            usd_per_request=on_demand * w.cold_start_rate * gb * price("lambda.snapstart.restore"),
        ),
    ]
    return items


def _provisioned_items(w: Workload) -> list[LineItem]:
    """Provisioned concurrency: the environments held, and the duration of the requests they serve."""
    if w.provisioned_concurrency <= 0:
        return []
    gb = w.memory_gb
    pc_share = 1.0 - _on_demand_share(w)
    return [
        LineItem(
            "Lambda provisioned concurrency held",
            fixed_usd=w.provisioned_concurrency
            * gb
            * w.provisioned_hours
            * 3600.0
            * price(f"lambda.pc.held.{w.architecture}"),
        ),
        LineItem(
            "Lambda provisioned duration",
            usd_per_request=pc_share
            * gb
            * w.duration_ms
            / 1000.0
            * price(f"lambda.pc.duration.{w.architecture}"),
        ),
    ]
