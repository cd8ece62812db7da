"""Economics section of a suite: what a review, an automated error and an automated case are worth.

Shared by calibration (cost-optimal threshold) and projection (net monthly value).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Usd = Annotated[float, Field(ge=0, allow_inf_nan=False)]
"""A dollar figure: finite (an infinite cost passed validation, then broke the run after its calls were paid)."""


class EconomicsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    review_cost: float = Field(6.0, ge=0, allow_inf_nan=False, description="USD for a human to handle one escalated "
                               "case.")
    review_minutes: float = Field(6.0, ge=0, allow_inf_nan=False, description="Reviewer minutes per escalated case.")
    error_cost: float = Field(120.0, ge=0, allow_inf_nan=False, description="USD cost of one automated decision that "
                              "is not good.")
    error_cost_by_segment: dict[str, Usd] = Field(
        default_factory=dict, description="Per-segment override of error_cost (USD)."
    )
    value_per_automated_case: float = Field(
        6.0, ge=0, allow_inf_nan=False, description="USD saved by each case decided without a human (usually = review_cost)."
    )

    def error_cost_for(self, segment: str) -> float:
        return self.error_cost_by_segment.get(segment, self.error_cost)

    def assumptions(self) -> str:
        """The dollar figures every cost, value and cost-optimal threshold rests on, for the line printed
        beside them: a suite without an ``economics:`` section gets evalkit's defaults, which must not
        pass for the user's own numbers."""
        by_segment = "".join(f", {seg} ${cost:,.2f}" for seg, cost in sorted(self.error_cost_by_segment.items()))
        return (f"a review ${self.review_cost:,.2f} ({self.review_minutes:g} min), an automated decision that is "
                f"not good ${self.error_cost:,.2f}{by_segment}, an automated case worth "
                f"${self.value_per_automated_case:,.2f} (the suite's `economics:`; evalkit's defaults where it "
                "sets none)")
