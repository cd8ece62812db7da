"""The rules baseline: the *written* policy as code, applied to the structured facts in
the prompt. It ignores the conversation history and free text, knows no undocumented
practice and no operational guidance, and never errs in arithmetic. It prices with the
catalogue the prompt shows, or with the task's catalogue when the prompt shows none."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

from evalkit._tokens import count_tokens
from evalkit.tasks.upgrades._catalogue import Catalogue
from evalkit.tasks.upgrades._engine import decide, disclosures_for, policy_params
from evalkit.tasks.upgrades._policy import WRITTEN_IDS
from evalkit.tasks.upgrades._read import read_prompt


def rules_answer(prompt_text: str, *, catalogue: Catalogue | None = None) -> str:
    """The written policy's decision as JSON; ``catalogue``: the team's (the shipped one by default)."""
    reading = read_prompt(prompt_text, count_tokens=count_tokens, catalogue=catalogue)
    if reading.facts is None:
        return json.dumps({"action": "escalate", "escalate_to": "billing", "confidence": 0.5,
                           "message": "Missing account facts: routed to a human."})
    f = reading.facts.without_history()
    if f.catalogue is None and catalogue is not None:
        f = replace(f, catalogue=dict(catalogue.prices))  # code knows the catalogue the prompt left out
    params = policy_params(catalogue)
    outcome = decide(f, frozenset(WRITTEN_IDS), params=params)
    d = {k: v for k, v in outcome.decision.as_dict().items() if v is not None}
    lines = {"approve": "Your upgrade is approved.", "counter_offer": "We can offer the contract minimum instead.",
             "deny": "This is not an upgrade; please use the downgrade form.",
             "escalate": "Your request has been passed to the right team."}
    msg = [lines[d["action"]]]
    for disc in disclosures_for(f, frozenset(WRITTEN_IDS), outcome, params=params):
        msg.append(f"{disc.name.replace('_', ' ')}: {'$' if disc.kind == 'money' else ''}{disc.value}.")
    # Rules have no sense of their own blind spots; they are sure except where facts look unusual.
    unusual = f.promo or f.contract or f.cohort != "current" or f.dispute or f.failed_payment or f.renewal_negotiation
    d["confidence"] = 0.9 if unusual else 0.99
    d["message"] = " ".join(msg)
    return json.dumps({k: str(v) if isinstance(v, Decimal) else v.isoformat() if hasattr(v, "isoformat") else v
                       for k, v in d.items()})
