"""Reading the account facts in a prompt, in any reasonable layout: ``Label: value`` or
``Label = value`` lines, markdown tables, JSON objects (with the case's own field names or the
sheet's labels) and a few prose forms; labels are matched loosely (case, underscores, common
synonyms). Also the catalogue's prices as the prompt states them, a promotion and a contract."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from evalkit.tasks.upgrades._catalogue import Catalogue
from evalkit.tasks.upgrades._facts import ContractFacts, PromoFacts
from evalkit.tasks.upgrades._read_history import TURN_RE
from evalkit.tasks.upgrades._text import amounts_in, normalise_label, parse_date, parse_plan

KV_RE = re.compile(r"^\s*(?:[-*•]\s*)?\**([A-Za-z][A-Za-z _/()-]{1,40}?)\**\s*(?::|=|\t+|->|→)\s*(.+?)\s*$")
TABLE_RE = re.compile(r"^\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*$")
SYNONYMS = {
    "today": "today", "date": "today", "current date": "today", "received": "today", "request date": "today",
    "account": "account", "account id": "account", "company": "company",
    "current plan": "plan", "plan": "plan",
    "billing cycle": "cycle", "cycle": "cycle", "billing": "cycle", "billing cycle now": "cycle",
    "seats": "seats", "current seats": "seats", "seat count": "seats",
    "current recurring price": "price", "recurring price": "price", "current price": "price",
    "pays now": "price",
    "current billing period": "period", "billing period": "period", "period": "period",
    "period start": "period_start", "period end": "period_end", "next renewal": "period_end",
    "renewal date": "period_end",
    "pricing cohort": "cohort", "cohort": "cohort",
    "customer since": "customer_since",
    "promotion": "promotion", "promo": "promotion", "active promotion": "promotion",
    "contract": "contract",
    "account flags": "flags", "flags": "flags",
    "account manager": "am",
    "account notes": "notes", "notes": "notes",
    "requested plan": "target_plan", "target plan": "target_plan",
    "requested seats": "target_seats", "target seats": "target_seats",
    "requested billing cycle": "target_cycle", "target cycle": "target_cycle", "requested cycle": "target_cycle",
    "migrated from": "migrated_from", "migration date": "migration_date",
    "nonprofit verified": "nonprofit", "verified nonprofit": "nonprofit",
}
LONG_VALUES = ("contract", "promotion", "notes", "flags")


def _flatten(obj: Any, out: dict[str, Any], prefix: str = "") -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            key = normalise_label(str(k))
            if isinstance(v, dict) and key in ("promotion", "contract", "flags", "account flags"):
                out.setdefault(SYNONYMS.get(key, key), v)
            elif isinstance(v, dict):
                _flatten(v, out, key)
            else:
                canon = SYNONYMS.get(key) or SYNONYMS.get(f"{prefix} {key}".strip())
                if canon is None and prefix in ("request", "requested", "target"):
                    canon = {"plan": "target_plan", "seats": "target_seats", "target plan": "target_plan",
                             "target seats": "target_seats", "target cycle": "target_cycle",
                             "billing cycle": "target_cycle", "cycle": "target_cycle"}.get(key)
                if canon is None:
                    canon = {"billing cycle": "cycle", "recurring price": "price", "period start": "period_start",
                             "period end": "period_end", "pricing cohort": "cohort", "received": "today",
                             "account id": "account", "nonprofit verified": "nonprofit"}.get(key)
                if canon:
                    out.setdefault(canon, v)


def _json_blocks(text: str) -> list[Any]:
    out, decoder, i = [], json.JSONDecoder(), 0
    while (i := text.find("{", i)) >= 0:
        try:
            obj, end = decoder.raw_decode(text, i)
        except ValueError:
            i += 1
            continue
        if isinstance(obj, dict) and len(obj) >= 3:
            out.append(obj)
        i = end
    return out


PROSE = (
    ("today", re.compile(r"\btoday is ([^\n]{6,30})", re.IGNORECASE)),
    ("account", re.compile(r"\baccount ([A-Z]{2,}-\d+)")),
    ("plan", re.compile(r"\b(?:is|are|currently) on (?:the )?(\w+) plan", re.IGNORECASE)),
    ("seats", re.compile(r"\bwith (\d[\d,]*) seats", re.IGNORECASE)),
    ("cycle", re.compile(r"\bbilled (monthly|annually|yearly|annual)", re.IGNORECASE)),
    ("price", re.compile(r"\bpays? (\$[\d,.]+ per (?:month|year))", re.IGNORECASE)),
    ("period", re.compile(r"\bbilling period (?:runs )?(?:from )?(\S+ to \S+?)[.,;\s]", re.IGNORECASE)),
    ("cohort", re.compile(r"\b(legacy-\d{4}) (?:pricing )?cohort", re.IGNORECASE)),
    ("customer_since", re.compile(r"\bcustomer since (\S+?)[.,;\s]", re.IGNORECASE)),
    ("target_plan", re.compile(r"\brequests? (?:a move to |to move to |the )?(\w+) plan", re.IGNORECASE)),
    ("target_seats", re.compile(r"\brequests?[^.]*?\bwith (\d[\d,]*) seats", re.IGNORECASE)),
    ("target_cycle", re.compile(r"\brequests?[^.]*?\bbilled (monthly|annually|yearly|annual)", re.IGNORECASE)),
)


def key_values(text: str) -> dict[str, Any]:
    """Canonical fact key -> raw value, first occurrence wins (a reader skims top-down)."""
    kv: dict[str, Any] = {}
    for obj in _json_blocks(text):
        _flatten(obj, kv)
    in_turn = False
    for line in text.splitlines():
        if TURN_RE.match(line):
            in_turn = True
            continue
        if not line.strip():
            in_turn = False
            continue
        if in_turn or line.lstrip().startswith(">"):
            continue
        for canon, value in _line_facts(line):
            kv.setdefault(canon, value)
    for key, pattern in PROSE:
        if key not in kv and (m := pattern.search(text)):
            kv[key] = m.group(1)
    return kv


@lru_cache(maxsize=8192)  # fact-sheet lines repeat across configurations, label lines across cases
def _line_facts(line: str) -> tuple[tuple[str, str], ...]:
    """The (fact key, raw value) pairs one line of a prompt states, in order."""
    m = TABLE_RE.match(line) or KV_RE.match(line)
    if m is None and ". " in line:  # prose: "... per month. Promotion: none. Contract: ..."
        out = []
        for piece in re.split(r"(?<=\.)\s+(?=[A-Z])", line):
            p = KV_RE.match(piece.rstrip("."))
            if p and SYNONYMS.get(normalise_label(p.group(1))) in LONG_VALUES + ("am", "customer_since"):
                out.append((SYNONYMS[normalise_label(p.group(1))], p.group(2).strip()))
        return tuple(out)
    if m is None:
        return ()
    canon = SYNONYMS.get(normalise_label(m.group(1)))
    if canon is None or (len(m.group(2).split()) > 14 and canon not in LONG_VALUES):
        return ()  # not a fact, or a sentence (e.g. an untagged "Billing cycle: Switching ..." clause)
    return ((canon, m.group(2).strip()),)


def stated_prices(text: str, cat: Catalogue) -> dict[str, tuple[Decimal, Decimal]]:
    """Seat prices the prompt states, for ``cat``'s self-serve plans."""
    out: dict[str, tuple[Decimal, Decimal]] = {}
    for line in text.splitlines():
        if TURN_RE.match(line):
            continue
        found = _line_price(line, cat.plan_re)
        if found is not None and found[0] not in cat.sales_plans and found[0] not in out:
            out[found[0]] = found[1]
    return out


