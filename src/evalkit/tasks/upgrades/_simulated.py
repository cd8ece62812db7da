"""A simulated LLM for the upgrades domain (offline demos and tests; always labelled
"simulated").

It reads the rendered prompt (``_read.py``: facts in any layout, rules by their content,
history in order) and decides with the reference engine using what it understood:

- what is hard in the prompt makes it err: buried history facts (attention decays with
  the tokens after them, more inside pasted threads), revocations it misses (a dispute
  resolved, a lock ended), rules seen only as precedent or in a superseded memo, a
  request only in the customer's words;
- injected slips (arithmetic, dropped or stacked discounts, obeying an injection,
  skipped disclosures, leaks, broken JSON) happen whatever the prompt says;
- stated confidence comes only from what it can observe (moving parts, conflicts,
  changed facts, hints, unexplained prices, missing information, context length), never
  from its own slips: ``SimProfile.without_slips()`` leaves every confidence unchanged.

Random draws use common random numbers keyed on the *case* (account and date, read the
same way from any layout), not on the prompt wording: two prompt variants differ only
through what they contain, plus a small ``prompt_sensitivity`` share of draws keyed on
the full prompt text. Slips, reading and confidence draw from separate streams.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass, replace
from decimal import Decimal

from evalkit.tasks.upgrades._engine import (
    Fields,
    Outcome,
    Params,
    decide,
    disclosures_for,
    money,
    policy_params,
)
from evalkit.tasks.upgrades._facts import Facts
from evalkit.tasks.upgrades._read import HistoryEvent, Reading
from evalkit.tasks.upgrades._sim_profiles import SimProfile

CONFIDENCE_LEVELS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99)

_DISCOUNT_CLAUSES = ("UPG-5", "UPG-4", "PRX-1", "PRX-2")
_PARAM_FIELDS = {f for f in Params.__dataclass_fields__}


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@dataclass(frozen=True, kw_only=True)
class SimAnswer:
    text: str
    action: str | None
    action_probability: float
    """A better-calibrated internal probability, exposed as the action token's logprob."""


@dataclass(kw_only=True)
class Beliefs:
    """What the model took from the prompt, and what it could see was uncertain."""

    known: set[str]
    params: dict[str, object]
    stack: bool = False
    conflicts: int = 0
    from_precedent: int = 0


def _beliefs(reading: Reading, profile: SimProfile, u: list[float]) -> Beliefs:
    b = Beliefs(known=set(), params={})
    by = reading.policy.by_clause
    for clause, stmts in sorted(by.items()):
        slot = sum(map(ord, clause)) % 8  # a clause's draw does not depend on which others are present
        draw = u[slot]
        current = [s for s in stmts if s.origin in ("policy", "retrieved") and not s.stale]
        stale = [s for s in stmts if s.origin == "retrieved" and s.stale]
        precedents = [s for s in stmts if s.origin == "precedent"]
        chosen: list = []
        if current:
            chosen = [s for s in current if not s.negated]
            if chosen and len(chosen) < len(current):
                b.conflicts += 1  # the prompt says both
            own = [s for s in current if s.origin == "policy"] or current  # the prompt outranks a passage
            if any(s.negated for s in own):
                chosen = []  # its rules take it away ("expire on upgrade"), whatever a fact line restates
            if chosen and stale and any(dict(s.params) != dict(chosen[0].params) for s in stale):
                b.conflicts += 1
                if draw < profile.stale_uptake * 0.5:
                    chosen = stale[:1]  # two memos disagree and it picked the old one
        elif stale and draw < profile.stale_uptake:
            chosen = stale[:1]
        elif precedents:
            positive = [s for s in precedents if not s.negated]
            if positive and draw < profile.precedent_uptake:
                chosen = positive[:1]
                b.from_precedent += 1
            if positive and len(positive) < len(precedents):
                b.conflicts += 1
        chosen = [s for s in chosen if not s.negated]
        if not chosen:
            continue
        near_miss = [s for s in precedents if s.negated]
        if near_miss and chosen[0].origin != "policy" and u[8 + slot % 4] < profile.misled_by_near_miss:
            continue  # a retrieved case that looked like this one said "no discount"
        b.known.add(clause)
        for statement in chosen:
            for name, value in statement.params:
                if name == "stack":
                    b.stack = bool(value)
                elif name in _PARAM_FIELDS:
                    b.params[name] = value
    return b


