"""Ground truth for a case: the reviewed decision, the policy-valid alternatives, the
decisions that known mistakes produce (so failures can be explained), and the rubric."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from evalkit.tasks.upgrades._engine import Fields, Outcome, decide, disclosures_for, policy_params
from evalkit.tasks.upgrades._facts import Facts
from evalkit.tasks.upgrades._policy import ALL_IDS, WRITTEN_IDS

ALL = frozenset(ALL_IDS)
WRITTEN = frozenset(WRITTEN_IDS)
PRACTICE = frozenset({"PRX-1", "PRX-2", "PRX-3"})


def reviewed_outcome(f: Facts) -> Outcome:
    return decide(f, ALL)


def alternatives(f: Facts, reviewed: Fields) -> list[Fields]:
    """Decisions the written policy allows although the reviewer chose otherwise.

    Operational guidance (OPS-*) is judgement, not policy: where it changed the outcome,
    the written-policy decision stays *correct*, but is not *good*.
    """
    written_only = decide(f, WRITTEN | PRACTICE).decision
    return [written_only] if written_only != reviewed else []


def pitfalls(f: Facts, reviewed: Fields) -> dict[str, Fields]:
    """Decisions known mistakes would produce, first (most specific) explanation first.

    Only mistakes that can apply to these facts are computed: the generator calls this
    for every case, and most cases have no promotion, contract or history fact.
    """
    has_history = f.history_lock_price is not None or f.history_dispute or f.history_am_signoff
    founders = policy_params().founder_before_year or 0
    exceptions = f.migrated_from is not None or f.nonprofit or (
        f.customer_since is not None and f.customer_since.year < founders)
    checks = (
        ("context.missed_history_fact", has_history, lambda: decide(f.without_history(), ALL)),
        ("price.missed_legacy_discount", f.cohort != "current", lambda: decide(f, ALL - {"UPG-5"})),
        ("price.missed_promotion", f.promo is not None, lambda: decide(f, ALL - {"UPG-4"})),
        ("price.stacked_discounts", True, lambda: decide(f, ALL, stack_discounts=True)),
        ("price.missed_contract_terms", f.contract is not None or has_history, lambda: decide(f, ALL - {"UPG-6"})),
        ("price.missed_exception_pricing", exceptions, lambda: decide(f, ALL - PRACTICE)),
        ("charge.not_prorated", reviewed.prorated_charge_today is not None, lambda: decide(f, ALL - {"UPG-3"})),
        ("timing.cycle_switch_immediate", f.cycle != f.target_cycle, lambda: decide(f, ALL - {"UPG-7"})),
    )
    out: dict[str, Fields] = {}
    seen = {reviewed}
    for reason, applies, compute in checks:
        if applies:
            decision = compute().decision
            if decision not in seen:
                seen.add(decision)
                out[reason] = decision
    if f.promo is not None and not f.promo.active_on(f.today):
        stale = replace(f, promo=replace(f.promo, ends=f.today + timedelta(days=30), starts=min(f.promo.starts, f.today)))
        decision = decide(stale, ALL).decision
        if decision not in seen:
            out["price.applied_expired_promotion"] = decision
    return out


def rubric_for(f: Facts, outcome: Outcome, forbidden: dict[str, list[str]]) -> dict[str, object]:
    d = outcome.decision
    needs = disclosures_for(f, ALL, outcome)
    return {"required_disclosures": [{"name": n.name, "kind": n.kind, "value": n.value} for n in needs],
            "forbidden_phrases": forbidden, "escalate_to": d.escalate_to if d.action == "escalate" else None}
