"""The refund policy: clauses (rendered into prompts) and the same policy as code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True, kw_only=True)
class Clause:
    id: str
    title: str
    text: str


CLAUSES = (
    Clause(id="RF-1", title="Refund window",
           text="Refund the full amount when the request arrives within 30 days of delivery "
                "(of purchase, for digital goods)."),
    Clause(id="RF-2", title="Late requests",
           text="For physical goods requested 31 to 60 days after delivery, refund 50% of the amount; refund "
                "in full if the item arrived damaged or not as described. After 60 days, deny."),
    Clause(id="RF-3", title="Digital goods",
           text="Digital goods that were downloaded are not refundable; deny the request."),
    Clause(id="RF-4", title="Duplicate charges",
           text="A duplicate charge is always refunded in full, whatever the dates."),
    Clause(id="RF-5", title="Repeat refunds",
           text="A customer with three or more refunds in the last 90 days is escalated to fraud review; "
                "do not refund."),
    Clause(id="RF-6", title="High value",
           text="Refunds over $500.00 need a manager: escalate to manager."),
)


@dataclass(frozen=True, kw_only=True)
class Facts:
    """What a decision needs, as the fact sheet states it."""

    category: str
    amount: Decimal
    days: int
    downloaded: bool
    reason: str
    refunds_90d: int


def days_since(received: date, purchased: date, delivered: date | None, category: str) -> int:
    start = purchased if category == "digital" or delivered is None else delivered
    return (received - start).days


def decide(f: Facts, clauses: frozenset[str] = frozenset(c.id for c in CLAUSES)) -> tuple[str, Decimal | None,
                                                                                              str | None]:
    """(action, refund amount, escalate to) under the given clauses; the reviewers' rule order."""
    if "RF-5" in clauses and f.refunds_90d >= 3:
        return "escalate", None, "fraud"
    if "RF-4" in clauses and f.reason == "duplicate_charge":
        return "refund_full", f.amount, None
    if f.category == "digital" and f.downloaded and "RF-3" in clauses:
        return "deny", None, None
    if f.days <= 30:
        action, amount = "refund_full", f.amount
    elif f.days <= 60 and f.category == "physical" and "RF-2" in clauses:
        full = f.reason in ("damaged", "not_as_described")
        action = "refund_full" if full else "refund_partial"
        amount = f.amount if full else (f.amount / 2).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    else:
        return "deny", None, None
    if "RF-6" in clauses and amount > Decimal("500.00"):
        return "escalate", None, "manager"
    return action, amount, None