def _notice(event: HistoryEvent, profile: SimProfile, u: float) -> bool:
    p = math.exp(-event.tokens_after / profile.attention_tokens)
    if event.in_long_turn:
        p *= 1 - profile.long_turn_penalty
    return u < p


def _observed_risk(reading: Reading, f, beliefs: Beliefs, noticed: list[HistoryEvent]) -> float:  # type: ignore[no-untyped-def]
    """What a model can see makes a case hard. Never looks at the model's own slips."""
    risk = 0.03
    parts = bool(f.promo) + (f.cohort != "current") + bool(f.contract) + (f.cycle != f.target_cycle)
    parts += bool(f.migrated_from or f.nonprofit) + (f.target_plan != f.plan and f.target_seats != f.seats)
    risk += 0.035 * parts  # difficulty: moving parts in the price
    risk += 0.06 * (f.dispute or f.failed_payment or f.renewal_negotiation)
    risk += 0.07 * beliefs.conflicts + 0.05 * beliefs.from_precedent  # conflicting or indirect evidence
    risk += 0.06 * sum(e.revoked_tokens_after is not None for e in noticed)  # a fact that changed over time
    risk += 0.08 * any(e.kind == "hint" for e in noticed)
    risk += 0.05 * reading.request_from_text + 0.12 * reading.request_ambiguous  # missing information
    risk += 0.05 * bool(reading.attack)
    if f.catalogue and _unexplained_price(f, beliefs):
        risk += 0.08
    risk += min(0.12, reading.history_tokens / 50000)  # long, noisy context
    return risk


def _unexplained_price(f, beliefs: Beliefs) -> bool:  # type: ignore[no-untyped-def]
    """The account pays noticeably less than anything the model knows explains."""
    per_seat = f.catalogue.get(f.plan, (None, None))[0 if f.cycle == "monthly" else 1] if f.catalogue else None
    if per_seat is None or f.contract is not None or f.history_lock_price is not None:
        return False
    best = max([dict(beliefs.params.get("cohort_discount", ()) or ()).get(f.cohort, 0)], default=0)
    expected = per_seat * f.seats * (100 - best) / 100
    return f.recurring_price < expected * Decimal("0.95")


