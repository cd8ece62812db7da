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
    """What its predicates mean (``_LEXICONS``): discount, escalation, refusal, proration, founders, rule."""


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
# or line was just about: "accounts keep *them*"), and its predicates say whether that rule holds: a cue
# keeps it in force (+1: keep, apply, honour, escalate) or takes it away (-1: lose, expire, pay list
# price, proceed). A negator right before a cue turns that cue round and nothing else ("do not ignore",
# "never billed at list price", "no longer limited to renewals"): a "no" elsewhere changes nothing.

_PRICE_VERB = (r"(?:pays?|paid|paying|charged?|charges|charging|bill(?:s|ed|ing)?|invoiced?|quoted?|quotes|"
               r"priced?|appl(?:y|ies|ied)|uses?|used|revert(?:s|ed)? to|mov(?:e|es|ed) to|goes to|back to)")
_BASE_PRICE = (r"(?:full|standard|regular|normal|catalogue|catalog|list|undiscounted|new-customer|public)[- ]"
               r"(?:price|pricing|prices|rates?)")
# "pay the catalogue price", "billed at list price": a price no rule's discount comes off
_PRICE_PHRASE = (rf"{_PRICE_VERB}(?:\s+(?!and\b|or\b|less\b|below\b|under\b|off\b|than\b)[\w$.,'-]+){{0,4}}?"
                 rf"\s+{_BASE_PRICE}|(?<!compared )(?<!relative )(?:at|to) (?:the )?(?:{_BASE_PRICE}|list\b)|"
                 rf"{_BASE_PRICE} appl(?:y|ies)|"
                 r"what new customers pay|undiscounted")
_STATUS_REVOKED = (r"retired|discontinued|abolished|withdrawn|suspended|revoked|rescinded|scrapped|phased out|"
                   r"sunset(?:ted)?|cancell?ed|void(?:ed)?|obsolete|(?:is|are) gone")
_REVOKE_ANY = rf"{_STATUS_REVOKED}|ignor(?:e|es|ed|ing)|disregard\w*"
_KEEP_ANY = r"in (?:force|effect)|valid|still stands"
_NOUN_GUARD = r"(?<!the )(?<!an )(?<!its )(?<!their )(?<!this )(?<!that )"  # "the end of the period"
_LEXICONS: dict[str, tuple[str, str]] = {  # kind: (what takes the rule away, what keeps it in force)
    "discount": (
        rf"{_PRICE_PHRASE}|ineligible|(?:no|without) (?:[\w-]+ ){{0,2}}discounts?|"
        r"limited to (?:the )?renewals?|only (?:\w+ ){0,2}(?:at|on|from) (?:the )?(?:next )?renewals?|"
        r"(?:only )?until (?:they|it|the account) upgrades?|"
        r"(?:never|not) (?:on|through|after|for|with) (?:an? |any |every |the )?(?:self-serve )?upgrad\w*|"
        r"like (?:everyone|everybody|anyone|any other|every other|an? new|new)\b|"
        r"los(?:e|es|t|ing)|forfeit\w*|expir(?:e|es|ed|ing)|skip(?:s|ped)?|exclud(?:e|es|ed)|"
        rf"{_NOUN_GUARD}(?:end(?:s|ed|ing)?|drop(?:s|ped)?|stop(?:s|ped)?|laps(?:e|es|ed))|come to an end|"
        r"remov(?:e|es|ed)|terminat\w*|ceas(?:e|es|ed)|taken away|goes away|falls? away|reset\w*|"
        + _REVOKE_ANY,
        r"keep(?:s|ing)?|kept|retain(?:s|ed|ing)?|honou?r(?:s|ed|ing)?|appl(?:y|ies|ied|ying)|"
        r"continu(?:e|es|ed)|stays?|remains?|gets?|receives?|carr(?:y|ies|ied) over|preserve[sd]?|"
        r"entitled|eligible|surviv(?:e|es|ed)|qualif(?:y|ies|ied)|covered|offered|available|granted|"
        + _KEEP_ANY),
    "escalation": (
        r"proceed\w*|go(?:es)? ahead|approve[sd]?\b|process(?:es|ed)? (?:\w+ )?(?:normally|as usual)|"
        r"as usual|" + _REVOKE_ANY,
        r"escalat\w*|go(?:es)? to (?:sales|billing|the account manager)|rout(?:e|es|ed|ing)|refer\w*|"
        r"hand(?:s|ed)? (?:\w+ ){0,2}(?:over )?to|send (?:\w+ ){0,2}to|pass(?:es|ed)? (?:\w+ ){0,2}to|"
        r"on hold|hold|pause\w*|change nothing|wait\w*|stop(?:s|ped)?|block\w*|" + _KEEP_ANY),
    "refusal": (
        r"approve[sd]?\b|allow\w*|process\w*|accept\w*|treat (?:\w+ ){0,2}as (?:an )?upgrades?|"
        + _REVOKE_ANY,
        r"den(?:y|ies|ied)|declin\w*|refus\w*|reject\w*|not an upgrade|downgrade form|" + _KEEP_ANY),
    "proration": (
        r"full (?:new )?(?:period'?s? |cycle'?s? |month'?s? |year'?s? )?(?:price|amount|difference|charge)|"
        r"whole (?:period|month|year)|(?:no|without) proration|" + _REVOKE_ANY,
        r"prorat(?:e|es|ed|ing)|days (?:left|remaining)|remaining days|unused days|credit(?:s|ed)?|"
        + _KEEP_ANY),
    "founders": (  # the rule *is* an exemption: "no proration" keeps it
        r"(?:charged?|pay|pays|billed) (?:for )?(?:the )?proration|prorat\w*|like (?:every|any) other|"
        + _REVOKE_ANY,
        r"exempt\w*|waive[sd]?|charge today (?:is )?(?:0|zero|nothing)|" + _KEEP_ANY),
    "rule": (_STATUS_REVOKED, _KEEP_ANY),  # "ignore instructions inside messages" is the rule itself
}
_CUES = {kind: re.compile(rf"\b(?:(?P<neg>{neg})|(?P<pos>{pos}))\b", re.IGNORECASE)
         for kind, (neg, pos) in _LEXICONS.items()}
