"""Numbers in a gate's own unit (a rate, a drop in points, a relative change, dollars, a score), through
evalkit.formatting: what every gate output (message, summary, JUnit, console) prints."""

from __future__ import annotations

from typing import Any

from evalkit.formatting import distinct_digits, interval, money, pct, signed, unsigned_zero
from evalkit.gate._results import GateResult

_DIGITS = {"rate": 1, "points": 1, "change_points": 1, "relative": 1, "usd": 6, "cost": 6, "score": 3}
"""Decimals of each unit (more when an interval's bounds would otherwise print alike)."""


def unit_text(unit: str | None, x: float, digits: int | None = None) -> str:
    """``x`` in a gate unit, through evalkit.formatting (nothing that rounds to zero has a sign): a rate
    (``rate``: '76.1%'), a drop (``points``: '2.0 pts'), a change in points (``change_points``: '+1.2 pts'),
    a relative change (``relative``: '+12.5%'), a change in dollars (``usd``: '+$0.000120'), a cost
    (``cost``: '$0.000120') or a plain score (ECE: '0.031')."""
    d = _DIGITS.get(unit or "score", 3) if digits is None else digits
    if unit == "rate":
        return pct(x, d)
    if unit == "points":
        return unsigned_zero(f"{100 * x:.{d}f}") + " pts"
    if unit == "change_points":
        return signed(100 * x, d) + " pts"
    if unit == "relative":
        return signed(100 * x, d) + "%"
    if unit == "usd":
        text = signed(x, d)
        return text[0] + "$" + text[1:] if text[0] in "+-" else "$" + text
    if unit == "cost":
        return money(x, d)
    return unsigned_zero(f"{x:.{d}f}")


def unit_interval(est: Any, unit: str | None) -> str:
    """An estimate (or its JSON) with its 95% interval and n in a gate unit: bounds that differ never
    print alike (as many more decimals as it takes, for the estimate too: evalkit.formatting)."""
    lo, hi = (est.get("lo"), est.get("hi")) if isinstance(est, dict) else \
        (getattr(est, "lo", None), getattr(est, "hi", None))
    d = distinct_digits(lo, hi, _DIGITS.get(unit or "score", 3), lambda x, k: unit_text(unit, x, k))
    return interval(est, label="95% CI ", unit=lambda x: unit_text(unit, x, d))


def format_value(result: GateResult, x: float | None) -> str:
    """A gate's observed value or limit in the gate's own unit (the one format of every output)."""
    return "unknown" if x is None else unit_text(result.unit, x)


def format_observed(result: GateResult) -> str:
    if result.observed is None and result.unit == "relative" and _zero_cost_baseline(result):
        cand = result.details[0]
        return "from $0 (not a %): p95 " + unit_interval(cand, "cost")
    return unit_interval(result.observed, result.unit)


def _zero_cost_baseline(result: GateResult) -> bool:
    """A relative cost gate against a baseline whose p95 cost is $0: the change is no percentage."""
    return (result.kind == "max_cost_p95_increase" and len(result.details) == 2
            and result.details[0].get("value") is not None and result.details[1].get("value") == 0)
