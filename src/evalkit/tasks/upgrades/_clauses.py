"""Reading policy from what a prompt *says*: the simulated model's understanding of clauses.

Every sentence outside the conversation history is checked against the rule topics the
domain has (legacy pricing, promotions, proration, contracts, ...). A sentence is about a
topic when it names it and states something operative ("20% off", "escalate", "deny");
it *revokes* the topic when it says so ("legacy cohorts were retired", "charge list price
to every account", "do not escalate"). Rates, windows and limits are parsed from the text.
Clause tags such as ``[UPG-5]`` are ignored: a clause is known by its content. The cohort rule
(UPG-5) is about any sentence naming "legacy", "cohort", "grandfathered" or one of the catalogue's
cohorts, so a team's own wording ("the early-2020 cohort keeps 15% off") is read as the shipped one is;
``unread_cohort_clause`` says when a catalogue's own UPG-5 would still not be read.

Statements come from three places and the model trusts them differently (see _simulated):
``policy`` (the prompt's own rules), ``retrieved`` (passages a retriever added; some are
superseded memos) and ``precedent`` (past decisions: rules given only as practice).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from evalkit.tasks.upgrades._catalogue import Catalogue, shipped_catalogue

TURN_LINE_RE = re.compile(r"^\s*\[\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}\]")
PRECEDENT_RE = re.compile(r"^\W*(?:precedent|past case|case p-)", re.IGNORECASE)
RETRIEVED_RE = re.compile(r"^\W*(?:memo|policy memo|passage|kb|knowledge base|handbook)\b", re.IGNORECASE)
MESSAGE_HEAD_RE = re.compile(r"^\s*(?:customer message|what the customer wrote|message from the customer|"
                             r"the customer wrote|customer's message)\s*:?\s*$", re.IGNORECASE)
STALE_RE = re.compile(r"\b(superseded|outdated|replaced by|no longer in force|obsolete|draft)\b", re.IGNORECASE)
NEGATION_RE = re.compile(
    r"\b(retired|discontinued|abolished|no longer|do(?:es)? not apply|don't apply|not applied|never appl\w*|"
    r"not honou?red|ignored?|list price to every|charge (?:the )?(?:full )?list price|suspended|withdrawn|"
    r"do not (?:keep|grant|give|offer)|no (?:legacy|promotional|cohort|nonprofit|migration) discount|"
    r"without (?:any )?discount|at list price|do not escalate|no need to escalate|approve anyway|"
    r"proceed as usual|not prorat\w*|no proration|full difference)\b", re.IGNORECASE)
PCT_RE = re.compile(r"(\d{1,2}) ?(?:%|percent)")


@dataclass(frozen=True, kw_only=True)
class Topic:
    clause: str
    about: re.Pattern[str]
    operative: re.Pattern[str]
    positive: re.Pattern[str] | None = None
    """When given, a statement that lacks it says the opposite ("approve downgrades", "proceed")."""


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# (clause, what a sentence about it names, what makes it operative, what it must say to be in force)
_TOPIC_PATTERNS: tuple[tuple[str, str, str, str | None], ...] = (
    ("UPG-1", "downgrad|lowers? the plan|lower plan|fewer seats|not an upgrade",
     r"\bden(?:y|ied)|declin|refus|not an upgrade|downgrade form|approve|allow|process", r"\bden(?:y|ied)|declin|refus|not an upgrade|downgrade form"),
    ("UPG-2", "catalogue|list price|list pricing",
     "per seat|number of seats|times|x seats", None),
    ("UPG-3", "prorat|days left|days remaining|remaining days",
     "charge|days|difference", None),
    ("UPG-4", r"promotion|\bpromo\b|promotional",
     r"\boff\b|discount|percentage|price", None),
    ("UPG-5", r"legacy|cohort|grandfather",  # or a sentence naming one of the catalogue's cohorts (_read_line)
     r"discount|\boff\b|keep|list price|%|percent", None),
    ("UPG-6", "contract",
     "negotiated|price lock|minimum|account.manager", None),
    ("UPG-7", r"\bannual|yearly",
     "renewal|next billing|nothing is charged|no charge|charged today", None),
    ("UPG-8", r"enterprise|\bsales\b",
     "escalat|go to sales|route|hand|approve|process", "escalat|sales"),
    ("UPG-9", "concession|never (?:grant|promise)|instructions inside",
     "discount|credit|refund|price|data", None),
    ("UPG-10", "confidential|never reveal|internal notes",
     "reveal|share|disclose|notes", None),
    ("UPG-11", "every approval|confirmation|approval states",
     "price|charge", None),
    ("PRX-1", "formly|migrat",
     "%|percent|list price", None),
    ("PRX-2", "non-?profit",
     "%|percent|list price", None),
    ("PRX-3", "founding|customers? since before",
     "prorat|not charged|charge today|no charge", None),
    ("OPS-1", "dispute",
     "escalat|change nothing|hold|proceed|approve", r"escalat|change nothing|\bhold"),
    ("OPS-2", "failed payment|payment failed|last payment",
     "escalat|proceed|approve", "escalat"),
    ("OPS-3", "(?:renewal|churn) (?:or churn )?negotiation|negotiation",
     "escalat|proceed|approve", "escalat"),
    ("OPS-4", "sign-?off",
     "escalat|proceed|approve", None),
)
TOPICS: tuple[Topic, ...] = tuple(
    Topic(clause=clause, about=_re(about), operative=_re(operative), positive=_re(positive) if positive else None)
    for clause, about, operative, positive in _TOPIC_PATTERNS)


@dataclass(frozen=True, kw_only=True)
class Statement:
    """One sentence's reading: which rule, in force or revoked, and the numbers it gives."""

    clause: str
    negated: bool
    stale: bool
    origin: str  # policy | retrieved | precedent
    params: tuple[tuple[str, object], ...] = ()
    text: str = ""


