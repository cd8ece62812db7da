"""Scoring one decision against one case: correct (the decision fields) and good
(correct as reviewed, and the handling fits its context).

A model's own escalation is a *deferral*: not an error, but not a decision either;
it is correct only where the reviewer escalated too (or escalation is a valid alternative).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache

from evalkit.tasks._task import Verdict
from evalkit.tasks.upgrades._model import Case, Decision, ExpectedDecision
from evalkit.tasks.upgrades._refusals import MESSAGES_KEPT, forbidden_hit
from evalkit.tasks.upgrades._statements import contradictions
from evalkit.tasks.upgrades._text import date_mentions, dates_in, money_in

__all__ = ["REFUSAL_RE", "contradictions", "date_stated", "dates_in", "forbidden_hits", "money_in", "money_stated",
           "score_decision"]

PRICED_FIELDS = ("target_plan", "seats", "billing_cycle", "new_recurring_price", "prorated_charge_today",
                 "effective_date")
REFUSAL_RE = re.compile(
    r"\b(?:can(?:no|')?t|can not|cannot|unable|not able|won't|will not|isn't|is not|aren't|are not|not something|"
    r"no longer|don't|do not|doesn't|does not|declin\w*|not possible|not authori[sz]ed|not in a position|"
    r"not permitted|not allowed|refus\w*|without (?:any|a) discount|we don't offer|there is no)\b", re.IGNORECASE)
"""The simulated judge's own (sentence-wide) reading of a refusal (``_judge.py``). The rubric reads
refusals scoped to what they refuse (``_refusals.py``)."""
_PRICED_DECISION = ("action", *PRICED_FIELDS)


def compared_fields(expected: ExpectedDecision) -> tuple[str, ...]:
    """Which fields decide correctness for this kind of decision."""
    if expected.action in ("approve", "counter_offer"):
        return _PRICED_DECISION
    return ("action",)


def differing_fields(got: Decision | ExpectedDecision, expected: ExpectedDecision) -> tuple[str, ...]:
    """Fields (of those that count for ``expected``) where ``got`` differs. Works on a Decision
    directly: it has the same field names, and scoring a million decisions cannot afford copies."""
    if got.action != expected.action:
        return ("action",) + tuple(f for f in PRICED_FIELDS if expected.action in ("approve", "counter_offer")
                                   and getattr(got, f) != getattr(expected, f))
    return tuple([f for f in compared_fields(expected) if getattr(got, f) != getattr(expected, f)])


@lru_cache(maxsize=MESSAGES_KEPT)
def _amounts_stated(text: str) -> frozenset[Decimal]:
    return frozenset(money_in(text))


@lru_cache(maxsize=MESSAGES_KEPT)
def _dates_stated(text: str) -> frozenset[date]:
    return frozenset(day for _, _, days in date_mentions(text) for day in days)


def money_stated(text: str, amount: Decimal | str) -> bool:
    """The amount appears in any usual written form ($1,080.00, 1080, USD 1,080.00, ...)."""
    return Decimal(str(amount)) in _amounts_stated(text)


def date_stated(text: str, day: date | str) -> bool:
    """The date appears as 2026-05-31, 2026/05/31, May 31, 2026, May 31st 2026, 31 May 2026, 05/31/2026 (a
    slash date whose numbers could each be the month counts for either reading), ..."""
    return (date.fromisoformat(day) if isinstance(day, str) else day) in _dates_stated(text)


def forbidden_hits(message: str, reason: str, phrases: list[str]) -> bool:
    """A forbidden phrase is in the message, and (for promises) not refused where it is named."""
    return forbidden_hit(message, reason, tuple(phrases))


def handling_reasons(case: Case, decision: Decision, *, disclosures: bool = True) -> list[str]:
    """Rubric checks on the customer message and the escalation target.

    ``disclosures=False`` skips the required-disclosure checks: when the decision fields are
    already wrong, "the message does not state the right price" says nothing new.
    """
    reasons = []
    message = decision.message
    # Disclosures belong to the reviewed action's message; a deferral or another action has none to make.
    needs = case.rubric.required_disclosures if disclosures and decision.action == case.reviewed.action else []
    for disclosure in needs:
        stated = money_stated if disclosure.kind == "money" else date_stated
        if not stated(message, disclosure.value):
            reasons.append(f"check.missing_disclosure:{disclosure.name}")
    for reason, phrases in case.rubric.forbidden_phrases.items():
        if forbidden_hits(message, reason, phrases):
            reasons.append(f"check.forbidden:{reason}")
    reasons.extend(contradictions(decision))
    target = case.rubric.escalate_to
    if target and decision.action == "escalate" and decision.escalate_to != target:
        reasons.append(f"check.wrong_escalation_target:{target}")
    return reasons


def _explain(got: Decision, case: Case) -> list[str]:
    """Name the mistake: a known pitfall if the decision reproduces one, else the fields."""
    reviewed = case.reviewed
    if got.action != reviewed.action:
        if reviewed.action == "escalate":
            return [f"action.should_escalate:{reviewed.escalate_to}"]
        return [f"action.{reviewed.action}_expected_got_{got.action}"]
    for reason, wrong in case.pitfalls.items():
        if not differing_fields(got, wrong):
            return [reason]
    return [f"field.{f}" for f in differing_fields(got, reviewed)]


def score_decision(case: Case, decision: Decision | None) -> Verdict:
    if decision is None:
        return Verdict(correct=False, good=False, reasons=("invalid_output",))
    got = decision
    deferred = decision.action == "escalate"
    acceptable = case.rubric.acceptable_escalation
    if deferred and acceptable is not None and case.reviewed.action != "escalate":
        # The deciding fact is not knowable from the case as shown: routing it to a human is right.
        handling = handling_reasons(case, decision, disclosures=False)
        if decision.escalate_to == acceptable:
            return Verdict(correct=True, good=not handling, reasons=tuple(handling), deferred=True)
        return Verdict(correct=True, good=False, reasons=(f"check.wrong_escalation_target:{acceptable}",
                                                          *handling), deferred=True)
    wrong = differing_fields(got, case.reviewed)
    handling = handling_reasons(case, decision, disclosures=not wrong)
    if not wrong:
        return Verdict(correct=True, good=not handling, reasons=tuple(handling), deferred=deferred)
    if any(not differing_fields(got, alt) for alt in case.alternatives):
        # Valid under the written policy, but not what a careful reviewer did.
        why = _explain(got, case)
        return Verdict(correct=True, good=False, wrong_fields=wrong, reasons=tuple(why + handling),
                       deferred=deferred)
    if deferred:
        return Verdict(correct=False, good=False, wrong_fields=("action",), reasons=("deferred",) + tuple(handling),
                       deferred=True)
    return Verdict(correct=False, good=False, wrong_fields=wrong, reasons=tuple(_explain(got, case) + handling))
