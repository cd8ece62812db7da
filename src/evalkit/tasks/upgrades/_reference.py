"""Ground truth for a case: the reviewed decision, the policy-valid alternatives, the
decisions that known mistakes produce (so failures can be explained), and the rubric."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from evalkit.tasks.upgrades._engine import Outcome, decide
from evalkit.tasks.upgrades._facts import Facts
from evalkit.tasks.upgrades._model import ExpectedDecision, Rubric
from evalkit.tasks.upgrades._policy import ALL_IDS, WRITTEN_IDS

ALL = frozenset(ALL_IDS)
WRITTEN = frozenset(WRITTEN_IDS)
PRACTICE = frozenset({"PRX-1", "PRX-2", "PRX-3"})


def reviewed_outcome(f: Facts) -> Outcome:
    return decide(f, ALL)


def alternatives(f: Facts, reviewed: ExpectedDecision) -> list[ExpectedDecision]:
    """Decisions the written policy allows although the reviewer chose otherwise.

    Operational guidance (OPS-*) is judgement, not policy: where it changed the outcome,
    the written-policy decision stays *correct*, but is not *good*.
    """
    written_only = decide(f, WRITTEN | PRACTICE).decision
    return [written_only] if written_only != reviewed else []


def pitfalls(f: Facts, reviewed: ExpectedDecision) -> dict[str, ExpectedDecision]:
    candidates = {
        "price.missed_legacy_discount": decide(f, ALL - {"UPG-5"}),
        "price.missed_promotion": decide(f, ALL - {"UPG-4"}),
        "price.stacked_discounts": decide(f, ALL, stack_discounts=True),
        "price.missed_contract_terms": decide(f, ALL - {"UPG-6"}),
        "price.missed_exception_pricing": decide(f, ALL - PRACTICE),
        "charge.not_prorated": decide(f, ALL - {"UPG-3"}),
        "timing.cycle_switch_immediate": decide(f, ALL - {"UPG-7"}),
        "context.missed_history_fact": decide(f.without_history(), ALL),
    }
    if f.promo is not None and not f.promo.active_on(f.today):
        stale = replace(f, promo=replace(f.promo, ends=f.today + timedelta(days=30), starts=min(f.promo.starts, f.today)))
        candidates["price.applied_expired_promotion"] = decide(stale, ALL)
    out: dict[str, ExpectedDecision] = {}
    seen = {reviewed.model_dump_json()}
    for reason, outcome in candidates.items():
        key = outcome.decision.model_dump_json()
        if key not in seen:
            seen.add(key)
            out[reason] = outcome.decision
    return out


def rubric_for(outcome: Outcome, forbidden: dict[str, list[str]]) -> Rubric:
    d = outcome.decision
    return Rubric(required_disclosures=list(outcome.disclosures), forbidden_phrases=forbidden,
                  escalate_to=d.escalate_to if d.action == "escalate" else None)
