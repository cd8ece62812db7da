"""Reading policy from what a prompt *says*: the simulated model's understanding of clauses.

Every sentence outside the conversation history is checked against the rule topics the
domain has (legacy pricing, promotions, proration, contracts, ...). A sentence is about a
topic when it names it and states something operative ("20% off", "escalate", "deny").
Whether it keeps the rule in force or *revokes* it is read from what it means, clause by
clause: the rule a clause is about, then its predicate ("keep", "honour" vs "lose",
"expire", "pay the catalogue price"), a negator turning round only the predicate it
governs ("do not ignore", "never billed at list price"). A sentence about one rule says
nothing about another. Rates, windows and limits are parsed from the text.
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
from evalkit.tasks.upgrades._clause_polarity import CUES, in_force, mask_prices, polarity

TURN_LINE_RE = re.compile(r"^\s*\[\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}\]")
PRECEDENT_RE = re.compile(r"^\W*(?:precedent|past case|case p-)", re.IGNORECASE)
RETRIEVED_RE = re.compile(r"^\W*(?:memo|policy memo|passage|kb|knowledge base|handbook)\b", re.IGNORECASE)
MESSAGE_HEAD_RE = re.compile(r"^\s*(?:customer message|what the customer wrote|message from the customer|"
                             r"the customer wrote|customer's message)\s*:?\s*$", re.IGNORECASE)
STALE_RE = re.compile(r"\b(superseded|outdated|replaced by|no longer in force|obsolete|draft)\b", re.IGNORECASE)
PCT_RE = re.compile(r"(\d{1,2}) ?(?:%|percent)")


@dataclass(frozen=True, kw_only=True)
class Topic:
    clause: str
    about: re.Pattern[str]
    operative: re.Pattern[str]
    kind: str
    """What its predicates mean (``_clause_polarity.CUES``): discount, escalation, refusal, proration, founders, rule."""


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# (clause, what a sentence about it names, what makes it operative, the kind of rule it is)
_TOPIC_PATTERNS: tuple[tuple[str, str, str, str], ...] = (
    ("UPG-1", "downgrad|lowers? the plan|lower plan|fewer seats|not an upgrade",
     r"\bden(?:y|ied)|declin|refus|not an upgrade|downgrade form|approve|allow|process", "refusal"),
    ("UPG-2", "catalogue|list price|list pricing",
     "per seat|number of seats|times|x seats", "rule"),
    ("UPG-3", "prorat|days left|days remaining|remaining days",
     "charge|days|difference", "proration"),
    ("UPG-4", r"promotion|\bpromo\b|promotional",
     r"\boff\b|discount|percentage|price", "discount"),
    ("UPG-5", r"legacy|cohort|grandfather",  # or a sentence naming one of the catalogue's cohorts (_about)
     r"discount|\boff\b|keep|list price|%|percent", "discount"),
    ("UPG-6", "contract",
     "negotiated|price lock|minimum|account.manager", "discount"),
    ("UPG-7", r"\bannual|yearly",
     "renewal|next billing|nothing is charged|no charge|charged today", "rule"),
    ("UPG-8", r"enterprise|\bsales\b",
     "escalat|go to sales|route|hand|approve|process", "escalation"),
    ("UPG-9", "concession|never (?:grant|promise)|instructions inside",
     "discount|credit|refund|price|data", "rule"),
    ("UPG-10", "confidential|never reveal|internal notes",
     "reveal|share|disclose|notes", "rule"),
    ("UPG-11", "every approval|confirmation|approval states",
     "price|charge", "rule"),
    ("PRX-1", "formly|migrat",
     "%|percent|list price", "discount"),
    ("PRX-2", "non-?profit",
     "%|percent|list price", "discount"),
    ("PRX-3", "founding|customers? since before",
     "prorat|not charged|charge today|no charge", "founders"),
    ("OPS-1", "dispute",
     "escalat|change nothing|hold|proceed|approve", "escalation"),
    ("OPS-2", "failed payment|payment failed|last payment",
     "escalat|proceed|approve", "escalation"),
    ("OPS-3", "(?:renewal|churn) (?:or churn )?negotiation|negotiation",
     "escalat|proceed|approve", "escalation"),
    ("OPS-4", "sign-?off",
     "escalat|proceed|approve", "escalation"),
)
TOPICS: tuple[Topic, ...] = tuple(
    Topic(clause=clause, about=_re(about), operative=_re(operative), kind=kind)
    for clause, about, operative, kind in _TOPIC_PATTERNS)


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


# --- What a sentence means for a rule ---------------------------------------------------------------
# A sentence is cut into clauses; each clause is about the rule it names first (else the one the sentence
# or line was just about: "accounts keep *them*"), and _clause_polarity reads whether it keeps that rule.
_COHORT_RULE = next(t for t in TOPICS if t.clause == "UPG-5")
_STACKING_RE = re.compile(r"\bstack|\bcombine|both apply|larger (?:one|discount)", re.IGNORECASE)
_CLAUSE_SPLIT_RE = re.compile(r"\s*[;:]\s+|\s+[-\u2013\u2014]\s+|,\s*(?:and|but|so|while|yet|then|or)\s+|"
                              r"\s+but\s+")


def _clauses(sentence: str) -> list[str]:
    """The sentence's clauses, asides in brackets after the text around them."""
    asides = re.findall(r"\(([^()]*)\)", sentence)
    host = re.sub(r"\s*\([^()]*\)", "", sentence)
    return [c for part in (host, *asides) for c in _CLAUSE_SPLIT_RE.split(part) if c.strip()]


