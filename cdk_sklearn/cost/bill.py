"""A bill as data: line items, each linear in the requests a month, and the option they make up."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LineItem:
    """One line of a bill: ``fixed_usd + usd_per_request * max(0, N - free_requests)``.

    ``free_requests`` expresses a free allowance in requests of ``N`` (a GB-s allowance is
    divided by the GB-s each request uses).
    """

    name: str
    fixed_usd: float = 0.0
    usd_per_request: float = 0.0
    free_requests: float = 0.0

    def cost(self, requests_per_month: float) -> float:
        """USD this line bills for ``requests_per_month``."""
        return self.fixed_usd + self.usd_per_request * max(0.0, requests_per_month - self.free_requests)


@dataclass(frozen=True)
class OptionCost:
    """One way to serve the model, as the line items of its monthly bill.

    Attributes
    ----------
    name
        e.g. ``"lambda+http_api"``, ``"sagemaker ml.t3.medium"``, ``"sagemaker serverless"``.
    kind
        ``"lambda"``, ``"sagemaker"`` (real-time endpoint), ``"sagemaker-serverless"`` or
        ``"lambda-managed-instances"``.
    line_items
        The bill, one entry per charge.
    detail
        What the bill knows that its price leaves out, in a few words (e.g. the instances always on).
    """

    name: str
    kind: str
    line_items: tuple[LineItem, ...]
    detail: str = ""

    def monthly_usd(self, requests_per_month: float) -> float:
        """Total USD a month at ``requests_per_month``."""
        return sum(item.cost(requests_per_month) for item in self.line_items)

    def breakdown(self, requests_per_month: float) -> dict[str, float]:
        """USD per line item at ``requests_per_month``, in bill order."""
        return {item.name: item.cost(requests_per_month) for item in self.line_items}