@dataclass(frozen=True, kw_only=True)
class PolicyReading:
    statements: tuple[Statement, ...] = ()
    policy_tokens: int = 0
    precedent_count: int = 0
    retrieved_count: int = 0
    by_clause: dict[str, list[Statement]] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity (cohort_names caches one per catalogue)
class CohortNames:
    """How sentences name a catalogue's pricing cohorts: ``named`` finds a cohort name (``early-2020``, also
    written ``early 2020`` or ``Early_2020``), ``rates`` a cohort name followed by its percentage ("legacy-2019:
    20% off", "the early-2020 cohort keeps 15% off"). ``legacy-YYYY`` is always read as a cohort name (memos
    name old ones), so the shipped catalogue's cohorts need no list."""

    named: re.Pattern[str] | None
    rates: re.Pattern[str]
    by_key: dict[str, str]
    """Spelling key (lower case, separators as '-') -> the catalogue's cohort name."""

    def name(self, written: str) -> str:
        key = _key(written)
        if key in self.by_key:
            return self.by_key[key]
        return f"legacy-{written[-4:]}"  # the legacy-YYYY pattern


def _key(name: str) -> str:
    return re.sub(r"[-_ ]", "-", name.lower())


@lru_cache(maxsize=64)
def cohort_names(cohorts: tuple[str, ...]) -> CohortNames:
    """How ``cohorts`` (a catalogue's cohort names) are found in text."""
    own = [c for c in cohorts if not re.fullmatch(r"legacy-\d{4}", c)]
    spelled = "|".join(r"[-_ ]".join(re.escape(part) for part in re.split(r"[-_ ]", c))
                       for c in sorted(own, key=len, reverse=True))
    named = re.compile(rf"(?<![\w-])(?:{spelled})(?![\w-])", re.IGNORECASE) if spelled else None
    either = rf"legacy[- ]\d{{4}}|(?<![\w-])(?:{spelled})(?![\w-])" if spelled else r"legacy[- ]\d{4}"
    rates = re.compile(rf"({either})\D{{0,30}}?(\d{{1,2}}) ?(?:%|percent)", re.IGNORECASE)
    return CohortNames(named=named, rates=rates, by_key={_key(c): c for c in own})


def _cohort_rates(sentence: str, names: CohortNames) -> list[tuple[str, int]]:
    return [(names.name(written), int(pct)) for written, pct in names.rates.findall(sentence)]


def _params(clause: str, sentence: str, plan_re: re.Pattern[str],
            sales_plans: frozenset[str], names: CohortNames) -> tuple[tuple[str, object], ...]:
    pcts = [int(p) for p in PCT_RE.findall(sentence)]
    out: list[tuple[str, object]] = []
    if clause == "UPG-5":
        rates = _cohort_rates(sentence, names)
        if rates:
            out.append(("cohort_discount", tuple(rates)))
        if re.search(r"never stack|do not stack|don't stack|larger one|larger discount|not combine", sentence,
                     re.IGNORECASE):
            out.append(("stack", False))
        elif re.search(r"\bstack|combine|both apply", sentence, re.IGNORECASE):
            out.append(("stack", True))
    elif clause == "PRX-1" and pcts:
        out.append(("migration_discount", pcts[0]))
        months = re.search(r"(\d{1,3}) months", sentence)
        if months:
            out.append(("migration_months", int(months.group(1))))
    elif clause == "PRX-2" and pcts:
        out.append(("nonprofit_discount", pcts[0]))
        plans = tuple(sorted({p.lower() for p in plan_re.findall(sentence)} - sales_plans))
        if plans:
            out.append(("nonprofit_plans", plans))
    elif clause == "PRX-3":
        year = re.search(r"before (\d{4})", sentence)
        if year:
            out.append(("founder_before_year", int(year.group(1))))
    elif clause == "UPG-8":
        limit = re.search(r"(?:more than|over|above|exceeding) ([\d,]+) seats", sentence, re.IGNORECASE)
        if limit:
            out.append(("sales_seat_limit", int(limit.group(1).replace(",", ""))))
    return tuple(out)