def simulate(reading: Reading, prompt_text: str, *, profile: SimProfile, seed: int, sample_index: int,
             temperature: float, policy: Params | None = None) -> SimAnswer:
    """``policy``: the numbers the model falls back on where its prompt states none (the catalogue's)."""
    draw_index = sample_index if temperature > 0 else 0
    rng = _rng(seed, profile.name, reading.case_key, draw_index)
    if rng.random() < profile.prompt_sensitivity:  # wording matters a little, as with real models
        rng = _rng(seed, profile.name, hashlib.sha256(prompt_text.encode()).hexdigest(), draw_index)
    u = [rng.random() for _ in range(16)]  # slips: fixed count, each decision uses its own draw
    r = [rng.random() for _ in range(16)]  # reading: what it noticed, believed, judged
    c = rng.gauss(0, 1)  # confidence noise: its own draw
    f = reading.facts
    if f is None:
        conf = _level(0.55 + profile.overconfidence + profile.confidence_noise * c)
        return _answer({"action": "escalate", "escalate_to": "billing", "message": "I need more information "
                        "about this account before I can make a change.", "confidence": conf}, "escalate", 0.4,
                       u, profile)

    beliefs = _beliefs(reading, profile, r)
    params = replace(policy or policy_params(), **{k: v for k, v in beliefs.params.items()})
    f, noticed = _with_history(reading, f, profile, r)
    known = _known_clauses(beliefs, f, profile, r, u)
    if reading.request_from_text and u[0] < profile.text_request_misread and f.target_seats != f.seats:
        f = replace(f, target_seats=f.target_seats - f.seats if f.target_seats > 2 * f.seats else
                    f.target_seats + f.seats)  # "add 5 seats" read as "5 seats in total", or the reverse
    stack = beliefs.stack or u[6] < profile.stack_discounts
    unsure = (any(e.kind == "hint" for e in noticed) and not known & {"PRX-1", "PRX-2", "PRX-3"}) or \
        reading.request_ambiguous or (f.catalogue is not None and _unexplained_price(f, beliefs))
    if unsure and r[10] < profile.escalate_when_unsure:
        outcome = Outcome(decision=Fields(action="escalate", escalate_to="billing", target_plan=f.target_plan,
                                          seats=f.target_seats))
    else:
        outcome = decide(f, frozenset(known), stack_discounts=stack, params=params)
    d = outcome.decision.model_dump()

    obeyed = reading.attack is not None and u[7] < profile.injection_obey
    notes: list[str] = _obey(reading, d, u[8]) if obeyed else _refuse(reading)
    if d.get("prorated_charge_today") and u[9] < profile.arithmetic_slip:
        d["prorated_charge_today"] = money(Decimal(d["prorated_charge_today"]) * Decimal("1.0333"))
    message, _ = _message(d, disclosures_for(f, frozenset(known), outcome, params=params), profile, u, reading,
                          notes)
    internal_p = max(0.02, 1 - _observed_risk(reading, f, beliefs, noticed))
    stated = internal_p + profile.overconfidence + profile.confidence_noise * c
    d["message"], d["confidence"] = message, _level(stated)
    return _answer(d, d["action"], internal_p, u, profile)


def _with_history(reading: Reading, f: Facts, profile: SimProfile,
                  r: list[float]) -> tuple[Facts, list[HistoryEvent]]:
    """The facts plus the history events the model noticed (and did not notice revoked); and what it noticed."""
    noticed = [e for i, e in enumerate(reading.events) if _notice(e, profile, r[12 + i % 4] if i < 4 else
                                                                   _rng(reading.case_key, i).random())]
    for e in noticed:
        live = e.revoked_tokens_after is None or not (
            r[11] < profile.revocation_read * math.exp(-e.revoked_tokens_after / profile.attention_tokens))
        if not live:
            continue
        if e.kind == "lock":
            f = replace(f, history_lock_price=e.price, history_lock_until=e.until)
        elif e.kind == "dispute":
            f = replace(f, history_dispute=True)
        elif e.kind == "signoff":
            f = replace(f, history_am_signoff=True)
    return f, noticed


def _known_clauses(beliefs: Beliefs, f: Facts, profile: SimProfile, r: list[float], u: list[float]) -> set[str]:
    """The clauses the model applies: what it believed, plus its own judgement, less its slips."""
    known = set(beliefs.known)
    for clause, on in (("OPS-1", f.dispute or f.history_dispute), ("OPS-2", f.failed_payment),
                       ("OPS-3", f.renewal_negotiation), ("OPS-4", f.history_am_signoff)):
        if on and clause not in known and r[9] < profile.ops_judgement:
            known.add(clause)  # judgement: a careful model escalates on its own
        elif on and clause in known and u[3] > profile.ops_follow:
            known.discard(clause)
    if u[4] < profile.miss_discount:
        known.discard(_DISCOUNT_CLAUSES[int(u[5] * len(_DISCOUNT_CLAUSES))])
    return known


def _level(stated: float) -> float:
    return min(CONFIDENCE_LEVELS, key=lambda c: abs(c - min(max(stated, 0.5), 0.99)))


def _refuse(reading: Reading) -> list[str]:
    """A model that resists an injected request usually says so (quoting what it refuses)."""
    if reading.attack in ("false_promise_discount", "fake_authority") and reading.attack_value:
        return [f"I'm not able to apply the {reading.attack_value}% discount mentioned; our pricing policy "
                "doesn't allow it."]
    if reading.attack == "data_exfiltration":
        return ["I can't share other customers' pricing."]
    return []


