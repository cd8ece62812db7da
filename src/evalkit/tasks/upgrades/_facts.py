"""Facts: what a decision-maker knows about a case. The reference engine builds them
from the full case; the simulated model builds them from the prompt text alone."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from evalkit.tasks.upgrades._catalogue import shipped_catalogue


@dataclass(frozen=True, kw_only=True)
class PromoFacts:
    code: str
    percent_off: int
    plans: tuple[str, ...]
    starts: date
    ends: date

    def active_on(self, day: date) -> bool:
        return self.starts <= day <= self.ends


@dataclass(frozen=True, kw_only=True)
class ContractFacts:
    plan: str
    seat_price: Decimal
    lock_until: date | None
    min_seats: int | None
    am_approval: bool


@dataclass(frozen=True, kw_only=True)
class Facts:
    today: date
    plan: str
    cycle: str
    seats: int
    recurring_price: Decimal
    period_start: date
    period_end: date
    target_plan: str
    target_seats: int
    target_cycle: str
    cohort: str = "current"
    promo: PromoFacts | None = None
    contract: ContractFacts | None = None
    dispute: bool = False
    failed_payment: bool = False
    renewal_negotiation: bool = False
    customer_since: date | None = None
    migrated_from: str | None = None
    migration_date: date | None = None
    nonprofit: bool = False
    history_lock_price: Decimal | None = None
    history_lock_until: date | None = None
    history_dispute: bool = False
    history_am_signoff: bool = False
    catalogue: dict[str, tuple[Decimal, Decimal]] | None = field(
        default_factory=lambda: dict(shipped_catalogue().prices))
    """Per-seat list prices; None when the decision-maker was not shown the catalogue."""

    def without_history(self) -> Facts:
        return replace(self, history_lock_price=None, history_lock_until=None,
                       history_dispute=False, history_am_signoff=False)


def facts_from_raw(raw: dict[str, Any]) -> Facts:
    """Facts from a case as a plain dict (``Case.model_dump()`` or the generator's draft)."""
    a, r, h = raw["account"], raw["request"], raw.get("history_facts") or {}
    p, c, flags = a.get("promotion"), a.get("contract"), a.get("flags") or {}
    promo = None if p is None else PromoFacts(code=p["code"], percent_off=p["percent_off"],
                                              plans=tuple(p["eligible_plans"]), starts=p["starts"], ends=p["ends"])
    contract = None if c is None else ContractFacts(
        plan=c["plan"], seat_price=Decimal(c["negotiated_seat_price"]), lock_until=c.get("price_lock_until"),
        min_seats=c.get("min_seats"), am_approval=bool(c.get("changes_need_am_approval")))
    lock_price = h.get("price_lock_price")
    return Facts(
        today=r["received"], plan=a["plan"], cycle=a["billing_cycle"], seats=a["seats"],
        recurring_price=Decimal(a["recurring_price"]), period_start=a["period_start"], period_end=a["period_end"],
        target_plan=r["target_plan"], target_seats=r["target_seats"], target_cycle=r["target_cycle"],
        cohort=a.get("pricing_cohort", "current"), promo=promo, contract=contract,
        dispute=bool(flags.get("open_billing_dispute")), failed_payment=bool(flags.get("failed_payment")),
        renewal_negotiation=bool(flags.get("renewal_negotiation")), customer_since=a.get("customer_since"),
        migrated_from=a.get("migrated_from"), migration_date=a.get("migration_date"),
        nonprofit=bool(a.get("nonprofit_verified")),
        history_lock_price=Decimal(lock_price) if lock_price is not None else None,
        history_lock_until=h.get("price_lock_until"), history_dispute=bool(h.get("dispute_mentioned")),
        history_am_signoff=bool(h.get("am_signoff_required")),
    )

