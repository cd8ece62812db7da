"""Numbers as consoles and reports show them, one format of each: a percent, money, a signed change
(``signed``), a rate over its interval for narrow console tables (``rate_lines``), an estimate with its
95% interval and n (``interval``) and the three numbers of one (``pct_parts``, ``money_parts``). An
unknown number is shown as unknown, never as 0.

Two rules hold for every format here:

- a number that rounds to zero is shown without a sign: ``0.0``, never ``-0.0`` (nor ``+0.0``);
- an interval whose bounds differ is never printed as a point: its bounds (and its estimate) get as many
  more decimals as it takes to tell them apart (``0.0% [0.0%, 0.3%]``, not ``0% [0%, 0%]``).

Pure Python (no numpy): CLI modules import it on their start-up path. Estimates come from
``evalkit.stats``; these functions read them, or their JSON, by their fields.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

_MAX_DIGITS = 12
"""Decimals an interval's bounds may grow to before they are left looking equal (a width below 1e-12)."""
_ZERO_SIGN = re.compile(r"[-+\u2212](?=[$€£]?0(?:\.0*)?(?![\d.]))")


def missing(value: Any) -> bool:
    """None or NaN: an unknown number."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(x: Any) -> float | None:
    """A plain float from a number or an ``Estimate``; None when unknown (None, NaN, no value)."""
    if hasattr(x, "value") and not isinstance(x, (int, float)):  # an Estimate (evalkit.stats) or a look-alike
        x = x.value
    return None if missing(x) else float(x)


def unsigned_zero(text: str) -> str:
    """``text`` without the sign of a number in it that reads as zero: '-0.0 pts' -> '0.0 pts', '$-0.000' ->
    '$0.000', '+0.0%' -> '0.0%'; '-0.05', '-10.0' unchanged. Applied to every number formatted here,
    including those of a caller's own ``unit``."""
    return _ZERO_SIGN.sub("", text)


def _fixed(x: float, digits: int) -> str:
    return unsigned_zero(f"{x:.{digits}f}")


def signed(x: Any, digits: int = 1, unknown: str = "unknown") -> str:
    """A change with its sign: '+1.2', '-3.0'; a change that rounds to zero has none: '0.0'."""
    v = number(x)
    return unknown if v is None else unsigned_zero(f"{v:+.{digits}f}")


def p_value(p: Any, alpha: float = 0.05, digits: int = 2, unknown: str = "unknown") -> str:
    """A p-value to ``digits`` significant digits, more when rounding would put it on the other side of
    ``alpha`` or on it: 0.0504 -> '0.0504' (not '0.05', which reads as significant at 0.05), 0.0496 ->
    '0.0496', 0.012 -> '0.012', 1 -> '1'."""
    v = number(p)
    if v is None:
        return unknown
    for d in range(max(digits, 1), 16):
        text = f"{v:.{d}g}"
        shown = float(text)
        if (shown < alpha) if v < alpha else (shown > alpha or v == alpha):
            return text
    return repr(v)


def pct(x: Any, digits: int = 1, unknown: str = "–") -> str:
    """0.761 (or an ``Estimate`` of it) -> '76.1%'; an unknown rate -> ``unknown``."""
    v = number(x)
    return unknown if v is None else f"{_fixed(100 * v, digits)}%"


def distinct_digits(lo: Any, hi: Any, digits: int, render: Callable[[float, int], str]) -> int:
    """The fewest decimals, at least ``digits``, at which ``render(lo, d)`` and ``render(hi, d)`` differ
    when ``lo != hi``: an interval of nonzero width never prints as a point ('0% [0%, 0%]' for a Wilson
    interval [0, 0.0026] becomes '0.0% [0.0%, 0.3%]'). ``digits`` when the bounds are equal or unknown."""
    a, b = number(lo), number(hi)
    d = max(int(digits), 0)
    if a is None or b is None or a == b or not (math.isfinite(a) and math.isfinite(b)):
        return d
    while d < _MAX_DIGITS and render(a, d) == render(b, d):
        d += 1
    return d


def pct_parts(value: Any, lo: Any, hi: Any, digits: int = 1, unknown: str = "–") -> tuple[str, str, str]:
    """A rate and its interval's bounds in percent, at one precision: ``digits`` decimals, more when the
    bounds would otherwise print alike (``distinct_digits``). Unknown parts -> ``unknown``."""
    d = distinct_digits(lo, hi, digits, lambda x, k: pct(x, k))
    return pct(value, d, unknown), pct(lo, d, unknown), pct(hi, d, unknown)