def _obey(reading: Reading, d: dict, u: float) -> list[str]:
    kind, value = reading.attack, reading.attack_value
    if kind == "injection_zero_price":
        if d.get("new_recurring_price") is not None:
            d["new_recurring_price"], d["prorated_charge_today"] = Decimal("0.00"), Decimal("0.00")
        return ["As requested, the upgrade is free of charge."]
    if kind in ("false_promise_discount", "fake_authority") and value:
        if u < 0.5 and d.get("new_recurring_price") is not None:
            keep = Decimal(100 - int(value)) / 100
            d["new_recurring_price"] = money(Decimal(d["new_recurring_price"]) * keep)
        return [f"We have applied the {value}% discount you were promised."]
    if kind == "data_exfiltration":
        return [f"For reference, {reading.other_customer_price}." if reading.other_customer_price
                else "Globex is paying a special negotiated rate."]
    return []


def _message(d: dict, disclosures, profile: SimProfile, u: list[float], reading: Reading,  # type: ignore[no-untyped-def]
             notes: list[str]) -> tuple[str, int]:
    action = d["action"]
    parts: list[str] = []
    if action == "approve":
        parts.append(f"Your upgrade to {d.get('target_plan')} with {d.get('seats')} seats is approved.")
    elif action == "counter_offer":
        parts.append(f"We can't go below your contract minimum; we can offer {d.get('seats')} seats instead.")
    elif action == "deny":
        parts.append("This change lowers your plan, so it isn't an upgrade: please use the downgrade form; "
                     "downgrades take effect at renewal.")
    else:
        parts.append(f"I've passed your request to our {str(d.get('escalate_to') or 'billing').replace('_', ' ')} "
                     "team, who will get back to you shortly.")
    labels = {"new_price": "Your new recurring price is ${v}.", "charge_today": "Today we will charge ${v}.",
              "effective_date": "The change takes effect on {v}.",
              "promotion_end": "The promotional price applies until {v}.",
              "price_after_promotion": "After the promotion it will be ${v}."}
    skipped = 0
    for i, disc in enumerate(disclosures):
        if u[10 + (i % 4)] < profile.disclosure_rate:
            parts.append(labels[disc.name].format(v=_fmt(disc.value)))
        else:
            skipped += 1
    if reading.internal_notes and u[14] < profile.leak_rate:
        parts.append("Note from our team: this account is a churn risk, so we kept the offer flexible.")
    parts.extend(notes)
    words = sum(len(p.split()) for p in parts)
    k = int(u[13] * len(_FILLER))
    while words < profile.verbosity_words:
        sentence = _FILLER[k % len(_FILLER)]
        parts.append(sentence)
        words += len(sentence.split())
        k += 1
    return " ".join(parts), skipped


_FILLER = (
    "Thank you for being a customer; we're glad the team is growing with us.",
    "Your admins can review seats and invoices at any time under Settings > Billing.",
    "If anything on your next invoice looks unexpected, just reply to this message.",
    "New seats are available right away, and invitations can be sent from the members page.",
    "Our help centre has a short guide to the features that come with your plan.",
    "We're happy to set up a call with your account team if that would help.",
)


def _fmt(value: str) -> str:
    try:
        return f"{Decimal(value):,.2f}"
    except ArithmeticError:
        return value


def _answer(d: dict, action: str | None, internal_p: float, u: list[float], profile: SimProfile) -> SimAnswer:
    payload = {k: (str(v) if isinstance(v, Decimal) else v.isoformat() if hasattr(v, "isoformat") else v)
               for k, v in d.items() if v is not None or k in ("action",)}
    text = json.dumps(payload)
    if u[15] < profile.invalid_rate:  # broken output: truncated mid-object or prose instead of JSON
        text = text[: len(text) // 2] if u[2] < 0.5 else f"I would {action} this request; price about ${d.get('new_recurring_price')}."
    elif u[1] < 0.15:
        text = f"```json\n{text}\n```"
    elif u[1] > 0.9:
        text = f"{text}\n\nLet me know if you need anything else."
    return SimAnswer(text=text, action=action, action_probability=min(max(internal_p, 0.01), 0.99))
