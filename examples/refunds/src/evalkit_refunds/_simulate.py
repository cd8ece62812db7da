"""The offline stand-ins: the policy as code (rules baseline) and a simulated model.

Both read only the rendered prompt. The simulated model applies the rules the prompt
states (recognised by what they say), slips in ways that depend on the case (dates near a
window's edge, several rules at once) and states a confidence from what it can observe.
Its numbers are simulated, and labelled so by evalkit.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from decimal import Decimal

from evalkit.tasks import SimulatedAnswer
from evalkit_refunds._policy import CLAUSES, Facts, decide
from evalkit_refunds._render import clauses_in, read_facts


@dataclass(frozen=True, kw_only=True)
class Profile:
    name: str
    price_as: str
    slip: float
    """Chance of a slip on an easy case; edge cases multiply it."""
    overconfidence: float
    vague: float
    """Chance a refund reply leaves out the amount: a correct decision that is not a good reply."""


PROFILES = {"small": Profile(name="small", price_as="gpt-4o-mini", slip=0.09, overconfidence=0.12, vague=0.15),
            "large": Profile(name="large", price_as="gpt-4o", slip=0.03, overconfidence=0.04, vague=0.05)}


def reply(action: str, amount: Decimal | None, team: str | None) -> str:
    if action in ("refund_full", "refund_partial"):
        return f"We have refunded ${amount:,.2f} to your original payment method."
    if action == "escalate":
        return f"I've passed your request to our {team} team, who will review it and reply within two days."
    return "I'm sorry: under our refund policy this order is no longer refundable."


def rules_answer(prompt_text: str) -> str:
    facts = read_facts(prompt_text)
    if facts is None:
        return json.dumps({"action": "escalate", "escalate_to": "manager", "confidence": 0.5,
                           "message": reply("escalate", None, "manager")})
    action, amount, team = decide(facts, frozenset(c.id for c in CLAUSES))
    return json.dumps({"action": action, "refund_amount": None if amount is None else str(amount),
                       "escalate_to": team, "message": reply(action, amount, team), "confidence": 0.9})


def _difficulty(f: Facts) -> float:
    """What a model can see makes a case hard: a date near a window's edge, several rules at once."""
    hard = 0.0
    hard += 1.5 if min(abs(f.days - 30), abs(f.days - 60)) <= 3 else 0.0
    hard += 1.0 if f.reason == "duplicate_charge" and f.amount > 500 else 0.0
    hard += 0.7 if f.category == "digital" else 0.0
    hard += 0.8 if f.refunds_90d >= 3 else 0.0
    return hard


def simulate(prompt_text: str, *, profile: Profile, seed: int, sample_index: int,
             temperature: float) -> SimulatedAnswer:
    facts = read_facts(prompt_text)
    key = hashlib.sha256(f"{seed}|{profile.name}|{prompt_text}|{sample_index if temperature else 0}".encode())
    rng = random.Random(int.from_bytes(key.digest()[:8], "big"))
    if facts is None:
        text = json.dumps({"action": "escalate", "escalate_to": "manager", "confidence": 0.4,
                           "message": reply("escalate", None, "manager")})
        return SimulatedAnswer(text=text, label="escalate", label_probability=0.4)
    difficulty = _difficulty(facts)
    clauses = clauses_in(prompt_text)
    slipped = rng.random() < profile.slip * (1 + difficulty)
    if slipped:  # a plausible mistake: one rule the prompt states is forgotten
        clauses = clauses - {rng.choice(sorted(clauses - {"RF-1"}) or ["RF-1"])}
    action, amount, team = decide(facts, clauses)
    p_right = max(0.05, min(0.99, 0.97 - 0.12 * difficulty - (0.25 if slipped else 0.0)))
    stated = min(0.99, max(0.05, 0.97 - 0.1 * difficulty + profile.overconfidence + rng.gauss(0, 0.04)))
    message = reply(action, amount, team)
    if amount is not None and rng.random() < profile.vague:
        message = "Your refund has been processed to your original payment method."
    text = json.dumps({"action": action, "refund_amount": None if amount is None else str(amount),
                       "escalate_to": team, "message": message, "confidence": round(stated, 2)})
    return SimulatedAnswer(text=text, label=action, label_probability=p_right)