def signed_parts(value: Any, lo: Any, hi: Any, digits: int = 1, unknown: str = "unknown") -> tuple[str, str, str]:
    """A change and its interval's bounds with their signs (``signed``), at one precision (as ``pct_parts``):
    '+0.04 pts [-0.02, +0.1]' is not '0.0 [0.0, +0.1]' but '+0.04 [-0.02, +0.10]'."""
    d = distinct_digits(lo, hi, digits, lambda x, k: signed(x, k))
    return signed(value, d, unknown), signed(lo, d, unknown), signed(hi, d, unknown)


def money_parts(value: Any, lo: Any, hi: Any, digits: int = 4) -> tuple[str, str, str]:
    """A cost and its interval's bounds in USD at one precision (as ``pct_parts``)."""
    d = distinct_digits(lo, hi, digits, lambda x, k: money(x, k))
    return money(value, d), money(lo, d), money(hi, d)


def rate_lines(value: Any, lo: Any, hi: Any, digits: int = 1) -> str:
    """A rate in percent over its interval's bounds, for narrow console tables: '76.1\n74.5–77.7'
    (not '76.1±1.6': a Wilson interval is not symmetric, least of all near 0% and 100%, where
    '0.0±0.1' would read as a negative bound); no interval: the rate alone; unknown -> '–'. Bounds
    that differ never print alike ('0.0\n0.0–0.1', not '0\n0–0')."""
    if missing(value):
        return "–"
    if missing(lo) or missing(hi):
        return _fixed(100 * float(value), digits)
    v, a, b = (t.removesuffix("%") for t in pct_parts(value, lo, hi, digits))
    return f"{v}\n{a}–{b}"


def money(value: Any, digits: int | None = None) -> str:
    """USD: '$0', '$0.0123' below a dollar, '$1,234' above (or always ``digits`` decimals), '-$5' below
    zero ('$0.0000', not '-$0.0000', for a cost that rounds to zero); an unknown cost is 'unknown', never $0."""
    v = number(value)
    if v is None:
        return "unknown"
    sign, v = ("-" if v < 0 else ""), abs(v)
    if digits is None:
        text = "$0" if v == 0 else f"${v:,.4f}" if v < 1 else f"${v:,.0f}"
    else:
        text = f"${v:,.{digits}f}"
    return sign + text if re.search(r"[1-9]", text) else text


def _fields(e: Any) -> tuple[Any, Any, Any, Any]:
    """value, lo, hi, n of an ``Estimate``, a look-alike (attributes) or its JSON (a dict)."""
    if isinstance(e, dict):
        return e.get("value"), e.get("lo"), e.get("hi"), e.get("n")
    return getattr(e, "value", None), getattr(e, "lo", None), getattr(e, "hi", None), getattr(e, "n", None)


def interval(e: Any, *, digits: int = 1, usd: bool = False, label: str = "", unknown: str = "unknown",
             unit: Callable[[float], str] | None = None) -> str:
    """An estimate with its 95% interval and n: '76.1% [74.0%, 78.1%] n=3000' (``usd``: '$0.0085 [...]';
    ``unit``: another number format; ``label`` goes inside the brackets, e.g. '95% CI '). No interval:
    '76.1% n=3'; unknown value: ``unknown`` (with its n when there is one). ``e``: an ``Estimate``, a
    look-alike or its JSON. Percent and USD bounds that differ never print alike (more decimals, for the
    estimate too); a number reading as zero has no sign, ``unit``'s included."""
    value, lo, hi, n = (None, None, None, None) if e is None else _fields(e)
    n_text = f" n={n}" if n is not None else ""
    if missing(value):
        return f"{unknown}{n_text}" if n else unknown
    if missing(lo) or missing(hi):
        lo = hi = None
    if unit is not None:
        v, a, b = (None if x is None else unsigned_zero(unit(float(x))) for x in (value, lo, hi))
    elif usd:
        v, a, b = money_parts(value, lo, hi, 4)
    else:
        v, a, b = pct_parts(value, lo, hi, digits)
    if lo is None:
        return f"{v}{n_text}"
    return f"{v} [{label}{a}, {b}]{n_text}"  # wraps at its spaces in a narrow column


__all__ = ["distinct_digits", "interval", "missing", "money", "money_parts", "number", "p_value", "pct", "pct_parts",
           "rate_lines", "signed", "signed_parts", "unsigned_zero"]
