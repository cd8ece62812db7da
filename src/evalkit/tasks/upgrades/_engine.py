"""The reference decision engine: pure, deterministic, exact to the cent.

``decide(facts, known)`` applies only the clauses whose ids are in ``known``. The
reviewed decision of a case is ``decide(facts_from_raw(case), ALL_IDS)``; a
simulated model calls the same function with the facts and clauses its prompt showed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from evalkit.tasks.upgrades._catalogue import Catalogue, shipped_catalogue
from evalkit.tasks.upgrades._facts import Facts


@dataclass(frozen=True, kw_only=True)
class Params:
    """The numbers inside the clauses and the catalogue's plan order. The reference engine uses
    the company's (``policy_params``); a model uses the ones it read in its prompt (a reworded
    clause may state other rates)."""

    cohort_discount: tuple[tuple[str, int], ...]
    plan_rank: tuple[tuple[str, int], ...]
    """Plan -> rank (cheapest 1): a move to a lower rank is a downgrade."""
    sales_plans: frozenset[str]
    """Plans priced through sales: requests for them go to sales."""
    migration_from: str | None = None
    """PRX-1 applies to accounts migrated from this product (None: no such rule)."""
    migration_discount: int = 0
    migration_months: int = 0
    nonprofit_discount: int = 0
    nonprofit_plans: tuple[str, ...] = ()
    founder_before_year: int | None = None
    sales_seat_limit: int | None = None

    def cohort(self, name: str) -> int:
        return dict(self.cohort_discount).get(name, 0)

    def rank(self, plan: str) -> int:
        return dict(self.plan_rank).get(plan, 0)


def policy_params(catalogue: Catalogue | None = None) -> Params:
    """The policy's numbers with ``catalogue``'s cohorts and plans (the shipped catalogue by default)."""
    return _shipped_params() if catalogue is None else _params_of(catalogue)


@lru_cache(maxsize=1)
def _shipped_params() -> Params:
    return _params_of(shipped_catalogue())


def _params_of(catalogue: Catalogue) -> Params:
    t = catalogue.terms
    migration = {} if t.migration is None else {"migration_from": t.migration.source, "migration_months": t.migration.months,
                                                "migration_discount": t.migration.percent_off}
    nonprofit = {} if t.nonprofit is None else {"nonprofit_discount": t.nonprofit.percent_off,
                                                "nonprofit_plans": tuple(t.nonprofit.plans)}
    return Params(cohort_discount=(("current", 0), *catalogue.cohorts.items()),
                  plan_rank=tuple(catalogue.ranks.items()), sales_plans=catalogue.sales_plans,
                  founder_before_year=t.founder_before_year, sales_seat_limit=t.sales_seat_limit,
                  **migration, **nonprofit)

CENT = Decimal("0.01")


def money(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, kw_only=True)
class Outcome:
    decision: Fields
    discount_source: str = "list"
    """Where the price came from: list, legacy, promotion, migration, nonprofit, contract, history_lock,
    stacked (a known mistake) or unknown (no catalogue in the prompt). Drives the promotion disclosures."""


def _add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


@dataclass(frozen=True, slots=True, kw_only=True)
class Fields:
    """Decision fields as the engine produces them (a light twin of ExpectedDecision:
    the generator makes millions of these, pydantic validates them once per case)."""

    action: str
    target_plan: str | None = None
    seats: int | None = None
    billing_cycle: str | None = None
    new_recurring_price: Decimal | None = None
    prorated_charge_today: Decimal | None = None
    effective_date: date | None = None
    escalate_to: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in self.__slots__}  # type: ignore[attr-defined]

    def model_dump(self) -> dict[str, object]:
        return self.as_dict()


@dataclass(frozen=True, slots=True, kw_only=True)
class Need:
    """A disclosure the customer message must contain."""

    name: str
    kind: str
    value: str


def _decision(**fields: object) -> Fields:
    return Fields(**fields)  # type: ignore[arg-type]


def _escalate(to: str, f: Facts) -> Outcome:
    return Outcome(decision=_decision(action="escalate", escalate_to=to, target_plan=f.target_plan,
                                      seats=f.target_seats))


def _discounts(f: Facts, known: frozenset[str], p: Params) -> list[tuple[int, str]]:
    """(percent, source) for every discount the known clauses allow."""
    out: list[tuple[int, str]] = []
    if "UPG-5" in known and p.cohort(f.cohort):
        out.append((p.cohort(f.cohort), "legacy"))
    if "UPG-4" in known and f.promo and f.promo.active_on(f.today) and f.target_plan in f.promo.plans:
        out.append((f.promo.percent_off, "promotion"))
    if ("PRX-1" in known and p.migration_from is not None and f.migrated_from == p.migration_from
            and f.migration_date is not None
            and f.today < _add_months(f.migration_date, p.migration_months)):
        out.append((p.migration_discount, "migration"))
    if "PRX-2" in known and f.nonprofit and p.nonprofit_discount and f.target_plan in p.nonprofit_plans:
        out.append((p.nonprofit_discount, "nonprofit"))
    return out


def recurring_for(f: Facts, known: frozenset[str], *, plan: str, seats: int, cycle: str,
                  stack: bool = False, params: Params | None = None) -> tuple[Decimal | None, str]:
    """(price per cycle, its source); (None, "unknown") without a catalogue."""
    params = params or policy_params()
    contract = f.contract
    if "UPG-6" in known and contract and contract.plan == plan and cycle == "monthly" and (
            contract.lock_until is None or f.today <= contract.lock_until):
        return money(contract.seat_price * seats), "contract"
    if ("UPG-6" in known and f.history_lock_price is not None and f.history_lock_until is not None
            and f.today <= f.history_lock_until and cycle == "monthly" and plan == f.plan):
        return money(f.history_lock_price * seats), "history_lock"
    if f.catalogue is None or plan not in f.catalogue:
        return None, "unknown"
    per_seat = f.catalogue[plan][0 if cycle == "monthly" else 1]
    found = [d for d in _discounts(f, known, params) if d[0] > 0]
    if not found:
        return money(per_seat * seats), "list"
    if stack:  # a known mistake: multiplying discounts together
        keep = Decimal(1)
        for pct, _ in found:
            keep *= Decimal(100 - pct) / 100
        return money(per_seat * seats * keep), "stacked"
    pct, source = max(found)
    return money(per_seat * seats * Decimal(100 - pct) / 100), source


def prorate(f: Facts, new_price: Decimal, *, known: frozenset[str]) -> Decimal:
    if "UPG-3" not in known:  # without the proration rule, people charge the full difference
        return money(max(new_price - f.recurring_price, Decimal(0)))
    days_left = (f.period_end - f.today).days
    days = (f.period_end - f.period_start).days
    return money(max((new_price - f.recurring_price) * days_left / days, Decimal(0)))


def decide(f: Facts, known: frozenset[str], *, stack_discounts: bool = False,
           params: Params | None = None) -> Outcome:
    params = params or policy_params()
    # Routing first: who should decide at all.
    limit = params.sales_seat_limit
    if f.target_plan in params.sales_plans or ("UPG-8" in known and limit is not None and f.target_seats > limit):
        return _escalate("sales", f)
    if "OPS-1" in known and (f.dispute or f.history_dispute):
        return _escalate("billing", f)
    if "OPS-2" in known and f.failed_payment:
        return _escalate("billing", f)
    if "OPS-3" in known and f.renewal_negotiation:
        return _escalate("account_manager", f)
    if "OPS-4" in known and f.history_am_signoff:
        return _escalate("account_manager", f)
    if "UPG-6" in known and f.contract and f.contract.am_approval:
        return _escalate("account_manager", f)

    lowers = (params.rank(f.target_plan) < params.rank(f.plan)
              or (f.target_plan == f.plan and f.target_seats < f.seats)
              or (f.cycle == "annual" and f.target_cycle == "monthly"))
    if lowers and "UPG-1" in known:
        return Outcome(decision=_decision(action="deny", target_plan=f.target_plan, seats=f.target_seats))

    seats, action = f.target_seats, "approve"
    if "UPG-6" in known and f.contract and f.contract.min_seats and seats < f.contract.min_seats:
        seats, action = f.contract.min_seats, "counter_offer"

    price, source = recurring_for(f, known, plan=f.target_plan, seats=seats, cycle=f.target_cycle,
                                  stack=stack_discounts, params=params)
    cycle_switch = f.cycle == "monthly" and f.target_cycle == "annual"
    if price is None:
        charge, effective = None, None
    elif cycle_switch and "UPG-7" in known:
        charge, effective = Decimal("0.00"), f.period_end
    else:
        effective = f.today
        adds_seats_only = f.target_plan == f.plan and f.target_cycle == f.cycle
        if ("PRX-3" in known and adds_seats_only and f.customer_since is not None
                and params.founder_before_year is not None and f.customer_since.year < params.founder_before_year):
            charge = Decimal("0.00")
        else:
            charge = prorate(f, price, known=known)
    decision = _decision(action=action, target_plan=f.target_plan, seats=seats, billing_cycle=f.target_cycle,
                         new_recurring_price=price, prorated_charge_today=charge, effective_date=effective)
    return Outcome(decision=decision, discount_source=source)


def disclosures_for(f: Facts, known: frozenset[str], outcome: Outcome, *,
                    params: Params | None = None) -> tuple[Need, ...]:
    """What the customer message must state for this outcome (UPG-11, UPG-4)."""
    return _disclosures(f, known, outcome.decision, outcome.discount_source, params or policy_params())


def _disclosures(f: Facts, known: frozenset[str], d: Fields, source: str, params: Params) -> tuple[Need, ...]:
    if d.new_recurring_price is None:
        return ()
    make = Need
    out = [make(name="new_price", kind="money", value=str(d.new_recurring_price))]
    if d.action == "approve":
        out.append(make(name="charge_today", kind="money", value=str(d.prorated_charge_today)))
        out.append(make(name="effective_date", kind="date", value=str(d.effective_date)))
    if source == "promotion" and f.promo is not None:
        after, _ = recurring_for(replace(f, promo=None), known, plan=f.target_plan,
                                       seats=d.seats or f.target_seats, cycle=f.target_cycle, params=params)
        out.append(make(name="promotion_end", kind="date", value=str(f.promo.ends)))
        out.append(make(name="price_after_promotion", kind="money", value=str(after)))
    return tuple(out)
