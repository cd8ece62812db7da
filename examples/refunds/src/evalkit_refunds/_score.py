"""Correct (the right decision) versus good (right, and a reply the customer can act on)."""

from __future__ import annotations

import re
from decimal import Decimal

from evalkit.tasks import Verdict
from evalkit_refunds._model import RefundCase, RefundDecision

_AMOUNT = re.compile(r"\$\s?(\d{1,3}(?:,\d{3})*(?:\.\d{2})?|\d+(?:\.\d{2})?)")
_PROMISE = re.compile(r"\b(we will|we'll|i will|i'll|you will|you'll) (refund|get (your|a) refund)", re.IGNORECASE)


def amounts(text: str) -> set[Decimal]:
    return {Decimal(m.replace(",", "")) for m in _AMOUNT.findall(text)}


def score(case: RefundCase, d: RefundDecision | None) -> Verdict:
    if d is None:
        return Verdict(correct=False, good=False, reasons=("output.invalid",))
    want = case.reviewed
    wrong = []
    if d.action != want.action:
        wrong.append("action")
    elif d.action in ("refund_full", "refund_partial") and d.refund_amount != want.refund_amount:
        wrong.append("refund_amount")
    elif d.action == "escalate" and d.escalate_to != want.escalate_to:
        wrong.append("escalate_to")
    reasons = [f"wrong.{w}" for w in wrong]
    if d.action in ("refund_full", "refund_partial") and d.refund_amount not in amounts(d.message):
        reasons.append("check.missing_disclosure:refund_amount")
    if d.action == "escalate" and _PROMISE.search(d.message):
        reasons.append("check.forbidden:promised_refund_before_review")
    if d.action == "deny" and not re.search(r"polic|days|download", d.message, re.IGNORECASE):
        reasons.append("check.missing_reason:deny")
    correct = not wrong
    return Verdict(correct=correct, good=correct and not reasons, wrong_fields=tuple(wrong), reasons=tuple(reasons),
                   deferred=d.action == "escalate")