def _sentences(line: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?;])\s+(?=[A-Z(\[])|(?<=\.)\s+(?=\w)", line) if s.strip()]


def _about(topic: Topic, sentence: str, names: CohortNames) -> bool:
    if topic.about.search(sentence):
        return True
    return topic.clause == "UPG-5" and names.named is not None and bool(names.named.search(sentence))


@lru_cache(maxsize=4096)  # policy lines repeat across every case of a run
def _read_line(line: str, plan_re: re.Pattern[str], sales_plans: frozenset[str],
               names: CohortNames) -> tuple[Statement, ...]:
    origin = "precedent" if PRECEDENT_RE.match(line) else "retrieved" if RETRIEVED_RE.match(line) else "policy"
    stale_line = bool(STALE_RE.search(line))
    out = []
    for sentence in _sentences(line):
        for topic in TOPICS:
            if _about(topic, sentence, names) and topic.operative.search(sentence):
                negated = bool(NEGATION_RE.search(sentence)) or bool(topic.positive and not topic.positive.search(
                    sentence))
                out.append(Statement(clause=topic.clause, negated=negated, stale=stale_line, origin=origin,
                                     params=_params(topic.clause, sentence, plan_re, sales_plans, names),
                                     text=sentence))
    return tuple(out)


def read_policy(text: str, *, count_tokens=None,  # type: ignore[no-untyped-def]
                catalogue: Catalogue | None = None) -> PolicyReading:
    """Every rule statement in ``text`` outside the conversation history (see module doc);
    plan names are ``catalogue``'s (the shipped one by default)."""
    cat = catalogue or shipped_catalogue()
    names = cohort_names(tuple(cat.cohorts))
    statements: list[Statement] = []
    policy_chars = 0
    in_turn = False
    precedents = retrieved = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            in_turn = False
            continue
        if TURN_LINE_RE.match(line) or MESSAGE_HEAD_RE.match(line):
            in_turn = True  # history turns and the customer's message (to the next blank line) are data
            continue
        if in_turn or line.startswith(">"):
            continue
        found = _read_line(line, cat.plan_re, cat.sales_plans, names)
        origin = "precedent" if PRECEDENT_RE.match(line) else "retrieved" if RETRIEVED_RE.match(line) else "policy"
        precedents += origin == "precedent"
        retrieved += origin == "retrieved"
        statements.extend(found)
        if found and origin == "policy":
            policy_chars += len(line)
    by_clause: dict[str, list[Statement]] = {}
    for s in statements:
        by_clause.setdefault(s.clause, []).append(s)
    return PolicyReading(statements=tuple(statements), policy_tokens=policy_chars // 4,
                         precedent_count=precedents, retrieved_count=retrieved, by_clause=by_clause)


def unread_cohort_clause(catalogue: Catalogue) -> str | None:
    """Why the simulated reader would not apply ``catalogue``'s cohort discounts from its own cohort clause
    (UPG-5), or None when it reads it (or the catalogue has no cohorts, or no UPG-5 clause to read)."""
    clause = next((c for c in catalogue.clauses if c.id == "UPG-5"), None)
    if not catalogue.cohorts or clause is None:
        return None
    found = [s for s in read_policy(clause.render(), catalogue=catalogue).statements if s.clause == "UPG-5"]
    if not found:
        return (f"{catalogue.source}: clause UPG-5 ({clause.title}) is not read by the simulated model as the "
                "cohort-discount rule (it reads a sentence that names 'legacy', 'cohort', 'grandfathered' or one of "
                f"the catalogue's cohorts ({', '.join(catalogue.cohorts)}) with 'N% off', 'discount' or 'keep'): "
                "simulated answers will ignore cohort discounts (docs/catalogue.md)")
    if all(s.negated for s in found):
        return (f"{catalogue.source}: clause UPG-5 ({clause.title}) reads to the simulated model as revoking "
                "cohort discounts, though the catalogue lists cohorts: simulated answers will ignore them")
    return None