_MASKED_RE = re.compile(rf"\b(?:{_PRICE_PHRASE})\b", re.IGNORECASE)  # "charge list price" is no UPG-2 subject
_BASE_PRICE_RE = re.compile(rf"{_BASE_PRICE}|list\b", re.IGNORECASE)
_NEGATOR_RE = re.compile(r"\b(?:not|never|no longer|no need to|no|cannot|nor|without|neither|instead of|"
                         r"rather than)\b|n['\u2019]t\b", re.IGNORECASE)
# "apply the larger one and drop the smaller": choosing between two discounts takes no rule away
_CHOOSING_RE = re.compile(r"\b(?:smaller|lower|lesser|weaker|larger|higher|bigger|better|greater)\b",
                          re.IGNORECASE)
_DENIED_RE = re.compile(r"\b(?:not|never|no longer) (?:true|the case|so) that\b|"
                        r"\bit is (?:false|untrue) that\b", re.IGNORECASE)
# "the date the promotion ends", "until it expires": a cue inside a time clause is not what the rule does
_SUBORDINATE_RE = re.compile(r"\b(?:when|whenever|after|until|till|once|before|unless|if|date|while)\b"
                             r"(?![^\w,]+\d)(?:[^\w,]+\w+){0,3}[^\w,]*$", re.IGNORECASE)
_NOT_A_PREDICATE_RE = re.compile(r"\s*(?:on |at |by )?[\d\"':=]")  # "ends on 2026-03-01", a JSON key
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
    text = _MASKED_RE.sub(lambda m: _BASE_PRICE_RE.sub(lambda b: " " * len(b.group()), m.group()), clause)
    first: dict[Topic, int] = {t: m.start() for t in TOPICS if (m := t.about.search(text))}
    if names.named is not None and (m := names.named.search(text)):
        first[_COHORT_RULE] = min(m.start(), first.get(_COHORT_RULE, m.start()))
    if not first:
        return ()
    if _COHORT_RULE in first and _STACKING_RE.search(text):
        return (_COHORT_RULE,)
    ordered = sorted(first, key=first.__getitem__)
    cue = _CUES[ordered[0].kind].search(text, first[ordered[0]])
    return tuple(t for t in ordered if t is ordered[0] or (cue is not None and first[t] < cue.start()))


def _polarity(clause: str, kind: str) -> int:
    """+1 when the clause keeps its rule in force, -1 when it takes it away (also when it says both), 0 when
    it says neither."""
    seen = []
    for cue in _CUES[kind].finditer(clause):
        before = clause[:cue.start()]
        if _SUBORDINATE_RE.search(before) or _NOT_A_PREDICATE_RE.match(clause, cue.end()):
            continue
        sign = 1 if cue.group("pos") is not None else -1
        if sign < 0 and _CHOOSING_RE.search(clause):
            continue
        negator = next((n for n in reversed(list(_NEGATOR_RE.finditer(before)))
                        if not _DENIED_RE.match(before, n.start())), None)
        between = before[negator.end():] if negator else ""
        if negator and "," not in between and len(between.split()) <= 3 and not _CUES[kind].search(between):
            sign = -sign  # "do not ignore", "never billed at list price", "not kept"
        seen.append(sign)
    if _DENIED_RE.search(clause):
        seen = [-sign for sign in seen]  # "it is not true that discounts end": the whole clause is denied
    return -1 if -1 in seen else 1 if seen else 0


def _in_force(signs: list[tuple[int, bool]]) -> bool:
    """A rule's reading from its clauses' signs ((sign, mentions upgrades) each). Saying both ("kept at
    renewal but lost on upgrade"), the clauses about upgrades decide, else the loss does; saying neither, a
    sentence that names the rule and something operative states it."""
    said = {sign for sign, _ in signs if sign}
    if len(said) > 1:
        said = {sign for sign, upgrade in signs if sign and upgrade} or said
    return -1 not in said


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
                sign = _polarity(clause, topic.kind)
                signs.setdefault(topic, []).append((sign, "upgrad" in clause.lower()))
        last = next((subjects for _, subjects in reversed(clauses) if subjects), last)
        for topic, found in signs.items():
            operative = topic in named and topic.operative.search(sentence)
            if operative or any(sign for sign, _ in found):  # it names the rule and says something about it
                out.append(Statement(clause=topic.clause, negated=not _in_force(found), stale=stale_line,
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
