"""Ground truth for a case: the reviewed decision, the policy-valid alternatives, the
decisions that known mistakes produce (so failures can be explained), and the rubric."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from evalkit.tasks.upgrades._engine import Fields, Outcome, decide, disclosures_for
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
    candidates = {  # first match names the mistake, so the most specific explanations come first
        "context.missed_history_fact": decide(f.without_history(), ALL),
        "price.missed_legacy_discount": decide(f, ALL - {"UPG-5"}),
        "price.missed_promotion": decide(f, ALL - {"UPG-4"}),
        "price.stacked_discounts": decide(f, ALL, stack_discounts=True),
        "price.missed_contract_terms": decide(f, ALL - {"UPG-6"}),
        "price.missed_exception_pricing": decide(f, ALL - PRACTICE),
        "charge.not_prorated": decide(f, ALL - {"UPG-3"}),
        "timing.cycle_switch_immediate": decide(f, ALL - {"UPG-7"}),
    }
    if f.promo is not None and not f.promo.active_on(f.today):
        stale = replace(f, promo=replace(f.promo, ends=f.today + timedelta(days=30), starts=min(f.promo.starts, f.today)))
        candidates["price.applied_expired_promotion"] = decide(stale, ALL)
    out: dict[str, Fields] = {}
    seen = {reviewed}
    for reason, outcome in candidates.items():
        if outcome.decision not in seen:
            seen.add(outcome.decision)
            out[reason] = outcome.decision
    return out


def rubric_for(f: Facts, outcome: Outcome, forbidden: dict[str, list[str]]) -> dict[str, object]:
    d = outcome.decision
    needs = disclosures_for(f, ALL, outcome)
    return {"required_disclosures": [{"name": n.name, "kind": n.kind, "value": n.value} for n in needs],
            "forbidden_phrases": forbidden, "escalate_to": d.escalate_to if d.action == "escalate" else None}
