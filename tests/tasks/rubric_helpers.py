"""One decision for the rubric's table tests: the priced fields fixed, the message under test."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from evalkit.tasks.upgrades import Decision

PRICE, CHARGE, DAY = Decimal("1000.00"), Decimal("35.50"), date(2026, 5, 31)


def decision(message: str, **over) -> Decision:
    fields = {"action": "approve", "target_plan": "business", "seats": 20, "billing_cycle": "monthly",
              "new_recurring_price": PRICE, "prorated_charge_today": CHARGE, "effective_date": DAY,
              "message": message, "confidence": 0.9}
    fields.update(over)
    return Decision(**fields)
