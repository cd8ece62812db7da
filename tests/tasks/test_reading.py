"""Hidden-probe style checks: the simulated model reads what the prompt *says*.

A clause rewritten to mean the opposite (tag kept) makes its segment regress; the correct
clause without its tag does not; the fact sheet in other layouts changes good rates by at
most a few points; confidence does not know about the model's injected slips.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from evalkit.score import parse_decision
from evalkit.suite import load_template
from evalkit.tasks.upgrades import PROFILES, task
from evalkit.tasks.upgrades._read import read_prompt
from evalkit.tasks.upgrades._simulated import simulate

PROMPTS = Path(__file__).resolve().parents[2] / "suites" / "prompts"
V1 = (PROMPTS / "upgrade-v1.j2").read_text()


@pytest.fixture(scope="module")
def cases():
    return list(task.generate(700, 21))


def template_from(text: str, tmp_path: Path, name: str):
    path = tmp_path / f"{name}.j2"
    path.write_text(text)
    return load_template(path)


def run(cases, template, *, profile="large", post=None, variable="facts"):
    """(case, verdict, decision) per case; ``post`` rewrites the rendered text, ``variable`` picks the layout."""
    out = []
    for case in cases:
        ctx = task.prompt_context(case)
        variables = dict(ctx.variables, facts=ctx.variables[variable])
        text = "\n\n".join(m["content"] for m in template.render(variables))
        if post:
            text = post(text)
        answer = task.simulate(text, profile=profile, seed=3)
        decision = parse_decision(answer.text, task.decision_model).decision
        out.append((case, task.score(case, decision), decision))
    return out


def good(rows, segment=None):
    sel = [v.good for c, v, _ in rows if segment is None or c.segment == segment]
    return sum(sel) / len(sel)


def by_segment(rows):
    g = defaultdict(list)
    for c, v, _ in rows:
        g[c.segment].append(v.good)
    return {k: sum(v) / len(v) for k, v in g.items()}


def test_opposite_clause_with_its_tag_kept_makes_legacy_pricing_regress(cases, tmp_path):
    opposite = V1.replace(
        "{% for clause in written %}{{ clause.render() }}",
        "{% for clause in written %}{% if clause.id == 'UPG-5' %}[UPG-5] Legacy pricing: legacy cohorts were retired; "
        "charge list price to every account.{% else %}{{ clause.render() }}{% endif %}")
    assert opposite != V1
    full = run(cases, template_from(V1, tmp_path, "v1"))
    flipped = run(cases, template_from(opposite, tmp_path, "opposite"))
    assert good(full, "legacy_pricing") - good(flipped, "legacy_pricing") > 0.4
    assert abs(good(full, "routine") - good(flipped, "routine")) < 0.05


def test_correct_clause_without_its_tag_is_still_applied(cases, tmp_path):
    untagged = V1.replace("{{ clause.render() }}", "{{ clause.title }}: {{ clause.text }}")
    assert "clause.render()" not in untagged
    full = run(cases, template_from(V1, tmp_path, "v1"))
    bare = run(cases, template_from(untagged, tmp_path, "untagged"))
    for segment in ("legacy_pricing", "promotion", "custom_contract", "routine"):
        assert abs(good(full, segment) - good(bare, segment)) <= 0.05, segment


def test_a_reworded_rate_is_read_from_the_text(cases, tmp_path):
    """Legacy-2019 at 25% instead of 20%: the model prices with 25%, whatever the tag says."""
    reworded = V1.replace(
        "{% for clause in written %}{{ clause.render() }}",
        "{% for clause in written %}{% if clause.id == 'UPG-5' %}[UPG-5] Legacy pricing: accounts in the legacy-2019 "
        "cohort keep 25% off list and legacy-2021 accounts 10% off list on any upgrade; never stack with "
        "promotions, apply the larger one.{% else %}{{ clause.render() }}{% endif %}")
    rows = run([c for c in cases if c.account.pricing_cohort == "legacy-2019" and c.account.promotion is None
                and c.reviewed.action == "approve"], template_from(reworded, tmp_path, "rate25"))
    priced = [(c, d) for c, _, d in rows if d is not None and d.new_recurring_price is not None]
    assert len(priced) >= 10
    at_25 = sum(d.new_recurring_price == (c.reviewed.new_recurring_price * 75 / 80).quantize(d.new_recurring_price)
                for c, d in priced)
    assert at_25 / len(priced) > 0.8


LAYOUTS = {
    "equals": dict(post=lambda s: re.sub(r"^([A-Z][A-Za-z ]+): ", r"\1 = ", s, flags=re.MULTILINE)),
    "table": dict(variable="facts_table"),
    "json": dict(variable="facts_json"),
    "prose": dict(variable="facts_prose"),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_fact_sheet_in_another_layout_moves_good_rates_by_at_most_a_few_points(cases, tmp_path, layout):
    template = template_from(V1, tmp_path, "v1")
    base = run(cases, template)
    other = run(cases, template, **LAYOUTS[layout])
    assert abs(good(base) - good(other)) <= 0.03
    b, o = by_segment(base), by_segment(other)
    assert max(abs(b[s] - o[s]) for s in b) <= 0.08, (b, o)


def test_disabling_injected_slips_does_not_change_stated_confidence(cases, tmp_path):
    template = template_from(V1, tmp_path, "v1")
    large = PROFILES["large"]
    calm = large.without_slips()
    changed_decisions = 0
    for case in cases[:300]:
        text = "\n\n".join(m["content"] for m in template.render(task.prompt_context(case).variables))
        reading = read_prompt(text)
        a = simulate(reading, text, profile=large, seed=3, sample_index=0, temperature=0.0)
        b = simulate(reading, text, profile=calm, seed=3, sample_index=0, temperature=0.0)
        da = parse_decision(a.text, task.decision_model).decision
        db = parse_decision(b.text, task.decision_model).decision
        if da is None or db is None:
            continue
        assert da.confidence == db.confidence, case.case_id
        assert a.action_probability == b.action_probability
        changed_decisions += da.model_dump(exclude={"message", "confidence"}) != db.model_dump(
            exclude={"message", "confidence"})
    assert changed_decisions > 0  # the slips did change decisions: the equality above is not vacuous


def test_stated_confidence_discriminates_differently_by_segment(cases, tmp_path):
    from sklearn.metrics import roc_auc_score

    rows = run(cases, template_from(V1, tmp_path, "v1"), profile="small")
    aucs = {}
    for segment in {c.segment for c in cases}:
        sel = [(d.confidence, v.good) for c, v, d in rows if c.segment == segment and d is not None
               and d.action != "escalate"]
        labels = [g for _, g in sel]
        if 0 < sum(labels) < len(labels):
            aucs[segment] = roc_auc_score(labels, [p for p, _ in sel])
    assert len(aucs) >= 6
    assert max(aucs.values()) - min(aucs.values()) > 0.1, aucs
