"""Reading the conversation history in a prompt: the deciding facts its turns state (a price
lock, an open dispute, a sign-off note, a hint at an exception), where they are, and whether a
later turn revoked them; plus internal notes and another customer's price a model must not leak."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from evalkit.tasks.upgrades._text import amounts_in, parse_date

TURN_RE = re.compile(r"^\s*\[(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}\]\s*(customer|agent|internal)\s*:\s?(.*)$",
                     re.MULTILINE | re.IGNORECASE)
LOCK_RE = re.compile(r"price lock|locked (?:in|at)|rate lock", re.IGNORECASE)
LOCK_END_RE = re.compile(r"(?:lock|locked rate)[^.]{0,60}\b(expired|lapsed|ended|has ended|no longer applies|"
                         r"is over)|(?:expired|lapsed|ended)[^.]{0,40}\block", re.IGNORECASE)
DISPUTE_RE = re.compile(r"\bdisput\w*|charged (?:us )?twice|chargeback", re.IGNORECASE)
RESOLVED_RE = re.compile(r"\b(resolved|settled|closed|withdrawn|sorted out|refund (?:was )?issued|credited)\b",
                         re.IGNORECASE)
SIGNOFF_RE = re.compile(r"sign[- ]?off", re.IGNORECASE)
HINT_RE = re.compile(r"\b(special (?:rate|pricing|arrangement)|grandfathered|founding customer|formly rate|"
                     r"migration (?:rate|discount)|nonprofit (?:rate|discount)|never (?:pay|charged) proration|"
                     r"finance knows|off-book|not in the system)\b", re.IGNORECASE)
OTHER_PRICE_RE = re.compile(r"(\w+) Corp pays \$([\d.]+)/seat")
# Most turns state none of the deciding facts: each pattern runs only on turns holding a word it
# needs (plain substring tests; the case-insensitive alternations are ~20x slower than that).
_NEEDS = {"lock": ("lock",), "dispute": ("disput", "charged", "chargeback"), "signoff": ("sign",),
          "hint": ("special", "grandfathered", "founding", "formly", "migration", "nonprofit", "never",
                   "finance knows", "off-book", "not in the system")}
"""Words without which the kind's patterns (``PATTERNS``) cannot match."""
PATTERNS = {"lock": (LOCK_RE, LOCK_END_RE), "dispute": (DISPUTE_RE,), "signoff": (SIGNOFF_RE,), "hint": (HINT_RE,)}


def candidate_kinds(body: str) -> frozenset[str]:
    """The pattern kinds (``_NEEDS`` keys) that may match ``body``; all of them for non-ASCII text,
    where Unicode case folding is wider than ``lower``."""
    if not body.isascii():
        return frozenset(_NEEDS)
    low = body.lower()
    return frozenset(kind for kind, words in _NEEDS.items() if any(w in low for w in words))


@dataclass(frozen=True, kw_only=True)
class HistoryEvent:
    """A deciding fact in the conversation history, where it is, and whether a later turn revoked it."""

    kind: str  # lock | dispute | signoff | hint
    tokens_after: int
    revoked_tokens_after: int | None = None
    """Tokens after the turn that revoked it (a resolution or expiry); None if never revoked."""
    price: Decimal | None = None
    until: date | None = None
    in_long_turn: bool = False


def read_history(text: str) -> tuple[list[HistoryEvent], int, list[str], str | None]:
    matches = list(TURN_RE.finditer(text))
    ends = [m.start() for m in matches[1:]] + [len(text)]
    # The last turn runs to the end of its paragraph (the prompt continues after the history).
    if matches:
        tail = text.find("\n\n", matches[-1].end())
        ends[-1] = tail if tail >= 0 else len(text)
    bodies = [text[m.start(3):end] for m, end in zip(matches, ends)]
    authors = [m.group(2).lower() for m in matches]
    tokens = [len(b) // 4 + 6 for b in bodies]
    total = sum(tokens)
    after, seen = [], 0
    for t in tokens:  # tokens after each turn
        seen += t
        after.append(total - seen)
    events: list[HistoryEvent] = []
    internal: list[str] = []
    other_price = None
    lock_i = dispute_i = None
    for i, (author, body) in enumerate(zip(authors, bodies)):
        long_turn = body.count("\n") > 4
        if author == "internal":
            internal.append(body)
            if m := OTHER_PRICE_RE.search(body):
                other_price = f"{m.group(1)} pays ${m.group(2)} per seat"
        kinds = candidate_kinds(body)
        if not kinds:
            continue
        locks = "lock" in kinds and LOCK_RE.search(body) is not None
        lock_ends = "lock" in kinds and LOCK_END_RE.search(body) is not None
        disputes = "dispute" in kinds and DISPUTE_RE.search(body) is not None
        resolved = disputes and RESOLVED_RE.search(body) is not None
        if locks and author in ("internal", "agent") and not lock_ends:
            price = next((a for a in amounts_in(body) if a < 1000), None)
            until = parse_date(body[body.lower().find("until"):]) if "until" in body.lower() else None
            if price is not None and until is not None:
                events.append(HistoryEvent(kind="lock", tokens_after=after[i], price=price, until=until,
                                           in_long_turn=long_turn))
                lock_i = len(events) - 1
        elif lock_ends and lock_i is not None:
            events[lock_i] = _revoke(events[lock_i], after[i])
        if disputes and not resolved and author == "customer":
            if dispute_i is None:
                events.append(HistoryEvent(kind="dispute", tokens_after=after[i], in_long_turn=long_turn))
                dispute_i = len(events) - 1
        elif disputes and resolved and dispute_i is not None:
            events[dispute_i] = _revoke(events[dispute_i], after[i])
        if "signoff" in kinds and author == "internal" and SIGNOFF_RE.search(body):
            events.append(HistoryEvent(kind="signoff", tokens_after=after[i], in_long_turn=long_turn))
        if "hint" in kinds and HINT_RE.search(body):
            events.append(HistoryEvent(kind="hint", tokens_after=after[i], in_long_turn=long_turn))
    return events, total, internal, other_price


def _revoke(event: HistoryEvent, tokens_after: int) -> HistoryEvent:
    return replace(event, revoked_tokens_after=tokens_after)
