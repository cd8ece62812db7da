"""Token prices and the cost of a call.

Prices come from litellm's *bundled* price map (the JSON file shipped inside the
litellm wheel, read directly: importing litellm costs seconds and would try the
network), overridden per configuration by the suite. A model with no known price
has cost ``None`` (unknown), never 0.

Token convention (see providers._base): ``input_tokens`` includes cached tokens;
cached tokens are billed at the cache-read rate, cache writes at the write rate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from evalkit.providers._base import Usage


@dataclass(frozen=True, kw_only=True)
class ModelPrice:
    """USD per token."""

    model: str
    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None
    source: str
    """Where the price came from: 'litellm-bundled <version>', 'suite', 'simulated (priced as X)'."""
    tiers: tuple[tuple[int, float, float], ...] = ()
    """(threshold_input_tokens, input, output): above the threshold the whole request bills at the tier."""


def litellm_price_map_path() -> Path | None:
    """The bundled price map inside the installed litellm wheel, found without importing litellm."""
    spec = find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model_prices_and_context_window_backup.json"
    return path if path.exists() else None


@lru_cache(maxsize=1)
def _bundled_map() -> tuple[dict[str, Any], str]:
    path = litellm_price_map_path()
    if path is None:
        return {}, "litellm-bundled (not installed)"
    try:
        from importlib.metadata import version

        ver = version("litellm")
    except Exception:  # pragma: no cover - metadata missing
        ver = "unknown"
    return json.loads(path.read_text()), f"litellm-bundled {ver}"


def _tiers(entry: dict[str, Any]) -> tuple[tuple[int, float, float], ...]:
    tiers = []
    for key, value in entry.items():
        if key.startswith("input_cost_per_token_above_") and key.endswith("k_tokens"):
            k = key[len("input_cost_per_token_above_") : -len("k_tokens")]
            if k.isdigit():
                out_key = f"output_cost_per_token_above_{k}k_tokens"
                out = entry.get(out_key, entry.get("output_cost_per_token", 0.0))
                tiers.append((int(k) * 1000, float(value), float(out)))
    return tuple(sorted(tiers))


def lookup_price(model: str, override: dict[str, float] | None = None) -> ModelPrice | None:
    """Price for ``model``: the suite's override (USD per 1M tokens) else the bundled map."""
    if override:
        per_m = 1e-6
        return ModelPrice(
            model=model,
            input=override["input"] * per_m,
            output=override["output"] * per_m,
            cache_read=override["cache_read"] * per_m if "cache_read" in override else None,
            cache_write=override["cache_write"] * per_m if "cache_write" in override else None,
            source="suite",
        )
    table, source = _bundled_map()
    candidates = [model]
    if "/" in model:
        candidates.append(model.split("/", 1)[1])
    for name in candidates:
        entry = table.get(name)
        if entry and "input_cost_per_token" in entry and "output_cost_per_token" in entry:
            return ModelPrice(
                model=name,
                input=float(entry["input_cost_per_token"]),
                output=float(entry["output_cost_per_token"]),
                cache_read=_opt(entry.get("cache_read_input_token_cost")),
                cache_write=_opt(entry.get("cache_creation_input_token_cost")),
                source=source,
                tiers=_tiers(entry),
            )
    return None


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)


def call_cost(usage: Usage | None, price: ModelPrice | None) -> float | None:
    """USD for one billed call, or None when the price or the usage is unknown."""
    if price is None or usage is None or usage.input_tokens is None or usage.output_tokens is None:
        return None
    rate_in, rate_out = price.input, price.output
    for threshold, tier_in, tier_out in price.tiers:
        if usage.input_tokens > threshold:  # the whole request bills at the tier rate
            rate_in, rate_out = tier_in, tier_out
    cached = usage.cached_tokens or 0
    written = usage.cache_write_tokens or 0
    fresh = max(usage.input_tokens - cached - written, 0)
    cost = fresh * rate_in + usage.output_tokens * rate_out
    cost += cached * (price.cache_read if price.cache_read is not None else rate_in)
    cost += written * (price.cache_write if price.cache_write is not None else rate_in)
    return cost