@lru_cache(maxsize=8192)  # the catalogue's price lines are the same in every prompt of a configuration
def _line_price(line: str, plan_re: re.Pattern[str]) -> tuple[str, tuple[Decimal, Decimal]] | None:
    """(plan, (first, second) seat price) when ``line`` states a plan's seat prices."""
    plan = parse_plan(line, plan_re)
    if plan is None or not re.search(r"per seat|/seat|/ seat|\|", line.lower()):
        return None
    amounts = amounts_in(line)
    return (plan, (amounts[0], amounts[1])) if len(amounts) >= 2 else None


def read_promo(value: Any, plan_re: re.Pattern[str]) -> PromoFacts | None:
    if isinstance(value, dict):
        try:
            return PromoFacts(code=str(value.get("code", "")), percent_off=int(value["percent_off"]),
                              plans=tuple(value.get("eligible_plans") or ()),
                              starts=parse_date(str(value["starts"])), ends=parse_date(str(value["ends"])))  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError):
            return None
    text = str(value or "")
    pct = re.search(r"(\d{1,2}) ?%", text)
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", text)
    if not pct or len(dates) < 2:
        return None
    plans = tuple(p.lower() for p in plan_re.findall(text.split("%", 1)[1]))
    code = text.split(",")[0].strip()
    return PromoFacts(code=code, percent_off=int(pct.group(1)), plans=plans,
                      starts=date.fromisoformat(dates[0]), ends=date.fromisoformat(dates[1]))


def read_contract(value: Any, plan_re: re.Pattern[str]) -> ContractFacts | None:
    if isinstance(value, dict):
        try:
            return ContractFacts(plan=value["plan"], seat_price=Decimal(str(value["negotiated_seat_price"])),
                                 lock_until=parse_date(str(value.get("price_lock_until") or "")),
                                 min_seats=value.get("min_seats"),
                                 am_approval=bool(value.get("changes_need_am_approval")))
        except (KeyError, ArithmeticError):
            return None
    text = str(value or "")
    if not text or text.lower() in ("none", "no", "-", "null"):
        return None
    plan = parse_plan(text, plan_re)
    price = re.search(r"\$\s?([\d,]+(?:\.\d+)?) per seat", text)
    if plan is None or price is None:
        return None
    lock = re.search(r"(?:price lock|locked) until (\S+?)(?:[;,]|$)", text)
    minimum = re.search(r"minimum (?:of )?(\d+) seats", text)
    return ContractFacts(plan=plan, seat_price=Decimal(price.group(1).replace(",", "")),
                         lock_until=parse_date(lock.group(1)) if lock else None,
                         min_seats=int(minimum.group(1)) if minimum else None,
                         am_approval=bool(re.search(r"account.manager approval|needs? (?:AM|account manager)", text,
                                                    re.IGNORECASE)))


def truthy(value: Any, needle: str) -> bool:
    if isinstance(value, dict):
        return any(bool(v) and needle.split()[0] in k for k, v in value.items())
    return needle in str(value or "").lower()
