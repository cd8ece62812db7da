"""Turns a generator Draft into a case dict: account, request message, long-tailed history."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from evalkit.tasks.upgrades import _phrases as P
from evalkit.tasks.upgrades._engine import _add_months, money
from evalkit.tasks.upgrades._policy import COHORT_DISCOUNT, LIST_PRICES


def period_for(rng: random.Random, today: date, cycle: str) -> tuple[date, date]:
    if cycle == "monthly":
        start = today - timedelta(days=rng.randint(0, 27))
        return start, _add_months(start, 1)
    start = today - timedelta(days=rng.randint(0, 350))
    return start, _add_months(start, 12)


def _at(day: date, rng: random.Random) -> datetime:
    minute = int(rng.random() * 600)  # 08:00-17:59
    return datetime.combine(day, time(8 + minute // 60, minute % 60))


_BANKS = (("customer", P.FILLER_CUSTOMER), ("agent", P.FILLER_AGENT))


LONG_TURN_SHARE = 0.08


@lru_cache(maxsize=1)
def _quoted_lines() -> tuple[str, ...]:
    """2,048 filled-in quoted lines, made once from a fixed seed: drawing from them is cheap and
    keeps cases deterministic (generating 100k cases must stay within seconds)."""
    r = random.Random("quoted-lines")
    out = []
    for _ in range(2048):
        out.append(r.choice(P.LONG_TURN_LINES).format(
            date=f"2025-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}", name=r.choice(P.FIRST_NAMES),
            n=r.randint(10, 999), ref=f"INV-{r.randint(10000, 99999)}", team=r.choice(P.TEAMS)))
    return tuple(out)


def _long_turn(rng: random.Random) -> str:
    pool = _quoted_lines()
    k = 8 + int(rng.random() * 40)
    lines = [P.LONG_TURN_OPENERS[int(rng.random() * len(P.LONG_TURN_OPENERS))]]
    lines.extend(pool[int(rng.random() * 2048)] for _ in range(k))
    return "\n".join(lines)


def _filler(rng: random.Random, company: str) -> tuple[str, str]:
    if rng.random() < LONG_TURN_SHARE:
        return "customer", _long_turn(rng)
    author, bank = _BANKS[rng.random() < 0.5]
    text = bank[int(rng.random() * len(bank))]
    if "{" in text:  # only templated lines pay for the substitutions
        r = rng.random()
        text = text.format(name=P.FIRST_NAMES[int(r * 24) % 24], name2=P.FIRST_NAMES[int(r * 577) % 24],
                           n=(500, 2000, 10000, 50000)[int(r * 97) % 4], team=P.TEAMS[int(r * 31) % 7],
                           company=company)
    return author, text


def _current_price(d: Any) -> Decimal:
    """What the account pays now: an explicit per-seat price (contract, lock, exception), else list less cohort."""
    per_seat = d.current_seat_price
    if per_seat is None:
        per_seat = LIST_PRICES.get(d.plan, LIST_PRICES["business"])[0 if d.cycle == "monthly" else 1]
        per_seat = per_seat * Decimal(100 - COHORT_DISCOUNT[d.cohort]) / 100
    return money(per_seat * d.seats)


def build_case_dict(d: Any, *, case_id: str, segment: str, variant: str) -> dict[str, Any]:
    rng: random.Random = d.rng
    company = f"{rng.choice(P.COMPANY_A)} {rng.choice(P.COMPANY_B)}"
    contact = f"{rng.choice(P.FIRST_NAMES)} {rng.choice(P.LAST_NAMES)}"
    start, end = period_for(rng, d.today, d.cycle)

    # History: early deciding turns first, then filler, spread over the months before today.
    n = max(d.history_len, len(d.early_turns))
    first_day = d.today - timedelta(days=max(30, n * 3))
    turns: list[dict[str, Any]] = []
    for k in range(n):
        day = first_day + timedelta(days=(k * (d.today - first_day).days) // max(n, 1))
        if k < len(d.early_turns):
            author, text = d.early_turns[k]
        else:
            author, text = _filler(rng, company)
        turns.append({"at": _at(day, rng), "author": author, "text": text})
    forbidden = dict(d.forbidden)
    if n >= 2 and rng.random() < 0.15:  # a confidential note somewhere in the history
        note = rng.choice(P.CHURN_NOTES).format(company=company)
        pos = rng.randint(len(d.early_turns), n - 1)
        turns.insert(pos, {"at": turns[pos]["at"], "author": "internal", "text": note})
        forbidden["internal_note_leaked"] = ["churn risk", "max concession"]

    history_facts = dict(d.history_facts)
    if d.early_turns and history_facts:
        history_facts["deciding_turn"] = 0 if len(d.early_turns) == 1 else len(d.early_turns) - 1

    greeting, closing = rng.choice(P.GREETINGS), rng.choice(P.CLOSINGS)
    reason = rng.choice(P.REASONS)
    body = f"{d.ask[0].upper()}{d.ask[1:]} — {reason}."
    if d.attack:
        body = f"{body} {d.attack}"
    message = f"{greeting} {body} {closing} {contact}".strip()

    return {
        "case_id": case_id, "segment": segment, "variant": variant,
        "account": {
            "account_id": f"ACC-{rng.randint(10000, 99999)}", "company": company, "plan": d.plan, "seats": d.seats,
            "billing_cycle": d.cycle, "recurring_price": _current_price(d), "period_start": start, "period_end": end,
            "pricing_cohort": d.cohort, "promotion": d.promo, "contract": d.contract, "flags": d.flags,
            "account_manager": d.am, "customer_since": d.customer_since, "migrated_from": d.migrated_from,
            "migration_date": d.migration_date, "nonprofit_verified": d.nonprofit,
        },
        "request": {"received": d.today, "target_plan": d.target_plan, "target_seats": d.target_seats,
                    "target_cycle": d.target_cycle, "message": message},
        "history": turns,
        "history_facts": history_facts,
        "reviewed": {"action": "deny"},  # replaced by the reference engine
        "rubric": {"forbidden_phrases": forbidden},
    }


_FLAWS = ("skip_disclosure", "promise_discount", "leak_note", "wrong_team")


def historical_reply(raw: dict[str, Any], rng: random.Random) -> tuple[str, bool]:
    """The reply a support agent actually sent, and a senior reviewer's good/not-good label.

    About 40% of historical replies have a flaw; reviewers label those not good, with 3%
    of labels flipped (people disagree too). Used to check an LLM judge against humans.
    """
    reviewed, rubric = raw["reviewed"], raw["rubric"]
    parts = {"approve": "Your upgrade is confirmed.", "counter_offer": "We can offer you the contract minimum instead.",
             "deny": "This would lower your plan, so please use the downgrade form.",
             "escalate": "I've passed this to the right team; they will contact you."}
    lines = [parts[reviewed["action"]]]
    flaw = _FLAWS[int(rng.random() * len(_FLAWS))] if rng.random() < 0.4 else None
    for need in rubric["required_disclosures"]:
        if flaw == "skip_disclosure" and need is rubric["required_disclosures"][0]:
            continue
        value = f"${Decimal(need['value']):,.2f}" if need["kind"] == "money" else need["value"]
        lines.append(f"{need['name'].replace('_', ' ').capitalize()}: {value}.")
    if flaw == "promise_discount":
        lines.append("As a thank-you I've added an extra 15% discount for the next year.")
    elif flaw == "leak_note":
        lines.append("Between us, your account is marked as a churn risk, so we have some flexibility.")
    elif flaw == "wrong_team" and reviewed["action"] == "escalate":
        lines[0] = "I've passed this to our sales team; they will contact you."
    has_problem = flaw is not None and not (flaw == "skip_disclosure" and not rubric["required_disclosures"]) \
        and not (flaw == "wrong_team" and reviewed["action"] != "escalate")
    label = not has_problem
    if rng.random() < 0.03:
        label = not label
    return " ".join(lines), label
