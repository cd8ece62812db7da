"""Numbers as consoles and reports show them, one format of each: a percent, money, a rate over its
interval for narrow console tables (``rate_lines``) and an estimate with its 95% interval and n
(``interval``). An unknown number is shown as unknown, never as 0.

Pure Python (no numpy): CLI modules import it on their start-up path. Estimates come from
``evalkit.stats``; these functions read them, or their JSON, by their fields.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


def missing(value: Any) -> bool:
    """None or NaN: an unknown number."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(x: Any) -> float | None:
    """A plain float from a number or an ``Estimate``; None when unknown (None, NaN, no value)."""
    if hasattr(x, "value") and not isinstance(x, (int, float)):  # an Estimate (evalkit.stats) or a look-alike
        x = x.value
    return None if missing(x) else float(x)


def pct(x: Any, digits: int = 1, unknown: str = "–") -> str:
    """0.761 (or an ``Estimate`` of it) -> '76.1%'; an unknown rate -> ``unknown``."""
    v = number(x)
    return unknown if v is None else f"{100 * v:.{digits}f}%"


def rate_lines(value: Any, lo: Any, hi: Any, digits: int = 1) -> str:
    """A rate in percent over its interval's bounds, for narrow console tables: '76.1\n74.5–77.7'
    (not '76.1±1.6': a Wilson interval is not symmetric, least of all near 0% and 100%, where
    '0.0±0.1' would read as a negative bound); no interval: the rate alone; unknown -> '–'."""
    if missing(value):
        return "–"
    rate = f"{100 * float(value):.{digits}f}"
    if missing(lo) or missing(hi):
        return rate
    return f"{rate}\n{100 * float(lo):.{digits}f}–{100 * float(hi):.{digits}f}"


def money(value: Any, digits: int | None = None) -> str:
    """USD: '$0', '$0.0123' below a dollar, '$1,234' above (or always ``digits`` decimals), '-$5' below
    zero; an unknown cost is 'unknown', never $0."""
    v = number(value)
    if v is None:
        return "unknown"
    sign, v = ("-" if v < 0 else ""), abs(v)
    if digits is None:
        return "$0" if v == 0 else f"{sign}${v:,.4f}" if v < 1 else f"{sign}${v:,.0f}"
    return f"{sign}${v:,.{digits}f}"


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
    look-alike or its JSON."""
    value, lo, hi, n = (None, None, None, None) if e is None else _fields(e)

    def one(x: Any) -> str:
        if unit is not None:
            return unit(float(x))
        return money(x, digits=4) if usd else pct(x, digits)

    n_text = f" n={n}" if n is not None else ""
    if missing(value):
        return f"{unknown}{n_text}" if n else unknown
    if missing(lo) or missing(hi):
        return f"{one(value)}{n_text}"
    return f"{one(value)} [{label}{one(lo)}, {one(hi)}]{n_text}"  # wraps at its spaces in a narrow column


__all__ = ["interval", "missing", "money", "number", "pct", "rate_lines"]
