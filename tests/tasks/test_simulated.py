"""The simulated model behaves like a model reading its prompt."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.providers import Message, ModelRequest
from evalkit.providers._sim import sim_respond
from evalkit.score import parse_decision
from evalkit.suite import load_template
from evalkit.tasks.upgrades import task

PROMPTS = Path(__file__).resolve().parents[2] / "suites" / "prompts"


@pytest.fixture(scope="module")
def cases():
    return list(task.generate(900, 5))


def run(cases, template: str, profile: str, *, turns=None, seed=0):
    t = load_template(PROMPTS / template)
    out = []
    for case in cases:
        ctx = task.prompt_context(case, max_history_turns=turns)
        msgs = tuple(Message(**m) for m in t.render(ctx.variables))
        r = sim_respond(ModelRequest(provider="sim", model=profile, messages=msgs, params={"seed": seed}))
        v = task.score(case, parse_decision(r.text, task.decision_model).decision)
        out.append((case, v, r))
    return out


def good_rate(rows, segment):
    sel = [v.good for c, v, _ in rows if c.segment == segment]
    return sum(sel) / len(sel)


def test_same_seed_same_answers_and_seed_matters(cases):
    a = [r.text for _, _, r in run(cases[:60], "upgrade-v1.j2", "small")]
    b = [r.text for _, _, r in run(cases[:60], "upgrade-v1.j2", "small")]
    c = [r.text for _, _, r in run(cases[:60], "upgrade-v1.j2", "small", seed=1)]
    assert a == b and a != c


def test_removing_the_legacy_clause_makes_legacy_pricing_regress_only(cases):
    full = run(cases, "upgrade-v1.j2", "large")
    cut = run(cases, "upgrade-v1-no-legacy.j2", "large")
    assert good_rate(full, "legacy_pricing") - good_rate(cut, "legacy_pricing") > 0.3
    assert abs(good_rate(full, "routine") - good_rate(cut, "routine")) < 0.05


def test_shrinking_history_hurts_early_facts_and_cuts_tokens(cases):
    long_cases = [c for c in cases if c.segment == "long_context"]
    full = run(long_cases, "upgrade-v1.j2", "large")
    short = run(long_cases, "upgrade-v1.j2", "large", turns=10)
    assert good_rate(full, "long_context") - good_rate(short, "long_context") > 0.2
    tokens = lambda rows: sum(r.usage.input_tokens for _, _, r in rows)  # noqa: E731
    assert tokens(short) < 0.6 * tokens(full)


def test_large_profile_is_more_skilful_and_less_overconfident(cases):
    small = run(cases, "upgrade-v1.j2", "small")
    large = run(cases, "upgrade-v1.j2", "large")
    acc = lambda rows: sum(v.good for _, v, _ in rows) / len(rows)  # noqa: E731
    assert acc(large) > acc(small) + 0.1
    conf = lambda rows: [parse_decision(r.text, task.decision_model).decision for _, _, r in rows]  # noqa: E731
    gap = lambda rows: sum(d.confidence for d in conf(rows) if d) / len(rows) - acc(rows)  # noqa: E731
    assert gap(small) > gap(large) > 0  # both overconfident, the small one more
    # Usage is counted from the real text: more words out for the more verbose profile.
    assert sum(r.usage.output_tokens for _, _, r in large) > sum(r.usage.output_tokens for _, _, r in small)


def test_generator_is_deterministic_and_prefix_stable():
    a = [c.model_dump_json() for c in task.generate(50, 3)]
    assert a == [c.model_dump_json() for c in task.generate(50, 3)]
    assert a[:20] == [c.model_dump_json() for c in task.generate(20, 3)]
    assert a != [c.model_dump_json() for c in task.generate(50, 4)]
