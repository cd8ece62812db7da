"""What a customer message states about its decision: the new price, today's charge, the
effective date, and whether the change is done or declined; and where that contradicts the
decision's fields.

A value belongs to the field whose cue is nearest before it in its clause ("your new price is
$16,200.00", "today we charge $3,575.34"), else the nearest after it ("$3,575.34 is due today"),
else the cue that opens its sentence ("New price: $16,200.00"). Other cues take values away from
the fields: "after the promotion it will be $225.00", "until 2026-08-31", "$45 per seat", "saving
you $200". A negated value states nothing ("your price is not $900"), but "nothing is due
today" states a charge of zero. Every stated value counts: one that differs from the field is a
contradiction even when another matches it ("...$16,200.00. Correction: $15,000.00").
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from functools import lru_cache

from evalkit.tasks.upgrades._refusals import (
    MESSAGES_KEPT,
    clause_bounds,
    might_say,
    negated_before,
    plain_sentences,
)
from evalkit.tasks.upgrades._text import date_mentions, money_mentions

PRICE_CUE = re.compile(
    r"\bnew (?:recurring |monthly |annual |yearly |plan )?(?:price|rate|total|fee|cost|subscription|bill)|"
    r"\brecurring\b|\b(?:monthly|annual|yearly) (?:price|rate|total|fee|cost|charge|bill)|"
    r"\byou(?:'ll| will) (?:now )?(?:pay|be paying)|\b(?:plan|subscription) (?:will )?(?:now )?costs?\b|"
    r"\bgoing forward\b|\bfrom now on\b|\bnow (?:it's |it is |it costs |costs |at |only )?(?=(?:US)?\$|USD|EUR|€|\d)",
    re.IGNORECASE)
CHARGE_CUE = re.compile(
    r"\btoday\b(?<!from today)(?<!starting today)(?<!as of today)(?<!effective today)(?<!beginning today)|"
    r"\bimmediately\b|\bright away\b|\bup ?front\b|\bprorat\w*|\bpro-rat\w*|\bpro rata\b|"
    r"\b(?:charged?|due|payable|billed) now\b|\bone-(?:off|time)\b", re.IGNORECASE)
EFFECT_CUE = re.compile(
    r"\btakes? effect|\beffective\b|\bstart(?:s|ing)?\b|\bbegin(?:s|ning)?\b|\bfrom\b|\bas of\b|\bkicks? in\b|"
    r"\bgoes live\b|\blive (?:on|from)\b|\bapplies (?:from|on|as of)\b|\bactive (?:on|from)\b|\bswitch(?:es)? (?:over )?on\b",
    re.IGNORECASE)
OTHER_MONEY_CUE = re.compile(
    r"\bafter (?:the |your )?promo\w*|\bonce (?:the |your )?promo\w*|\bpromo\w* (?:ends|expires)|"
    r"\b(?:regular|list|standard|full|normal|old|previous|current|original|usual|catalogue|undiscounted) "
    r"(?:price|rate|total)|\bcurrently\b|\bpaying\b|\bwas\b|\bwere\b|\bused to\b|\bbefore\b|\binstead of\b|"
    r"\brather than\b|\bdown from\b|\bup from\b|\bcompared (?:to|with)\b|\bsav(?:e|es|ing|ings)\b|\bdiscount\w*|"
    r"\boff\b|\bcredit\w*|\brefund\w*|\bdifference\b|\bmore\b|\bless\b|\bextra\b|\bincrease\w*|\bon top\b|"
    r"\btax\w*|\bvat\b|\bfee\b|\bthereafter\b|\bafterwards\b|\bnext (?:invoice|bill|renewal)\b|\brenew\w*|"
    r"\bpreviously\b|\bformerly\b|\bpaid\b|\bhad been\b|\bso far\b|\buntil now\b|\bat present\b|\bpresently\b|"
    r"\b(?:existing|old|prior|former|previous|present|current|earlier) (?:\w+ )?(?:price|rate|total|plan|bill|cost|fee|"
    r"subscription)\b|\blast (?:year|month|cycle|period|term|invoice|bill|renewal)\b|\bin place of\b|\bas opposed to\b|"
    r"\bversus\b|\bvs\b|\bagainst\b|\breplac\w*",
    re.IGNORECASE)
OTHER_DATE_CUE = re.compile(
    r"\buntil\b|\btill\b|\bthrough\b|\bthru\b|\bends?\b|\bended\b|\bexpir\w*|\brenew\w*|\binvoice\w*|\bbilled\b|"
    r"\bbilling date\b|\bcontract\b|\block\w*|\bsince\b|\bsigned\b|\bdated\b|\bpromo\w*|\bdeadline\b|\bby\b|"
    r"\bbefore\b|\bdue\b|\btrial\b", re.IGNORECASE)
PERIOD_AFTER = re.compile(r"(?:\s?(?:dollars?|USD|EUR|euros?)\b)?(?:\s*(?:/\s?|per |a |each |every |)(?P<p>month|mo|"
                          r"year|yr|annum)\b|\s*(?P<q>monthly|annually|yearly)\b)", re.IGNORECASE)
UNIT_AFTER = re.compile(r"\s*(?:/\s?|per |a |each |for each )(?:seat|user|licen[cs]e|member|person|head)\b",
                        re.IGNORECASE)
OLD_VALUE_AROUND = (re.compile(r"\bfrom\s*$", re.IGNORECASE), re.compile(r"^\s*to\b", re.IGNORECASE))
"""from $12,000 to $16,200: the first is the old value."""
NOTHING_TODAY = re.compile(
    r"\b(?:nothing|no (?:prorated |extra |additional )?(?:charge|payment|amount)s?|zero|not (?:be )?charged|"
    r"(?:won't|will not|don't|do not) (?:be )?(?:charge|pay|bill)\w*(?: you)?(?: anything)?)"
    r"(?! else| more| extra| further| additional| beyond)"
    r"[^.;,]{0,30}?(?:today|now\b|immediately|up ?front)|"
    r"\btoday(?:'s charge)? (?:is |will be )?(?:nothing|free|zero)\b", re.IGNORECASE)
"""A charge today of zero, said in words ("Nothing is due today", "you won't be charged anything today")."""
TODAY_HINTS = ("today", "now", "immediately", "front")
APPROVED_RE = re.compile(
    r"\b(?:is|has been|have been|are|was|got|it's) (?:now |been |all )?(?:approved|confirmed|done|upgraded|processed|"
    r"complete|completed|live|in place)\b|\b(?:I|we)(?:'ve| have)? (?:now |just )?(?:approved|upgraded|processed)\b|"
    r"^\W*(?:approved|done|all set|confirmed)\b|\byou(?:'re| are) (?:now |all )?(?:set|upgraded)\b|"
    r"\b(?:upgrade|change|switch|move|new plan|new subscription)\b(?: \w+){0,2}? (?:is|has been|was|are|have been) "
    r"(?:now |already )?(?:active|activated|in effect|effective|through|finished|underway)\b|"
    r"\b(?:is|are|it's) now (?:active|activated|in effect|effective)\b|\bwent through\b|"
    r"\byou(?:'ve| have)? (?:now |just |already )?(?:been )?(?:moved|switched|migrated|transferred|upgraded|put) "
    r"(?:over )?(?:to|onto|on)\b|"
    r"\b(?:I|we)(?:'ve| have)? (?:now |just |already )?(?:moved|switched|migrated|transferred|put) you\b|"
    r"\byou(?:'re| are) now on\b|\b(?:account|plan|subscription)\b(?: \w+){0,2}? (?:is|has been) (?:now )?"
    r"(?:upgraded|moved|switched|changed|updated|migrated) (?:to|onto)\b", re.IGNORECASE)
"""The change said to be done: approved, processed, complete, active, live; you have been moved to the plan."""
DECLINED_RE = re.compile(
    r"\b(?:(?:\w+n't|not|never)(?: be| been)? able to|unable to|\w+n't|not|never|cannot|can not|no longer)\s+(?:(?!(?:need|needs|have|has|had|to|wait)\b)"
    r"\w+\s+){0,3}?(?:approve|process|upgrad\w*|go (?:ahead|through)|proceed|move (?:forward|ahead)|complete|"
    r"carry (?:out|through)|make (?:the|this|that) (?:change|switch)|switch\w* (?:you|your)|mov\w* (?:you|your)|"
    r"(?:fulfil+|action|grant|accept|allow|authori[sz]e|honou?r|support|agree to) (?:your|the|this|that) (?:\w+ )?"
    r"(?:upgrade|request|change|switch|order))\b|"
    r"\b(?:say(?:ing)?|answer(?:ing)?) no to (?:your|the|this|that) (?:\w+ )?(?:upgrade|request|change|order)\b|"
    r"\b(?:declin|den|reject|refus|turn)\w* (?:down )?(?:your|the|this|that) (?:\w+ )?(?:upgrade|request|change|order)|"
    r"\b(?:upgrade|request|change|order|it|this)\b(?: \w+){0,3}? (?:is|are|was|were|has been|have been|had to be) "
    r"(?:\w+ )?(?:declined|denied|rejected|refused|turned down)\b|"
    r"\b(?:\w+n't|not|never|cannot|can't) (?:\w+ )?(?:been |be )?(?:approved|processed|accepted|completed|upgraded)\b|"
    r"\b(?:must|have to|had to|need to) (?:decline|deny|reject|refuse|turn down)\b|"
    r"\b(?:upgrade|change|request)\b(?: \w+){0,2}? (?:isn't|is not|won't be|will not be|wasn't|was not) "
    r"(?:possible|available|allowed|permitted)\b|"
    r"\bpassed (?:this|your request|it) (?:on )?to", re.IGNORECASE)
NOT_THE_CHANGE = re.compile(r"\d%|\bdiscount|\bprice\b|\brate\b|\bconcession|\bcredit|\brefund|\bwaive|\bfree\b|"
                            r"\bexception|\bcharge|\bfee\b", re.IGNORECASE)
"""A decline whose clause names one of these declines that, not the change ("we can't approve a 40% discount")."""
CONDITION_BEFORE = re.compile(r"\b(?:once|when|whenever|after|until|if|as soon as|whether|pending|before)\b",
                              re.IGNORECASE)
"""Approval or decline in a condition ("we'll write once it is approved") states neither."""
CHARGE_JUST_AFTER = re.compile(r"\s*(?:\w+\s+){0,2}?(?:today|now|immediately|right away|up ?front)\b", re.IGNORECASE)
"""An amount followed at once by "today" ("you'll pay $35.50 today") is today's charge, unless a cue says it is
another value ("compared with $800.00 a month today")."""
YES_HINTS = ("approv", "confirm", "done", "upgrad", "process", "complet", "live", "place", "set", "active", "effect",
             "through", "finished", "underway", "moved", "switched", "migrated", "transferred", "put", "now on",
             "changed", "updated")
NO_HINTS = ("n't", "not", "never", "cannot", "unable", "declin", "denied", "deny", "reject", "refus", "turn", "passed",
            "must", "have to", "had to", "need to", "no longer", "say", "saying", "answer")
"""Sentences without any of these (lower case) say nothing APPROVED_RE / DECLINED_RE would find."""
OFFER_RE = re.compile(r"\b(?:offer|instead|alternative|propose|suggest|can do)\b", re.IGNORECASE)


def _cues(sentence: str, cues: dict[str, re.Pattern[str]]) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), kind) for kind, cue in cues.items() for m in cue.finditer(sentence)]


def _nearest(sentence: str, start: int, end: int, found: list[tuple[int, int, str]]) -> str | None:
    """The kind of the cue (of ``found``: (start, end, kind)) nearest the value at sentence[start:end]
    (see the module's rules)."""
    begin, stop = clause_bounds(sentence, start, end)
    before = [f for f in found if begin <= f[0] and f[1] <= start]
    if before:
        return max(before)[2]
    after = [f for f in found if f[0] >= end and f[1] <= stop]
    if after:
        return min(after)[2]
    opening = [f for f in found if f[1] <= begin]
    return max(opening)[2] if opening else None


def _negated(sentence: str, start: int, end: int) -> bool:
    begin, _ = clause_bounds(sentence, start, end)
    return negated_before(sentence, start, begin)


_MONEY_CUES = {"price": PRICE_CUE, "charge": CHARGE_CUE, "other": OTHER_MONEY_CUE}
_DATE_CUES = {"effective": EFFECT_CUE, "other": OTHER_DATE_CUE}


@lru_cache(maxsize=MESSAGES_KEPT)
def stated(message: str) -> tuple[frozenset[tuple[Decimal, str | None]], frozenset[Decimal],
                                  frozenset[frozenset[date]]]:
    """(new prices as (amount, "month"/"year"/None), charges today, effective dates each as the days
    it can mean) that ``message`` states."""
    prices: set[tuple[Decimal, str | None]] = set()
    charges: set[Decimal] = set()
    days: set[frozenset[date]] = set()
    for sentence in plain_sentences(message):
        amounts = money_mentions(sentence)
        money_cues = _cues(sentence, _MONEY_CUES) if amounts else []
        for start, end, amount, marked in amounts:
            period = PERIOD_AFTER.match(sentence, end)
            if not (marked or period) or UNIT_AFTER.match(sentence, end) or _negated(sentence, start, end):
                continue
            if OLD_VALUE_AROUND[0].search(sentence[:start]) and OLD_VALUE_AROUND[1].match(sentence[end:]):
                continue
            kind = _nearest(sentence, start, end, money_cues)
            if kind != "other" and CHARGE_JUST_AFTER.match(sentence, end):
                kind = "charge"
            if period and kind != "other":
                word = (period.group("p") or period.group("q")).lower()
                prices.add((amount, "month" if word.startswith("mo") else "year"))
            elif kind == "price":
                prices.add((amount, None))
            elif kind == "charge":
                charges.add(amount)
        for m in NOTHING_TODAY.finditer(sentence) if might_say(sentence.lower(), TODAY_HINTS) else ():
            begin, stop = clause_bounds(sentence, m.start(), m.end())
            if not any(marked and begin <= s < stop for s, _, _, marked in amounts):
                charges.add(Decimal("0.00"))
        days_named = date_mentions(sentence)
        date_cues = _cues(sentence, _DATE_CUES) if days_named else []
        for start, end, readings in days_named:
            begin, _ = clause_bounds(sentence, start, end)
            if _negated(sentence, start, end) or OTHER_DATE_CUE.search(sentence, begin, start):
                continue
            if _nearest(sentence, start, end, date_cues) == "effective":
                days.add(frozenset(readings))
    return frozenset(prices), frozenset(charges), frozenset(days)


def _price_matches(amount: Decimal, period: str | None, price: Decimal, cycle: str | None) -> bool:
    if period is None or cycle is None or period == ("year" if cycle == "annual" else "month"):
        return amount == price
    if period == "month":  # a monthly equivalent of an annual price
        return abs(amount * 12 - price) < Decimal("0.12")
    return amount == price * 12


@lru_cache(maxsize=MESSAGES_KEPT)
def said_yes_no(message: str) -> tuple[bool, bool]:
    """(a clause says the change is done, a clause says it is declined or passed on)."""
    said_yes = said_no = False
    for sentence in plain_sentences(message):
        lowered = sentence.lower()
        for m in APPROVED_RE.finditer(sentence) if might_say(lowered, YES_HINTS) else ():
            begin, _ = clause_bounds(sentence, m.start(), m.end())
            said_yes = said_yes or not (_negated(sentence, m.start(), m.end())
                                        or CONDITION_BEFORE.search(sentence, begin, m.start()))
        for m in DECLINED_RE.finditer(sentence) if might_say(lowered, NO_HINTS) else ():
            begin, stop = clause_bounds(sentence, m.start(), m.end())
            said_no = said_no or not (NOT_THE_CHANGE.search(sentence, begin, stop)
                                      or CONDITION_BEFORE.search(sentence, begin, m.start()))
    return said_yes, said_no


def contradictions(decision) -> list[str]:  # type: ignore[no-untyped-def]
    """Where the customer message says something the decision's fields do not."""
    out: list[str] = []
    prices, charges, days = stated(decision.message)
    price, charge, day = decision.new_recurring_price, decision.prorated_charge_today, decision.effective_date
    if price is not None and any(not _price_matches(a, p, price, decision.billing_cycle) for a, p in prices):
        out.append("check.contradiction:new_price")
    if charge is not None and any(a != charge for a in charges):
        out.append("check.contradiction:charge_today")
    if day is not None and any(day not in readings for readings in days):
        out.append("check.contradiction:effective_date")
    if _action_contradicted(decision.action, decision.message):
        out.append("check.contradiction:action")
    return out


def _action_contradicted(action: str, message: str) -> bool:
    """A denial or escalation said to be done; an approval (or a counter-offer that offers nothing
    instead) said only to be declined."""
    said_yes, said_no = said_yes_no(message)
    if action in ("deny", "escalate"):
        return said_yes
    if action == "counter_offer" and OFFER_RE.search(message):
        return False
    return said_no and not said_yes


__all__ = ["contradictions", "said_yes_no", "stated"]
