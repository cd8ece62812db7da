"""Reading amounts, dates, plans and numbers out of free text: the one implementation the
rubric, the judge and the simulated model's reader share.

Amounts: ``$1,000.00``, ``1000``, ``USD 1,080``, ``1,080.00 dollars``, ``$ 45``. A
percentage (``40%``) is never an amount. Dates: ``2026-05-31``, ``2026/05/31``,
``May 31, 2026``, ``May 31st 2026``, ``31 May 2026``, ``the 31st of May 2026``, ``Sept 3, 2026``,
``31-May-2026``, ``May-31-2026``, a timestamp's date (``2026-05-31T00:00:00Z``), and numeric dates
with the year last: ``12/31/2026``, ``31.12.2026``, ``31-12-2026`` (each number that could be the
month is read as the month: ``05/06/2026`` means May 6 or June 5).
Percentages in words (``40 percent``, ``forty-percent``, ``40 per cent``) read as ``40%``.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

MONEY_RE = re.compile(
    r"(?<![\w.,])(?:(?:US)?\$|USD|EUR|€)?\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?![\d%]|\.\d|,\d{3}|\s?(?:%|percent))")
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")
MONTHS = {name.lower(): i for i, name in enumerate(_MONTH_NAMES, start=1)}
MONTHS.update({name[:3]: i for name, i in list(MONTHS.items())})
MONTHS["sept"] = 9
ISO_DATE_RE = re.compile(r"\b(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?!\d)")
"""2026-05-31, 2026/05/31, 2026.05.31, and an ISO timestamp's date (2026-05-31T00:00:00Z)."""
US_DATE_RE = re.compile(r"(?<![\d/.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?![\d/-]|\.\d)")
"""Numeric dates with the year last, 12/31/2026, 31.12.2026, 31-12-2026: month first (US) or day first
(European), read both ways when both numbers could be the month; a four-digit year only (3/4 is no date)."""
_MON = r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
LONG_DATE_RES = (re.compile(rf"\b{_MON}\.?[ -](\d{{1,2}})(?:st|nd|rd|th)?,?[ -](\d{{4}})\b", re.IGNORECASE),
                 re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?: of)?[ -]{_MON}\.?,?[ -](\d{{4}})\b", re.IGNORECASE))
"""May 31, 2026, May 31st 2026, 31 May 2026, the 31st of May 2026, and dashed: 31-May-2026, May-31-2026."""
# Cheap pre-checks. The patterns above are slow to search (at every position they try a word
# boundary and a dozen month names); each pre-check finds a part that every match of its patterns
# contains, so text it does not find skips them: an amount has a digit, an ISO date its year and
# separator, a long date its year after a space.
_DIGIT_RE = re.compile(r"\d")
_ISO_HINT_RE = re.compile(r"\d{4}[-/.]\d")
_LONG_HINT_RE = re.compile(r"[ -]\d{4}\b")
_US_HINT_RE = re.compile(r"[/.-]\d{4}")
DATE_FORMS = ((ISO_DATE_RE, _ISO_HINT_RE), (LONG_DATE_RES[0], _LONG_HINT_RE), (LONG_DATE_RES[1], _LONG_HINT_RE),
              (US_DATE_RE, _US_HINT_RE))
"""(date pattern, its pre-check), in the order dates are blanked."""


def parse_money(text: str) -> Decimal | None:
    """The first amount in ``text`` (None if there is none)."""
    found = amounts_in(text)
    return found[0] if found else None


def _blank(match: re.Match[str]) -> str:
    return " " * len(match.group(0))


def _blank_dates(text: str) -> str:
    """``text`` with its dates overwritten by spaces (positions kept), one pattern after another."""
    for pattern, hint in DATE_FORMS:
        if hint.search(text):
            text = pattern.sub(_blank, text)
    return text


def amounts_in(text: str) -> list[Decimal]:
    """Amounts in order of appearance (dates are not amounts)."""
    if not _DIGIT_RE.search(text):
        return []
    out = []
    for whole, cents in MONEY_RE.findall(_blank_dates(text)):
        try:
            out.append(Decimal(whole.replace(",", "") + "." + (cents or "0").ljust(2, "0")))
        except InvalidOperation:
            continue
    return out


def money_in(text: str) -> set[Decimal]:
    return set(amounts_in(text))


_CURRENCY_AFTER_RE = re.compile(r"\s?(?:dollars?|bucks|USD|EUR|euros?)\b", re.IGNORECASE)


def money_mentions(text: str) -> list[tuple[int, int, Decimal, bool]]:
    """Each amount in ``text``: (start, end, amount, written as money). Written as money: with a
    currency ($, USD, dollars, ...) or cents; a bare ``36`` may as well count seats or days."""
    if not _DIGIT_RE.search(text):
        return []
    blanked = _blank_dates(text)
    out = []
    for m in MONEY_RE.finditer(blanked):
        whole, cents = m.group(1), m.group(2)
        try:
            amount = Decimal(whole.replace(",", "") + "." + (cents or "0").ljust(2, "0"))
        except InvalidOperation:
            continue
        marked = bool(cents) or m.group(0).strip()[:1] in "$UE€" or bool(_CURRENCY_AFTER_RE.match(blanked, m.end()))
        out.append((m.start(), m.end(), amount, marked))
    return out


_NUMBER_WORDS = {w: i for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
     "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"])}
