"""The simulated model's good rate on cases under a prompt template: how clause tests see a policy edit."""

from __future__ import annotations

from typing import Any

from evalkit.score import parse_decision


def sim_good_rate(bound: Any, template: Any, cases: list[Any]) -> float:
    """Share of ``cases`` the simulated large model decides well under ``template`` (seed 0)."""
    good = 0
    for case in cases:
        text = "\n\n".join(m["content"] for m in template.render(bound.prompt_context(case).variables))
        answer = bound.simulate(text, profile="large", seed=0)
        good += bound.score(case, parse_decision(answer.text, bound.decision_model).decision).good
    return good / len(cases)
