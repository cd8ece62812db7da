"""The retrieval corpus shipped with a dataset version (``corpus.jsonl``): policy memos and
past decisions (precedents) a retrieval context policy can add to a prompt.

- ``memo`` passages: the written clauses, the undocumented practice written up as memos,
  operational guidance, and superseded memos with older rates (wrong context that misleads
  a model that does not notice "superseded").
- ``faq`` passages: billing-desk knowledge that is true and irrelevant to the decision.
- ``precedent`` passages: one line per past reviewed case (generated with another seed,
  so no dataset case is its own precedent), stating the situation, the decision and why.
  Near misses come for free: a Formly account migrated 30 months ago was charged list
  price, a nonprofit on Starter got no discount.

One typed owner of the format: ``CorpusDoc`` (pydantic, extra="forbid").
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from evalkit.tasks.upgrades._catalogue import shipped_catalogue

CORPUS_FILE = "corpus.jsonl"
PRECEDENT_SEED_OFFSET = 100_003


class CorpusDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    doc_id: str
    kind: Literal["memo", "faq", "precedent"]
    text: str
    superseded: bool = False


SUPERSEDED = (
    "Memo (2023-02, superseded by the 2024 pricing review): Formly migrations keep 20% off list for 12 months "
    "after migration.",
    "Memo (2022-09, outdated): verified nonprofits get 25% off list on Team only.",
    "Memo (2021-05, superseded): legacy-2019 accounts keep 15% off list; legacy-2021 accounts 5% off list.",
    "Memo (2023-07, superseded): promotions and legacy discounts stack on upgrades.",
)
FAQ = (
    "Memo: invoices are emailed on the first business day of each billing period; PDF copies are under Billing.",
    "Memo: seat changes show on the next invoice as a prorated line with the period dates.",
    "Memo: tax is added at checkout according to the billing address; quoted prices exclude tax.",
    "Memo: workspace owners can transfer ownership under Settings > Members without contacting billing.",
    "Memo: refunds for duplicate charges are issued by billing within five business days.",
    "Memo: purchase-order numbers can be added to invoices from the billing portal.",
    "Memo: annual plans renew automatically unless cancelled 30 days before the renewal date.",
    "Memo: the Enterprise plan includes SAML, audit exports and data residency options.",
)


def _memo(clause) -> str:  # type: ignore[no-untyped-def]
    return f"Memo ({clause.kind}): {clause.title}: {clause.text}"


def precedent_line(case, number: int) -> str:  # type: ignore[no-untyped-def]
    """One past decision in the desk's own shorthand: situation; decision; why."""
    from evalkit.tasks.upgrades._engine import decide
    from evalkit.tasks.upgrades._facts import facts_from_raw
    from evalkit.tasks.upgrades._policy import ALL_IDS

    a, r, d = case.account, case.request, case.reviewed
    facts = facts_from_raw(case.model_dump())
    source = decide(facts, frozenset(ALL_IDS)).discount_source
    situation = [f"{a.plan} account, {a.seats} seats, {a.billing_cycle}"]
    if a.pricing_cohort != "current":
        situation.append(f"{a.pricing_cohort} cohort")
    if a.migrated_from:
        months = (r.received.year - a.migration_date.year) * 12 + r.received.month - a.migration_date.month
        situation.append(f"migrated from {a.migrated_from} {months} months earlier")
    if a.nonprofit_verified:
        situation.append("verified nonprofit")
    if a.customer_since.year < 2016:
        situation.append(f"customer since {a.customer_since.year}")
    if a.promotion:
        situation.append(f"promotion {a.promotion.code} {a.promotion.percent_off}% off "
                         f"{'/'.join(a.promotion.eligible_plans)}")
    if a.contract:
        situation.append("custom contract")
    flags = [k.replace("_", " ") for k, v in a.flags.model_dump().items() if v]
    situation += flags
    ask = f"asked for {r.target_plan}, {r.target_seats} seats, {r.target_cycle}"
    why = {"legacy": f"kept the {a.pricing_cohort} cohort discount", "promotion": "applied the active promotion",
           "migration": "Formly migration within 24 months: 30% off list",
           "nonprofit": "verified nonprofit: 40% off list on Team and Business",
           "contract": "negotiated contract price", "history_lock": "honoured the price lock in the notes",
           "list": "charged at list price"}.get(source, "")
    if a.migrated_from and source != "migration" and d.action == "approve":
        why = "Formly migration more than 24 months earlier: charged at list price"
    if a.nonprofit_verified and source != "nonprofit" and d.action == "approve":
        why = "verified nonprofit but the plan is not covered: charged at list price"
    if d.action == "approve" and d.prorated_charge_today == 0 and a.customer_since.year < 2016 \
            and r.target_plan == a.plan:
        why += "; founding customer: no proration charged"
    if d.action == "escalate":
        decision = f"escalated to {d.escalate_to}"
        why = ", ".join(flags) or ("enterprise or large request" if d.escalate_to == "sales" else "see notes")
    elif d.action in ("approve", "counter_offer"):
        decision = f"{d.action.replace('_', ' ')} at ${d.new_recurring_price} per {'month' if d.billing_cycle == 'monthly' else 'year'}"
    else:
        decision = "denied (not an upgrade)"
    return f"Precedent P-{number:04d} ({r.received}): {'; '.join(situation)}; {ask}. Decision: {decision} ({why})."


def build_corpus(*, seed: int, precedents: int = 600) -> list[CorpusDoc]:
    from evalkit.tasks.upgrades._generator import generate_cases

    docs = [CorpusDoc(doc_id=f"memo-{c.id}", kind="memo", text=_memo(c)) for c in shipped_catalogue().clauses]
    docs += [CorpusDoc(doc_id=f"memo-old-{i}", kind="memo", text=t, superseded=True) for i, t in enumerate(SUPERSEDED)]
    docs += [CorpusDoc(doc_id=f"faq-{i}", kind="faq", text=t) for i, t in enumerate(FAQ)]
    for i, case in enumerate(generate_cases(precedents, seed + PRECEDENT_SEED_OFFSET)):
        docs.append(CorpusDoc(doc_id=f"P-{i:04d}", kind="precedent", text=precedent_line(case, i)))
    return docs


def corpus_bytes(docs: Iterable[CorpusDoc]) -> bytes:
    return "".join(json.dumps(d.model_dump(), ensure_ascii=False, sort_keys=True) + "\n" for d in docs).encode()


def parse_corpus(data: bytes, where: str) -> list[CorpusDoc]:
    from pydantic import ValidationError

    from evalkit.errors import DataError

    out = []
    for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(CorpusDoc.model_validate_json(line))
        except ValidationError as exc:
            raise DataError(f"{where}: line {number}: not a corpus document ({exc.errors()[0]['msg']})") from None
    return out
