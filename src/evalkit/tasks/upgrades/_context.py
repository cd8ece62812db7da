"""Context policies beyond truncation: retrieval of memos and precedents, and memory.

- Retrieval: TF-IDF (scikit-learn) over the dataset's corpus; the query is what the desk
  sees first (the customer message, the account notes, cohort, flags and promotion, the
  last history turns). Top-k passages, optionally within a token budget. Lexical retrieval
  brings near misses with it: that is the "wrong context misleads" the seeds warn about.
- Memory ``summary``: older turns become one short line each (first sentence, billing
  turns only) within a token budget; the most recent turns stay verbatim. Lossy on purpose:
  a fact in the middle of a long pasted thread does not survive summarisation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from evalkit._tokens import count_tokens
from evalkit.tasks.upgrades._corpus import CorpusDoc

BILLING_WORDS = re.compile(
    r"price|lock|disput|invoice|sign-?off|discount|rate|refund|resolved|nonprofit|formly|founding|contract|renewal|"
    r"charge|seat|plan|promis|authori|cancel|lapsed|expired|churn", re.IGNORECASE)
SUMMARY_WORDS = 28


@dataclass(kw_only=True)
class Resources:
    """What a dataset version ships for context policies (built lazily, once per run)."""

    corpus: list[CorpusDoc]
    _index: Any = field(default=None, repr=False)

    def index(self) -> Any:
        if self._index is None:
            self._index = TfidfIndex(self.corpus)
        return self._index


class TfidfIndex:
    def __init__(self, docs: list[CorpusDoc]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.docs = docs
        self.vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1, stop_words="english")
        self.matrix = self.vectorizer.fit_transform([d.text for d in docs])

    def search(self, query: str, *, k: int, kinds: tuple[str, ...]) -> list[CorpusDoc]:
        import numpy as np

        scores = (self.matrix @ self.vectorizer.transform([query]).T).toarray().ravel()
        allowed = np.array([d.kind in kinds for d in self.docs])
        scores = np.where(allowed, scores, -1.0)
        order = np.argsort(-scores, kind="stable")[:k]
        return [self.docs[i] for i in order if scores[i] > 0]


def retrieval_query(case: Any, recent: list[str]) -> str:
    a = case.account
    facts = [f"{a.plan} plan", f"{a.pricing_cohort} cohort" if a.pricing_cohort != "current" else "",
             f"migrated from {a.migrated_from} migration" if a.migrated_from else "",
             "verified nonprofit" if a.nonprofit_verified else "",
             f"promotion {a.promotion.code}" if a.promotion else "",
             "custom contract negotiated price lock" if a.contract else "",
             " ".join(k.replace("_", " ") for k, v in a.flags.model_dump().items() if v)]
    # The account's distinguishing facts weigh more than the wording of the message (as a desk search would).
    key = " ".join(p for p in facts if p)
    return " ".join([key, key, key, case.request.message, *recent[-3:]])


def retrieve(case: Any, recent: list[str], resources: Resources | None, spec: Any) -> tuple[list[str], list[str], int]:
    """(rendered passages, their ids, their tokens) for the retrieval policy ``spec``."""
    if spec is None or resources is None:
        return [], [], 0
    kinds = tuple("memo" if s == "memos" else "precedent" for s in spec.sources)
    kinds += ("faq",) if "memo" in kinds else ()
    found = resources.index().search(retrieval_query(case, recent), k=spec.k, kinds=kinds)
    lines, ids, tokens = [], [], 0
    for doc in found:
        n = count_tokens(doc.text) + 1
        if spec.max_tokens is not None and tokens + n > spec.max_tokens:
            break
        lines.append(doc.text)
        ids.append(doc.doc_id)
        tokens += n
    return lines, ids, tokens


def _first_sentence(text: str) -> str:
    head = re.split(r"(?<=[.!?])\s", text.strip().splitlines()[0] if text.strip() else "", maxsplit=1)[0]
    words = head.split()
    return " ".join(words[:SUMMARY_WORDS]) + (" ..." if len(words) > SUMMARY_WORDS else "")


def summarise(turn_lines: list[tuple[str, str, str]], *, budget: int | None) -> list[str]:
    """(timestamp, author, text) turns -> one line per billing-relevant turn, newest kept first within budget."""
    lines = [f"[{at}] {author}: {_first_sentence(text)}" for at, author, text in turn_lines
             if BILLING_WORDS.search(_first_sentence(text))]
    if budget is None:
        return lines
    from evalkit.tasks.upgrades._render import newest_within

    return newest_within(lines, budget)[0]
