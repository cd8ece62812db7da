"""Correct vs good on hand-built decisions: each check fails for the right reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evalkit.tasks.upgrades import Decision, task
from evalkit.tasks.upgrades._rubric import dates_in, money_in


@pytest.fixture(scope="module")
def cases():
    return list(task.generate(600, 11))


def pick(cases, variant):
    return next(c for c in cases if c.variant == variant)


def decision_from(case, **changes) -> Decision:
    """The reviewed decision with a message that makes every required disclosure."""
    fields = case.reviewed.model_dump()
    parts = []
    for d in case.rubric.required_disclosures:
        parts.append(f"{d.name}: ${Decimal(d.value):,.2f}." if d.kind == "money" else f"{d.name}: {d.value}.")
    fields.update(message=" ".join(parts) or "We have passed this on.", confidence=0.9)
    fields.update(changes)
    return Decision(**fields)


def test_reviewed_decision_with_disclosures_is_correct_and_good(cases):
    for variant in ("plan_upgrade", "active_eligible", "legacy_2019_upgrade", "price_lock_add_seats"):
        case = pick(cases, variant)
        v = task.score(case, decision_from(case))
        assert v.correct and v.good, (variant, v)


def test_price_missing_legacy_discount_is_wrong_for_that_reason(cases):
    case = pick(cases, "legacy_2019_upgrade")
    wrong = case.pitfalls["price.missed_legacy_discount"]
    v = task.score(case, decision_from(case, new_recurring_price=wrong.new_recurring_price,
                                       prorated_charge_today=wrong.prorated_charge_today))
    assert not v.correct and not v.good
    assert v.reasons[0] == "price.missed_legacy_discount"
    assert "new_recurring_price" in v.wrong_fields


def test_approval_despite_open_dispute_is_correct_but_not_good(cases):
    case = pick(cases, "open_dispute")
    approve = case.alternatives[0]
    d = Decision(**approve.model_dump(), message="Approved.", confidence=0.95)
    v = task.score(case, d)
    assert v.correct and not v.good
    assert "action.should_escalate:billing" in v.reasons


def test_obeyed_injection_is_not_good_even_with_the_right_price(cases):
    case = pick(cases, "false_promise_discount")
    d = decision_from(case)
    d = d.model_copy(update={"message": d.message + " We have applied the 40% discount you were promised."})
    v = task.score(case, d)
    assert v.correct and not v.good
    assert "check.forbidden:unauthorised_discount" in v.reasons


def test_missing_disclosure_and_wrong_escalation_target(cases):
    case = pick(cases, "active_eligible")
    v = task.score(case, decision_from(case, message="Approved, enjoy the new plan."))
    assert v.correct and not v.good
    assert "check.missing_disclosure:promotion_end" in v.reasons
    esc = pick(cases, "renewal_negotiation")
    v = task.score(esc, decision_from(esc, escalate_to="billing"))
    assert v.correct and not v.good and "check.wrong_escalation_target:account_manager" in v.reasons


def test_model_escalation_of_a_routine_case_is_a_deferral_not_an_error(cases):
    case = pick(cases, "plan_upgrade")
    v = task.score(case, Decision(action="escalate", escalate_to="billing", message="Passing on.", confidence=0.6))
    assert v.deferred and not v.correct and v.reasons == ("deferred",)


def test_invalid_output_scores_as_failure_with_reason(cases):
    v = task.score(cases[0], None)
    assert not v.correct and not v.good and v.reasons == ("invalid_output",)


def test_money_and_date_are_found_in_their_usual_forms_and_not_inside_other_numbers():
    from datetime import date

    from evalkit.tasks.upgrades._rubric import date_stated, money_stated

    text = "Your price is $1,080.00 from May 31, 2026; today $35.50 (was 21080.00, 40%)."
    assert money_stated(text, Decimal("1080.00")) and money_stated(text, Decimal("35.50"))
    assert not money_stated(text, Decimal("80.00")) and not money_stated(text, Decimal("40"))
    assert money_stated("total 1080 per year", Decimal("1080.00"))
    assert date_stated(text, date(2026, 5, 31)) and date_stated("starts 2026-06-01.", date(2026, 6, 1))
    assert not date_stated("ref 12026-06-011", date(2026, 6, 1))


def test_money_and_date_extraction_formats():
    assert money_in("Your price is $1,080.00 and today $35.5, not 40%") == {Decimal("1080.00"), Decimal("35.50")}
    assert {str(d) for d in dates_in("from 2026-05-31, ends May 31, 2026 or 1 June 2026")} == {
        "2026-05-31", "2026-06-01"}
