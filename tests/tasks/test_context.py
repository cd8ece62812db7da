"""Context policies beyond truncation: retrieval (TF-IDF over the dataset's corpus),
summarised memory, and wrong context that misleads; the report's quality/tokens view."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from evalkit.dataset import load_dataset
from evalkit.score import parse_decision
from evalkit.suite import load_template
from evalkit.suite._schema import ContextPolicy
from evalkit.tasks.upgrades import task

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def v2():
    return load_dataset("upgrades@v2", task=task, store=REPO / "datasets")


@pytest.fixture(scope="module")
def resources(v2):
    return task.context_resources(v2)


def test_retrieval_adds_ranked_passages_and_records_them(v2, resources):
    policy = ContextPolicy(max_history_turns=10, retrieval={"k": 4})
    formly = next(c for c in v2.cases if c.account.migrated_from)
    ctx = task.prompt_context(formly, max_history_turns=10, context=policy, resources=resources)
    ids, retrieved = ctx.extra["retrieved_ids"], ctx.variables["retrieved"]
    assert 1 <= len(ids) <= 4 and len(retrieved) == len(ids)
    assert ctx.extra["retrieved_tokens"] > 0
    assert any("Formly" in r for r in retrieved)  # lexical retrieval finds the migration memo or precedents
    again = task.prompt_context(formly, max_history_turns=10, context=policy, resources=resources)
    assert again.extra["retrieved_ids"] == ids
    budget = ContextPolicy(retrieval={"k": 8, "max_tokens": 60})
    capped = task.prompt_context(formly, context=budget, resources=resources)
    assert capped.extra["retrieved_tokens"] <= 60


def test_precedent_corpus_never_contains_the_dataset_cases(v2, resources):
    ids = {c.account.account_id for c in v2.cases}
    precedent_text = " ".join(d.text for d in resources.corpus if d.kind == "precedent")
    assert not any(i in precedent_text for i in ids)
    assert sum(d.kind == "precedent" for d in resources.corpus) >= 500
    assert any(d.superseded for d in resources.corpus)


def test_summary_memory_is_cheaper_and_keeps_the_deciding_note(v2):
    long = [c for c in v2.cases if c.segment == "long_context" and c.history_facts.am_signoff_required
            and len(c.history) > 40][:20]
    assert long
    summary = ContextPolicy(memory="summary", recent_turns=5, summary_tokens=400)
    kept = 0
    for case in long:
        full = task.prompt_context(case)
        short = task.prompt_context(case, context=summary)
        assert short.extra["history_tokens"] < full.extra["history_tokens"]
        assert short.variables["history_summarised"]
        kept += "sign-off" in short.variables["history_text"]
    assert 0 < kept <= len(long)  # a budgeted summary keeps some deciding notes and loses others


def test_summary_options_are_validated():
    with pytest.raises(ValueError, match="only with memory: summary"):
        ContextPolicy(summary_tokens=100)
    with pytest.raises(ValueError, match="replaces max_history_turns"):
        ContextPolicy(memory="summary", max_history_turns=3)


def test_a_superseded_memo_misleads_some_of_the_time(v2):
    """Wrong context: the 2023 memo (20% for 12 months) beside no current rule -> some answers use 20%."""
    template = load_template(REPO / "suites" / "prompts" / "upgrade-v3-context.j2")
    formly = [c for c in v2.cases if c.account.migrated_from and c.reviewed.action == "approve"
              and c.account.promotion is None and c.account.pricing_cohort == "current"]
    stale = SimpleNamespace(k=1)  # not used: passages are given directly below
    assert stale.k == 1
    memo = ("Memo (2023-02, superseded by the 2024 pricing review): Formly migrations keep 20% off list for 12 "
            "months after migration.")
    misled = current = 0
    for case in formly:
        variables = dict(task.prompt_context(case).variables, retrieved=[memo], retrieved_text=f"- {memo}")
        text = "\n\n".join(m["content"] for m in template.render(variables))
        d = parse_decision(task.simulate(text, profile="small", seed=1).text, task.decision_model).decision
        if d is None or d.new_recurring_price is None:
            continue
        months = (case.request.received - case.account.migration_date).days / 30.4
        list_price = {"starter": 10, "team": 25, "business": 45}[case.request.target_plan] * case.request.target_seats
        if months < 12 and abs(float(d.new_recurring_price) - 0.8 * list_price) < 0.01:
            misled += 1
        if abs(float(d.new_recurring_price) - 0.7 * list_price) < 0.01:
            current += 1
    assert misled > 0  # it followed the outdated memo
    assert current == 0  # and never invented the current rate it was not shown


@pytest.mark.slow
def test_context_suite_reports_the_trade_off(tmp_path, monkeypatch):
    from evalkit.pipeline import post_run
    from evalkit.pipeline import RunRequest, run_suite

    monkeypatch.setenv("EVALKIT_HOME", str(tmp_path / "home"))
    outcome = run_suite(RunRequest(suite_path=REPO / "suites" / "upgrades-context.yaml", limit=240,
                                   configs=("full-history", "last-10-turns", "summary-memory", "retrieval-k4"),
                                   reports=tmp_path / "reports", datasets=REPO / "datasets", progress=False))
    post_run(outcome, baseline=None, verbose=False)
    scores = outcome.scores
    by = scores.groupby("config")
    assert by["retrieved_tokens"].sum()["retrieval-k4"] > 0 and by["retrieved_tokens"].sum()["full-history"] == 0
    assert by["input_tokens"].mean()["last-10-turns"] < by["input_tokens"].mean()["full-history"]
    assert scores.loc[scores.config == "retrieval-k4", "retrieved_ids"].map(len).gt(0).all()
    html = (outcome.run_dir / "report.html").read_text()
    section = html[html.index('id="context-cost"'):]
    assert "<svg" in section.split("</section>")[0]
    for needle in ("Cost decomposition per case", "retrieval top-4", "summary memory", "tail-aware"):
        assert needle in section
    assert re.search(r"full history", section)
