"""The published upgrades@v2 reads like a billing desk's history, and its facts agree.

Measured on the committed dataset (datasets/upgrades/v2), not on a fresh generation.
Normalisation for the variety measures: lowercase, digits -> '#', people's and company
names -> 'N' (so a template filled with other names does not count as new text).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from evalkit.dataset import load_dataset
from evalkit.tasks.upgrades import _phrases as P
from evalkit.tasks.upgrades import task
from evalkit.tasks.upgrades._catalogue import shipped_catalogue

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
NAMES = {w.lower() for w in P.FIRST_NAMES + P.LAST_NAMES + P.COMPANY_A + P.COMPANY_B + P.ACCOUNT_MANAGERS}


@pytest.fixture(scope="module")
def v2():
    return load_dataset("upgrades@v2", task=task, store=DATASETS)


def normalise(text: str) -> list[str]:
    words = re.findall(r"[\w#%$'-]+", re.sub(r"\d[\d,.]*", "#", text.lower()))
    return ["N" if w in NAMES else w for w in words]


def test_v1_is_kept_and_v2_is_a_new_version_with_its_corpus(v2):
    v1 = load_dataset("upgrades@v1", task=task, store=DATASETS)
    assert v1.manifest.sha256 != v2.manifest.sha256 and v2.manifest.parent == "v1"
    assert len(v2) == 3000
    corpus = v2.attachment("corpus.jsonl")
    assert corpus is not None and b'"kind": "precedent"' in corpus
    assert (DATASETS / "upgrades" / "v2" / "cases.parquet").stat().st_size < 6_000_000


def test_message_bodies_are_mostly_distinct_after_normalising(v2):
    bodies = {" ".join(normalise(c.request.message)) for c in v2.cases}
    assert len(bodies) / len(v2.cases) >= 0.5


def test_history_four_grams_are_at_least_a_fifth_distinct(v2):
    grams: Counter[tuple[str, ...]] = Counter()
    for case in v2.cases:
        for turn in case.history:
            w = normalise(turn.text)
            grams.update(zip(w, w[1:], w[2:], w[3:]))
    assert len(grams) / sum(grams.values()) >= 0.20


def test_edge_case_families_combine_and_distractors_appear(v2):
    n = len(v2.cases)
    combined = sum(len([t for t in c.tags if t.startswith("family:")]) >= 2 for c in v2.cases)
    distracted = sum(any(t.startswith("distractor:") for t in c.tags) for c in v2.cases)
    assert combined / n >= 0.10
    assert distracted / n >= 0.10
    assert sum(not c.request.structured for c in v2.cases) / n >= 0.05  # requests only in the customer's words
    kinds = Counter(t for c in v2.cases for t in c.tags if t.startswith("distractor:"))
    assert set(kinds) == {"distractor:dispute_resolved", "distractor:lock_ended", "distractor:signoff_lifted"}


def contradictions(case) -> list[str]:  # noqa: C901 - one checker, one list of invariants
    """Facts that disagree with each other inside one case."""
    a, r, out = case.account, case.request, []
    today = r.received
    if not a.period_start <= today < a.period_end:
        out.append("today outside the billing period")
    if a.customer_since > today:
        out.append("customer since after today")
    if a.pricing_cohort.startswith("legacy-") and a.customer_since.year > int(a.pricing_cohort.split("-")[1]):
        out.append(f"{a.pricing_cohort} account became a customer in {a.customer_since.year}")
    if a.migrated_from and (a.migration_date is None or a.migration_date > today or a.migration_date < a.customer_since):
        out.append("migration date inconsistent")
    if a.contract and a.contract.plan != a.plan:
        out.append("contract plan differs from the account plan")
    if a.promotion and a.promotion.starts > a.promotion.ends:
        out.append("promotion ends before it starts")
    if (a.contract or a.flags.renewal_negotiation) and not a.account_manager:
        out.append("contract or renewal without an account manager")
    turns = [t.at for t in case.history]
    if turns != sorted(turns) or (turns and turns[-1].date() > today):
        out.append("history out of order or in the future")
    # What the account pays now must be explained by its plan, seats and one pricing source.
    if a.plan != "enterprise":
        per_seat = shipped_catalogue().prices[a.plan][0 if a.billing_cycle == "monthly" else 1]
        explained = {per_seat * a.seats * Decimal(100 - shipped_catalogue().cohorts.get(a.pricing_cohort, 0)) / 100}
        if a.contract:
            explained.add(a.contract.negotiated_seat_price * a.seats)
        if a.migrated_from:
            explained.add(per_seat * a.seats * Decimal("0.70"))
        if a.nonprofit_verified:
            explained.add(per_seat * a.seats * Decimal("0.60"))
        if case.history_facts.price_lock_price is not None:
            explained.add(case.history_facts.price_lock_price * a.seats)
        if not any(abs(a.recurring_price - x) < Decimal("0.01") for x in explained):
            out.append(f"recurring price {a.recurring_price} unexplained")
    h = case.history_facts
    if h.price_lock_price is not None and not any(str(h.price_lock_price) in t.text for t in case.history):
        out.append("price lock fact not in the history")
    if h.dispute_mentioned and not any("disput" in t.text.lower() for t in case.history):
        out.append("dispute fact not in the history")
    if (r.target_plan, r.target_seats, r.target_cycle) == (a.plan, a.seats, a.billing_cycle):
        out.append("request changes nothing")
    if not r.structured and str(r.target_seats) not in r.message and str(r.target_seats - a.seats) not in r.message \
            and r.target_seats != a.seats:
        out.append("text-only request does not state the seats")
    return out


def test_no_fact_contradictions(v2):
    found = {c.case_id: p for c in v2.cases if (p := contradictions(c))}
    assert not found, list(found.items())[:5]


def test_the_checker_catches_a_planted_contradiction(v2):
    case = next(c for c in v2.cases if c.account.pricing_cohort == "legacy-2019")
    bad = case.model_copy(update={"account": case.account.model_copy(update={"customer_since": date(2022, 5, 1)})})
    assert contradictions(bad) and not contradictions(case)


def test_unknowable_exceptions_accept_escalation_and_are_sometimes_hinted(v2):
    exceptions = [c for c in v2.cases if c.segment == "undocumented_exception"]
    hinted = [c for c in exceptions if any(t.startswith("hint:") for t in c.tags)]
    assert 0.2 < len(hinted) / len(exceptions) < 0.8
    for c in exceptions:
        if c.account.migrated_from or c.account.nonprofit_verified or c in hinted:
            assert c.rubric.acceptable_escalation == "billing" or c.reviewed.action == "escalate"
