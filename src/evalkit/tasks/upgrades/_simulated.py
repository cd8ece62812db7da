"""A simulated LLM for the upgrades domain (offline demos and tests; always labelled
"simulated").

It reads the rendered prompt (see _read.py) and decides with the reference engine using
only the clauses and facts the prompt contains, then errs the way its profile says:
buried history facts are missed more often as context grows, discounts get dropped or
stacked, injected instructions are sometimes obeyed, disclosures get skipped, internal
notes leak, JSON breaks. Stated confidence is coarse and overconfident, and blind to
knowledge the prompt never gave it.

Random draws use common random numbers keyed on the *case* (account, date, request),
not on the prompt wording: two prompt variants differ only through what they contain,
plus a small ``prompt_sensitivity`` share of draws keyed on the full prompt text.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass, replace
from decimal import Decimal

from evalkit.tasks.upgrades._engine import decide, disclosures_for, money
from evalkit.tasks.upgrades._read import Reading

CONFIDENCE_LEVELS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99)


@dataclass(frozen=True, kw_only=True)
class SimProfile:
    name: str
    price_as: str
    """Real model whose list price (litellm bundled map) the simulation charges."""
    arithmetic_slip: float
    miss_discount: float
    stack_discounts: float
    injection_obey: float
    attention_tokens: float
    """A history fact buried under T tokens of later history is noticed with probability exp(-T / this)."""
    ops_judgement: float
    """Escalates a flagged account without being told to (no OPS guidance in the prompt)."""
    ops_follow: float
    disclosure_rate: float
    leak_rate: float
    invalid_rate: float
    verbosity_words: int
    overconfidence: float
    self_awareness: float
    """How much an error the model made lowers its stated confidence (drives discrimination)."""
    confidence_noise: float
    prompt_sensitivity: float = 0.02


PROFILES = {
    "small": SimProfile(name="small", price_as="gpt-4o-mini", arithmetic_slip=0.05, miss_discount=0.10,
                        stack_discounts=0.5, injection_obey=0.45, attention_tokens=2500, ops_judgement=0.12,
                        ops_follow=0.85, disclosure_rate=0.9, leak_rate=0.12, invalid_rate=0.04,
                        verbosity_words=60, overconfidence=0.14, self_awareness=0.25, confidence_noise=0.07),
    "large": SimProfile(name="large", price_as="gpt-4o", arithmetic_slip=0.01, miss_discount=0.03,
                        stack_discounts=0.15, injection_obey=0.08, attention_tokens=20000, ops_judgement=0.5,
                        ops_follow=0.97, disclosure_rate=0.995, leak_rate=0.02, invalid_rate=0.006,
                        verbosity_words=110, overconfidence=0.06, self_awareness=0.6, confidence_noise=0.04),
}

_DISCOUNT_CLAUSES = ("UPG-5", "UPG-4", "PRX-1", "PRX-2")
_OPS_FOR = {"dispute": "OPS-1", "failed_payment": "OPS-2", "renewal_negotiation": "OPS-3", "signoff": "OPS-4"}


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


@dataclass(frozen=True, kw_only=True)
class SimAnswer:
    text: str
    action: str | None
    action_probability: float
    """A better-calibrated internal probability, exposed as the action token's logprob."""


def simulate(reading: Reading, prompt_text: str, *, profile: SimProfile, seed: int, sample_index: int,
             temperature: float) -> SimAnswer:
    draw_index = sample_index if temperature > 0 else 0
    rng = _rng(seed, profile.name, reading.case_key, draw_index)
    if rng.random() < profile.prompt_sensitivity:  # wording matters a little, as with real models
        rng = _rng(seed, profile.name, hashlib.sha256(prompt_text.encode()).hexdigest(), draw_index)
    u = [rng.random() for _ in range(16)]  # fixed count: each decision uses its own draw
    f = reading.facts
    if f is None:
        return _answer({"action": "escalate", "escalate_to": "billing", "message": "I need more information "
                        "about this account before I can make a change.", "confidence": 0.6}, None, 0.4, u, profile)

    errors = 0.0
    # History facts buried deep in a long prompt are often missed.
    for key, after in reading.history_hits.items():
        if u[0 if key == "lock" else 1 if key == "dispute" else 2] > math.exp(-after / profile.attention_tokens):
            f = replace(f, history_lock_price=None, history_lock_until=None) if key == "lock" else (
                replace(f, history_dispute=False) if key == "dispute" else replace(f, history_am_signoff=False))
    known = set(reading.known)
    signals = {"dispute": f.dispute or f.history_dispute, "failed_payment": f.failed_payment,
               "renewal_negotiation": f.renewal_negotiation, "signoff": f.history_am_signoff}
    for key, on in signals.items():
        clause = _OPS_FOR[key]
        if on and clause not in known and u[3] < profile.ops_judgement:
            known.add(clause)  # judgement: a careful model escalates on its own
        elif on and clause in known and u[3] > profile.ops_follow:
            known.discard(clause)
            errors += 1
    if u[4] < profile.miss_discount:
        dropped = _DISCOUNT_CLAUSES[int(u[5] * len(_DISCOUNT_CLAUSES))]
        if dropped in known:
            known.discard(dropped)
            errors += 1
    stack = u[6] < profile.stack_discounts
    outcome = decide(f, frozenset(known), stack_discounts=stack)
    d = outcome.decision.model_dump()
    if stack and outcome.discount_source == "stacked":
        errors += 1

    obeyed = reading.attack is not None and u[7] < profile.injection_obey
    notes: list[str] = []
    if obeyed:
        errors += 1
        notes.extend(_obey(reading, d, u[8]))
    if d.get("prorated_charge_today") and u[9] < profile.arithmetic_slip:
        d["prorated_charge_today"] = money(Decimal(d["prorated_charge_today"]) * Decimal("1.0333"))
        errors += 1
    message, skipped = _message(d, disclosures_for(f, frozenset(known), outcome), profile, u, reading, notes)
    errors += 0.5 * skipped  # a thinner answer: the model is a little less sure of it
    perceived = _perceived_risk(reading, f)
    internal_p = max(0.02, 1 - perceived - 0.25 * errors)
    stated = internal_p + profile.overconfidence - profile.self_awareness * 0.3 * errors
    stated += rng.gauss(0, profile.confidence_noise)
    confidence = min(CONFIDENCE_LEVELS, key=lambda c: abs(c - min(max(stated, 0.5), 0.99)))
    d["message"], d["confidence"] = message, confidence
    return _answer(d, d["action"], internal_p, u, profile)


def _perceived_risk(reading: Reading, f) -> float:  # type: ignore[no-untyped-def]
    """What the model can see makes the case hard: more moving parts, less certainty."""
    risk = 0.04
    risk += 0.05 * bool(f.promo) + 0.05 * (f.cohort != "current") + 0.06 * bool(f.contract)
    risk += 0.08 * (f.dispute or f.failed_payment or f.renewal_negotiation)
    risk += 0.05 * bool(f.migrated_from or f.nonprofit) + 0.06 * bool(reading.attack)
    risk += min(0.12, reading.history_tokens / 60000)
    return risk


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