def _subjects(clause: str, names: CohortNames) -> tuple[Topic, ...]:
    """The rules a clause is about: the first one it names (outside "pay list price"), and any others named
    with it before its predicate ("legacy and promotional discounts end"). A clause about stacking discounts
    that names the cohorts is the cohort rule's alone (UPG-5 says how discounts combine)."""
    text = mask_prices(clause)
    first: dict[Topic, int] = {t: m.start() for t in TOPICS if (m := t.about.search(text))}
    if names.named is not None and (m := names.named.search(text)):
        first[_COHORT_RULE] = min(m.start(), first.get(_COHORT_RULE, m.start()))
    if not first:
        return ()
    if _COHORT_RULE in first and _STACKING_RE.search(text):
        return (_COHORT_RULE,)
    ordered = sorted(first, key=first.__getitem__)
    cue = CUES[ordered[0].kind].search(text, first[ordered[0]])
    return tuple(t for t in ordered if t is ordered[0] or (cue is not None and first[t] < cue.start()))


@lru_cache(maxsize=4096)  # policy lines repeat across every case of a run
def _read_line(line: str, plan_re: re.Pattern[str], sales_plans: frozenset[str], names: CohortNames,
               heading: tuple[Topic, ...] = ()) -> tuple[Statement, ...]:
    origin = "precedent" if PRECEDENT_RE.match(line) else "retrieved" if RETRIEVED_RE.match(line) else "policy"
    stale_line = origin != "policy" and bool(STALE_RE.search(line))  # a memo is superseded, not the prompt
    out = []
    last = heading  # "they", "them", "it": the rules the line (or the heading it is listed under) was about
    for sentence in _sentences(line):
        clauses = [(clause, _subjects(clause, names)) for clause in _clauses(sentence)]
        named = [topic for _, subjects in clauses for topic in subjects]
        # a clause naming no rule is about the ones the sentence was just naming, else the first it names
        # ("escalated to billing (failed payment)"), else the ones the line was about
        current = next((subjects for _, subjects in clauses if subjects), last)
        signs: dict[Topic, list[tuple[int, bool]]] = {}
        for clause, subjects in clauses:
            current = subjects or current
            for topic in current:
                sign = polarity(clause, topic.kind)
                signs.setdefault(topic, []).append((sign, "upgrad" in clause.lower()))
        last = next((subjects for _, subjects in reversed(clauses) if subjects), last)
        for topic, found in signs.items():
            operative = topic in named and topic.operative.search(sentence)
            if operative or any(sign for sign, _ in found):  # it names the rule and says something about it
                out.append(Statement(clause=topic.clause, negated=not in_force(found), stale=stale_line,
                                     origin=origin, text=sentence,
                                     params=_params(topic.clause, sentence, plan_re, sales_plans, names)))
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
    heading: tuple[Topic, ...] = ()  # "Legacy pricing:" on a line of its own: the bullets under it are its
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            in_turn, heading = False, ()
            continue
        if TURN_LINE_RE.match(line) or MESSAGE_HEAD_RE.match(line):
            in_turn = True  # history turns and the customer's message (to the next blank line) are data
            continue
        if in_turn or line.startswith(">"):
            continue
        listed = bool(re.match(r"(?:[-*\u2022]|\d{1,2}[.)])\s", line)) or raw[:1].isspace()
        found = _read_line(line, cat.plan_re, cat.sales_plans, names, heading if listed else ())
        if line.endswith(":"):
            heading = _subjects(line, names)
        elif not listed:
            heading = ()
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