_TENS = {w: 10 * i for i, w in enumerate(
    ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"], start=2)}
_WORD_PERCENT_RE = re.compile(
    r"\b(?:(?P<tens>" + "|".join(_TENS) + r")(?:[- ](?P<unit>" + "|".join(list(_NUMBER_WORDS)[1:10]) + r"))?|"
    r"(?P<small>" + "|".join(_NUMBER_WORDS) + r")|(?P<hundred>(?:a |one )?hundred))[- ]?(?:per ?cent|pct)\b",
    re.IGNORECASE)
_DIGIT_PERCENT_RE = re.compile(r"(?<![\d.,])(\d{1,3}(?:\.\d+)?)(?:\s?%|[- ]?(?:per ?cent|pct)\b)", re.IGNORECASE)
_HALF_RE = re.compile(r"\bhalf[- ](?:price|off)\b", re.IGNORECASE)


def _word_percent(m: re.Match[str]) -> str:
    if m.group("hundred"):
        return "100%"
    if m.group("small"):
        return f"{_NUMBER_WORDS[m.group('small').lower()]}%"
    return f"{_TENS[m.group('tens').lower()] + (_NUMBER_WORDS[m.group('unit').lower()] if m.group('unit') else 0)}%"


def normalise_percentages(text: str) -> str:
    """Every percentage written as ``N%``: ``40 percent``, ``40-percent``, ``40 per cent``, ``40 %``,
    ``forty percent``, ``forty-percent``, ``Forty-five per cent``; ``half price``/``half off``: ``50% off``."""
    if "%" not in text and not re.search(r"per ?cent|pct|half", text, re.IGNORECASE):
        return text
    text = _WORD_PERCENT_RE.sub(_word_percent, text)
    text = _DIGIT_PERCENT_RE.sub(lambda m: f"{m.group(1)}%", text)
    return _HALF_RE.sub("50% off", text)


def _safe_date(y: int, m: int | None, d: int) -> date | None:
    try:
        return date(y, m, d) if m else None
    except ValueError:
        return None


def dates_with_positions(text: str) -> list[tuple[int, date]]:
    found = []
    if _ISO_HINT_RE.search(text):
        found += [(m.start(), _safe_date(int(m.group(1)), int(m.group(3)), int(m.group(4))))
                  for m in ISO_DATE_RE.finditer(text)]
    if _LONG_HINT_RE.search(text):
        for m in LONG_DATE_RES[0].finditer(text):
            found.append((m.start(), _safe_date(int(m.group(3)), MONTHS.get(m.group(1).lower()[:3]), int(m.group(2)))))
        for m in LONG_DATE_RES[1].finditer(text):
            found.append((m.start(), _safe_date(int(m.group(3)), MONTHS.get(m.group(2).lower()[:3]), int(m.group(1)))))
    if _US_HINT_RE.search(text):
        found += [(m.start(), next(iter(_us_readings(m)), None)) for m in US_DATE_RE.finditer(text)]
    return sorted((p, d) for p, d in found if d is not None)


def _us_readings(m: re.Match[str]) -> list[date]:
    """12/31/2026 -> [Dec 31]; 31/12/2026 -> [Dec 31] (no month 31); 05/06/2026 -> [May 6, Jun 5]."""
    first, second, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
    readings = [_safe_date(year, first, second), _safe_date(year, second, first)]
    return list(dict.fromkeys(d for d in readings if d is not None))


def date_mentions(text: str) -> list[tuple[int, int, tuple[date, ...]]]:
    """Each date written in ``text``: (start, end, the days it can mean). One day, except a slash
    date whose two numbers could each be the month (05/06/2026: May 6 in the US, June 5 elsewhere)."""
    found: list[tuple[int, int, tuple[date, ...]]] = []
    if not _DIGIT_RE.search(text):
        return found
    if _ISO_HINT_RE.search(text):
        for m in ISO_DATE_RE.finditer(text):
            day = _safe_date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
            found += [(m.start(), m.end(), (day,))] if day else []
    if _LONG_HINT_RE.search(text):
        for pattern, month, day_of in ((LONG_DATE_RES[0], 1, 2), (LONG_DATE_RES[1], 2, 1)):
            for m in pattern.finditer(text):
                day = _safe_date(int(m.group(3)), MONTHS.get(m.group(month).lower()[:3]), int(m.group(day_of)))
                found += [(m.start(), m.end(), (day,))] if day else []
    if _US_HINT_RE.search(text):
        for m in US_DATE_RE.finditer(text):
            readings = tuple(_us_readings(m))
            found += [(m.start(), m.end(), readings)] if readings else []
    return sorted(found)


def dates_in(text: str) -> set[date]:
    return {d for _, d in dates_with_positions(text)}


def parse_date(text: str) -> date | None:
    found = dates_with_positions(text)
    return found[0][1] if found else None


def parse_int(text: str) -> int | None:
    m = re.search(r"\d[\d,]*", text)
    return int(m.group(0).replace(",", "")) if m else None


def parse_plan(text: str, plan_re: re.Pattern[str]) -> str | None:
    """The first plan ``plan_re`` (a catalogue's plan names) finds in ``text``, lower case."""
    m = plan_re.search(text)
    return m.group(1).lower() if m else None


def parse_cycle(text: str) -> str | None:
    low = text.lower()
    if re.search(r"\b(annual|annually|yearly|per year|a year|/ ?yr|/ ?year)\b", low):
        return "annual"
    if re.search(r"\b(monthly|per month|a month|/ ?mo|/ ?month)\b", low):
        return "monthly"
    return None


@lru_cache(maxsize=4096)  # a few dozen labels, read in every prompt
def normalise_label(label: str) -> str:
    """'Current_Plan ', 'current-plan' and 'Current plan' all become 'current plan'."""
    return re.sub(r"\s+", " ", re.sub(r"[_\-*#`\"']+", " ", label)).strip().lower()
