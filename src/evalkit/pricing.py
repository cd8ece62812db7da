"""Token prices and the cost of a call.

Prices come from litellm's *bundled* price map (the JSON file shipped inside the
litellm wheel, read directly: importing litellm costs seconds and would try the
network), overridden per configuration by the suite. A model with no known price
has cost ``None`` (unknown), never 0.

Token convention (see providers._base): ``input_tokens`` includes cached tokens;
cached tokens are billed at the cache-read rate, cache writes at the write rate; a
missing cache rate bills as ordinary input (as litellm does). Long-context tiers
(``*_above_{N}k_tokens``) are a step function: once the request's input passes the
threshold, *every* token of the request — input, output, cache read and write — bills
at the tier's rates. Tests cross-check these numbers against ``litellm.cost_per_token``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from evalkit.providers import Usage

_TIER_KEY = re.compile(r"^(input|output|cache_read_input_token|cache_creation_input_token)_cost(?:_per_token)?_above_(\d+)(k?)_tokens$")


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
    cache_tiers: tuple[tuple[int, float | None, float | None], ...] = ()
    """(threshold_input_tokens, cache_read, cache_write) above the threshold; None = tier input rate."""

    def rates(self, input_tokens: int) -> tuple[float, float, float, float]:
        """(input, output, cache_read, cache_write) USD/token for a request with this many input tokens."""
        rate_in, rate_out = self.input, self.output
        read, write = self.cache_read, self.cache_write
        for threshold, tier_in, tier_out in self.tiers:
            if input_tokens > threshold:
                rate_in, rate_out = tier_in, tier_out
        for threshold, tier_read, tier_write in self.cache_tiers:
            if input_tokens > threshold:
                read = tier_read if tier_read is not None else read
                write = tier_write if tier_write is not None else write
        return (rate_in, rate_out, rate_in if read is None else read, rate_in if write is None else write)


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
    except Exception:  # noqa: BLE001  # pragma: no cover - metadata missing
        ver = "unknown"
    return json.loads(path.read_text()), f"litellm-bundled {ver}"


def _tiers(entry: dict[str, Any]) -> tuple[tuple[tuple[int, float, float], ...], tuple[tuple[int, Any, Any], ...]]:
    found: dict[int, dict[str, float]] = {}
    for key, value in entry.items():
        m = _TIER_KEY.match(key)
        if m is None or value is None:
            continue
        threshold = int(m.group(2)) * (1000 if m.group(3) else 1)
        found.setdefault(threshold, {})[m.group(1)] = float(value)
    tiers, cache_tiers = [], []
    base_in, base_out = float(entry["input_cost_per_token"]), float(entry["output_cost_per_token"])
    for threshold in sorted(found):
        rates = found[threshold]
        tiers.append((threshold, rates.get("input", base_in), rates.get("output", base_out)))
        if "cache_read_input_token" in rates or "cache_creation_input_token" in rates:
            cache_tiers.append((threshold, rates.get("cache_read_input_token"), rates.get("cache_creation_input_token")))
    return tuple(tiers), tuple(cache_tiers)


def lookup_price(model: str, override: dict[str, Any] | None = None) -> ModelPrice | None:
    """Price for ``model``: the suite's override (USD per 1M tokens) else the bundled map.

    Override keys: ``input``, ``output`` (required), ``cache_read``, ``cache_write``, and
    ``tiers``: ``[{"above": 200000, "input": .., "output": .., "cache_read": .., "cache_write": ..}]``
    (the suite's ``PriceOverride`` checks them). A tier's missing (or None) ``input``/``output`` is the base
    price; its missing cache rates are as below the threshold.
    """
    if override:
        per_m = 1e-6

        def rate(tier: dict[str, Any], key: str, default: Any = None) -> Any:
            value = tier.get(key)
            return default if value is None else value

        tier_list = override.get("tiers") or []
        tiers = tuple(sorted((int(t["above"]), rate(t, "input", override["input"]) * per_m,
                              rate(t, "output", override["output"]) * per_m) for t in tier_list))
        cache_tiers = tuple(sorted(
            (int(t["above"]), None if rate(t, "cache_read") is None else t["cache_read"] * per_m,
             None if rate(t, "cache_write") is None else t["cache_write"] * per_m)
            for t in tier_list if rate(t, "cache_read") is not None or rate(t, "cache_write") is not None))
        return ModelPrice(
            model=model,
            input=override["input"] * per_m,
            output=override["output"] * per_m,
            cache_read=override["cache_read"] * per_m if override.get("cache_read") is not None else None,
            cache_write=override["cache_write"] * per_m if override.get("cache_write") is not None else None,
            source="suite",
            tiers=tiers,
            cache_tiers=cache_tiers,
        )
    table, source = _bundled_map()
    candidates = [model]
    if "/" in model:
        candidates.append(model.split("/", 1)[1])
    for name in candidates:
        entry = table.get(name)
        if entry and entry.get("input_cost_per_token") is not None and entry.get("output_cost_per_token") is not None:
            tiers, cache_tiers = _tiers(entry)
            return ModelPrice(
                model=name,
                input=float(entry["input_cost_per_token"]),
                output=float(entry["output_cost_per_token"]),
                cache_read=_opt(entry.get("cache_read_input_token_cost")),
                cache_write=_opt(entry.get("cache_creation_input_token_cost")),
                source=source,
                tiers=tiers,
                cache_tiers=cache_tiers,
            )
    return None


def context_window(model: str) -> int | None:
    """The model's input context window in tokens from the bundled map (``max_input_tokens``), or None
    when the map does not know it."""
    table, _ = _bundled_map()
    for name in (model, model.split("/", 1)[1]) if "/" in model else (model,):
        window = (table.get(name) or {}).get("max_input_tokens")
        if isinstance(window, int) and window > 0:
            return window
    return None


def output_limit(model: str) -> int | None:
    """The most output tokens the model writes in one answer, from the bundled map (``max_output_tokens``,
    else ``max_tokens``), or None when the map does not know it."""
    table, _ = _bundled_map()
    for name in (model, model.split("/", 1)[1]) if "/" in model else (model,):
        entry = table.get(name) or {}
        for key in ("max_output_tokens", "max_tokens"):
            limit = entry.get(key)
            if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
                return limit
    return None


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)


def call_cost(usage: Usage | None, price: ModelPrice | None) -> float | None:
    """USD for one billed call, or None when the price or the usage is unknown."""
    if price is None or usage is None or usage.input_tokens is None or usage.output_tokens is None:
        return None
    rate_in, rate_out, rate_read, rate_write = price.rates(usage.input_tokens)
    cached = usage.cached_tokens or 0
    written = usage.cache_write_tokens or 0
    fresh = max(usage.input_tokens - cached - written, 0)
    return fresh * rate_in + cached * rate_read + written * rate_write + usage.output_tokens * rate_out


def batch_price(price: ModelPrice | None) -> ModelPrice | None:
    """The price of the same model through the provider's batch API.

    From the bundled map's ``*_batches`` rates when it has them (as ``litellm.batch_cost_calculator``
    reads them: a cache rate without a batch variant stays at its standard rate), else half of
    every rate (the OpenAI and Anthropic batch discount). Long-context tiers are dropped: the batch
    rates in the map are flat.
    """
    if price is None:
        return None
    table, _ = _bundled_map()
    entry = table.get(price.model) if not price.source.startswith("suite") else None
    if entry and entry.get("input_cost_per_token_batches") is not None \
            and entry.get("output_cost_per_token_batches") is not None:
        return ModelPrice(
            model=price.model, input=float(entry["input_cost_per_token_batches"]),
            output=float(entry["output_cost_per_token_batches"]),
            cache_read=_opt(entry.get("cache_read_input_token_cost_batches", price.cache_read)),
            cache_write=_opt(entry.get("cache_creation_input_token_cost_batches")),
            source=f"{price.source}, batch rates")

    def half(x: float | None) -> float | None:
        return None if x is None else x / 2

    return ModelPrice(model=price.model, input=price.input / 2, output=price.output / 2,
                      cache_read=half(price.cache_read), cache_write=half(price.cache_write),
                      source=f"{price.source}, batch (50%)")
