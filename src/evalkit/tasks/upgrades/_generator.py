"""Deterministic generator of realistic historical upgrade cases.

Same (n, seed), same cases, in the same order. The segment mix over-weights edge cases
on purpose; production shares are a separate input (projection). History lengths are
long-tailed, and in the long_context segment the deciding fact sits in an early turn.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import date, timedelta

from evalkit.tasks.upgrades._draft import Draft
from evalkit.tasks.upgrades._facts import facts_from_raw
from evalkit.tasks.upgrades._history import build_case_dict, historical_reply
from evalkit.tasks.upgrades._model import Case
from evalkit.tasks.upgrades._modifiers import (
    DISTRACTOR_SHARE,
    HINT_SHARE,
    HISTORICAL_REPLY_SHARE,
    TEXT_ONLY_SHARE,
    combine_families,
    consistent_dates,
    distract,
)
from evalkit.tasks.upgrades._reference import alternatives, pitfalls, reviewed_outcome, rubric_for
from evalkit.tasks.upgrades._variants import VARIANTS, history_len_for, plan_ask

SEGMENT_MIX: dict[str, float] = {
    "routine": 0.25, "promotion": 0.11, "legacy_pricing": 0.11, "custom_contract": 0.11,
    "undocumented_exception": 0.10, "operational_context": 0.11, "adversarial": 0.11, "long_context": 0.10,
}
FIRST_DAY, LAST_DAY = date(2025, 1, 6), date(2026, 10, 30)


def generate_cases(n: int, seed: int, *, start: int = 0) -> Iterator[Case]:
    """Cases ``start .. n-1``. Each case has its own RNG stream, so case i is the same
    whatever n is, and ranges can be generated in parallel."""
    from itertools import accumulate

    segments, cum_weights = list(SEGMENT_MIX), list(accumulate(SEGMENT_MIX.values()))
    variant_names = {seg: list(VARIANTS[seg]) for seg in segments}
    span = (LAST_DAY - FIRST_DAY).days
    for i in range(start, n):
        rng = random.Random(f"{seed}:{i}")
        segment = rng.choices(segments, cum_weights=cum_weights)[0]
        variant = rng.choice(variant_names[segment])
        d = Draft(rng=rng, today=FIRST_DAY + timedelta(days=rng.randint(0, span)))
        d.plan = rng.choice(("starter", "team", "team", "business"))
        d.cycle = "monthly" if rng.random() < 0.75 else "annual"
        d.seats = max(1, int(rng.lognormvariate(math.log(12), 0.9)))
        d.customer_since = d.today - timedelta(days=rng.randint(120, 2500))
        d.history_len = history_len_for(rng, segment == "long_context")
        VARIANTS[segment][variant](d)
        combine_families(d, segment)
        if rng.random() < DISTRACTOR_SHARE and not d.history_facts and d.target_plan != "enterprise":
            distract(d)
        if segment == "undocumented_exception" or "exception" in d.families:
            if rng.random() < HINT_SHARE:
                d.hint = "formly" if d.migrated_from else "nonprofit" if d.nonprofit else "founder"
        consistent_dates(d)
        if not d.ask:
            d.ask = plan_ask(d)
            d.text_only = rng.random() < TEXT_ONLY_SHARE
        raw = _with_reference(build_case_dict(d, case_id=f"upg-{seed}-{i:06d}", segment=segment, variant=variant))
        if rng.random() < HISTORICAL_REPLY_SHARE:
            raw["historical_reply"], raw["human_good"] = historical_reply(raw, rng)
        yield Case.model_validate(raw)  # the one validation per case


def _with_reference(raw: dict) -> dict:
    facts = facts_from_raw(raw)
    outcome = reviewed_outcome(facts)
    reviewed = outcome.decision
    raw["reviewed"] = reviewed.as_dict()
    raw["alternatives"] = [a.as_dict() for a in alternatives(facts, reviewed)]
    raw["pitfalls"] = {k: v.as_dict() for k, v in pitfalls(facts, reviewed).items()}
    raw["rubric"] = rubric_for(facts, outcome, raw["rubric"]["forbidden_phrases"])
    if raw["rubric_acceptable_escalation"] and reviewed.action != "escalate":
        raw["rubric"]["acceptable_escalation"] = "billing"
    del raw["rubric_acceptable_escalation"]
    return raw
