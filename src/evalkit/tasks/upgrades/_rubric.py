"""Scoring one decision against one case: correct (the decision fields) and good
(correct as reviewed, and the handling fits its context).

A model's own escalation is a *deferral*: not an error, but not a decision either;
it is correct only where the reviewer escalated too (or escalation is a valid alternative).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from evalkit.tasks._task import Verdict
from evalkit.tasks.upgrades._model import Case, Decision, ExpectedDecision

PRICED_FIELDS = ("target_plan", "seats", "billing_cycle", "new_recurring_price", "prorated_charge_today",
                 "effective_date")
MONEY_RE = re.compile(r"(?<![\d.])\$?\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?![\d%])")
ISO_DATE_RE = re.compile(r"\b(\d{4})[-/](\d{2})[-/](\d{2})\b")
LONG_DATE_RES = (re.compile(r"\b([A-Z][a-z]+)\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})\b"),
                 re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)? ([A-Z][a-z]+),? (\d{4})\b"))


def compared_fields(expected: ExpectedDecision) -> tuple[str, ...]:
    """Which fields decide correctness for this kind of decision."""
    if expected.action in ("approve", "counter_offer"):
        return ("action",) + PRICED_FIELDS
    return ("action",)


def differing_fields(got: Decision | ExpectedDecision, expected: ExpectedDecision) -> tuple[str, ...]:
    """Fields (of those that count for ``expected``) where ``got`` differs. Works on a Decision
    directly: it has the same field names, and scoring a million decisions cannot afford copies."""
    if got.action != expected.action:
        return ("action",) + tuple(f for f in PRICED_FIELDS if expected.action in ("approve", "counter_offer")
                                   and getattr(got, f) != getattr(expected, f))
    return tuple(f for f in compared_fields(expected) if getattr(got, f) != getattr(expected, f))


def money_in(text: str) -> set[Decimal]:
    out = set()
    for whole, cents in MONEY_RE.findall(text):
        try:
            out.add(Decimal(whole.replace(",", "") + "." + (cents or "0").ljust(2, "0")))
        except InvalidOperation:
            continue
    return out


_MONTHS = {name.lower(): i for i, name in enumerate(
    ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
     "November", "December"), start=1)}
_MONTHS.update({name[:3]: i for name, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9


def _safe_date(y: int, m: int | None, d: int) -> date | None:
    try:
        return date(y, m, d) if m else None
    except ValueError:
        return None


def dates_in(text: str) -> set[date]:
    """Dates written as 2026-05-31, 2026/05/31, May 31, 2026 or 31 May 2026."""
    found = [_safe_date(int(y), int(m), int(d)) for y, m, d in ISO_DATE_RE.findall(text)]
    for a, b, y in LONG_DATE_RES[0].findall(text):
        found.append(_safe_date(int(y), _MONTHS.get(a.lower()), int(b)))
    for a, b, y in LONG_DATE_RES[1].findall(text):
        found.append(_safe_date(int(y), _MONTHS.get(b.lower()), int(a)))
    return {d for d in found if d is not None}


def _found(text: str, needle: str, *, bad_before: str, bad_after: str) -> bool:
    """``needle`` occurs in ``text`` not glued to other digits (str.find is C-fast; no regex scan)."""
    start = text.find(needle)
    while start >= 0:
        end = start + len(needle)
        if (start == 0 or text[start - 1] not in bad_before) and (end == len(text) or text[end] not in bad_after):
            return True
        start = text.find(needle, start + 1)
    return False


@lru_cache(maxsize=65536)  # disclosure values repeat across cases and configurations
def _money_forms(value: str) -> tuple[tuple[str, str], ...]:
    amount = Decimal(value)
    forms = {f"{amount:,.2f}", f"{amount:.2f}"}
    if amount == amount.to_integral_value():
        forms |= {f"{amount:,.0f}", f"{amount:.0f}"}
    return tuple((f, "0123456789%," + ("." if "." not in f else "")) for f in sorted(forms))


def money_stated(text: str, amount: Decimal | str) -> bool:
    """The amount appears as 1,080.00 / 1080.00 (or 1,080 / 1080 for whole amounts)."""
    return any(_found(text, form, bad_before="0123456789.,", bad_after=after)
               for form, after in _money_forms(str(amount)))


_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")


@lru_cache(maxsize=65536)
def _date_forms(iso: str) -> tuple[str, ...]:
    day = date.fromisoformat(iso)
    long, short = _MONTH_NAMES[day.month - 1], _MONTH_NAMES[day.month - 1][:3]
    return (iso, iso.replace("-", "/"), f"{long} {day.day}, {day.year}", f"{long} {day.day} {day.year}",
            f"{day.day} {long} {day.year}", f"{short} {day.day}, {day.year}", f"{day.day} {short} {day.year}")


def date_stated(text: str, day: date | str) -> bool:
    """The date appears as 2026-05-31, 2026/05/31, May 31, 2026, May 31 2026 or 31 May 2026."""
    iso = day if isinstance(day, str) else day.isoformat()
    return any(_found(text, form, bad_before="0123456789", bad_after="0123456789") for form in _date_forms(iso))


def handling_reasons(case: Case, decision: Decision, *, disclosures: bool = True) -> list[str]:
    """Rubric checks on the customer message and the escalation target.

    ``disclosures=False`` skips the required-disclosure checks: when the decision fields are
    already wrong, "the message does not state the right price" says nothing new.
    """
    reasons = []
    message = decision.message
    lowered = message.lower()
    # Disclosures belong to the reviewed action's message; a deferral or another action has none to make.
    needs = case.rubric.required_disclosures if disclosures and decision.action == case.reviewed.action else []
    for disclosure in needs:
        stated = money_stated if disclosure.kind == "money" else date_stated
        ok = stated(message, disclosure.value)
        if not ok:
            reasons.append(f"check.missing_disclosure:{disclosure.name}")
    for reason, phrases in case.rubric.forbidden_phrases.items():
        if any(p.lower() in lowered for p in phrases):
            reasons.append(f"check.forbidden:{reason}")
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
