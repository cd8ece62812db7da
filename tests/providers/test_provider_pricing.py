"""evalkit's cost equals litellm's own calculation on the same usage (bundled map)."""

from __future__ import annotations

import pytest

from evalkit.pricing import call_cost, lookup_price
from evalkit.providers._base import Usage


@pytest.fixture(scope="module")
def litellm():
    from evalkit.providers._litellm import import_litellm

    return import_litellm()


def _litellm_cost(litellm, model, usage: Usage) -> float:
    prompt, completion = litellm.cost_per_token(
        model=model, prompt_tokens=usage.input_tokens, completion_tokens=usage.output_tokens,
        cache_read_input_tokens=usage.cached_tokens or 0, cache_creation_input_tokens=usage.cache_write_tokens or 0)
    return prompt + completion


@pytest.mark.parametrize("model,usage", [
    ("gpt-4o-mini", Usage(input_tokens=17, output_tokens=5, cached_tokens=3)),
    ("gpt-4o-mini", Usage(input_tokens=120_000, output_tokens=900, cached_tokens=100_000)),
    ("claude-haiku-4-5", Usage(input_tokens=1_000_000, output_tokens=100_000, cached_tokens=800_000,
                                cache_write_tokens=100_000)),
    ("claude-sonnet-4-5", Usage(input_tokens=5000, output_tokens=700, cached_tokens=1000, cache_write_tokens=2000)),
    ("gpt-5.4", Usage(input_tokens=200_000, output_tokens=1000, cached_tokens=50_000)),   # below the 272k tier
    ("gpt-5.4", Usage(input_tokens=300_000, output_tokens=1000, cached_tokens=50_000)),   # whole request at tier
    ("gemini-2.5-pro", Usage(input_tokens=250_000, output_tokens=2000, cached_tokens=10_000)),
    ("o4-mini", Usage(input_tokens=1000, output_tokens=2000, reasoning_tokens=1500)),
])
def test_cost_matches_litellm(litellm, model, usage):
    ours = call_cost(usage, lookup_price(model))
    assert ours == pytest.approx(_litellm_cost(litellm, model, usage), rel=1e-9)


def test_completion_cost_on_a_response_object(litellm):
    # the measured reference point: gpt-4o-mini 17 prompt (3 cached) + 5 out = 5.325e-06
    assert call_cost(Usage(input_tokens=17, output_tokens=5, cached_tokens=3),
                     lookup_price("gpt-4o-mini")) == pytest.approx(5.325e-06)


def test_tier_is_a_step_function():
    price = lookup_price("gpt-5.4")
    below = call_cost(Usage(input_tokens=272_000, output_tokens=0), price)
    above = call_cost(Usage(input_tokens=272_001, output_tokens=0), price)
    assert above / below == pytest.approx(2.0, rel=1e-3)  # every token re-priced, not only the excess


def test_unknown_model_and_unknown_usage_cost_none():
    assert lookup_price("claude-3-5-sonnet-20241022") is None
    assert call_cost(Usage(input_tokens=10, output_tokens=1), None) is None
    assert call_cost(Usage(input_tokens=None, output_tokens=1), lookup_price("gpt-4o-mini")) is None


def test_suite_override_with_tier():
    price = lookup_price("my-model", {"input": 1.0, "output": 2.0, "cache_read": 0.1,
                                      "tiers": [{"above": 1000, "input": 2.0, "output": 4.0, "cache_read": 0.2}]})
    assert call_cost(Usage(input_tokens=1000, output_tokens=10, cached_tokens=100), price) == pytest.approx(
        (900 * 1.0 + 100 * 0.1 + 10 * 2.0) / 1e6)
    assert call_cost(Usage(input_tokens=1001, output_tokens=10, cached_tokens=100), price) == pytest.approx(
        (901 * 2.0 + 100 * 0.2 + 10 * 4.0) / 1e6)


def test_a_suite_tier_without_some_rates_keeps_the_base_rates():
    """The suite's PriceTier makes every rate optional (model_dump(exclude_none=True) leaves it out)."""
    price = lookup_price("my-model", {"input": 1.0, "output": 2.0, "cache_read": 0.1,
                                      "tiers": [{"above": 1000, "output": 4.0}, {"above": 5000, "input": 3.0}]})
    assert call_cost(Usage(input_tokens=2000, output_tokens=10, cached_tokens=100), price) == pytest.approx(
        (1900 * 1.0 + 100 * 0.1 + 10 * 4.0) / 1e6)
    assert call_cost(Usage(input_tokens=6000, output_tokens=10), price) == pytest.approx(
        (6000 * 3.0 + 10 * 2.0) / 1e6)  # a later tier's missing output is the base output, not the tier below


def test_a_simulated_model_is_priced_as_its_real_model_in_full():
    """Its cache tiers were dropped: cached tokens above a tier's threshold billed at the base rate."""
    from evalkit.pricing import lookup_price
    from evalkit.run import price_for

    class PricedAsGemini:
        simulated = True

        @staticmethod
        def price_model(model: str) -> str:
            return "gemini-2.5-pro"

    real = lookup_price("gemini-2.5-pro")
    assert real is not None and real.cache_tiers, "the bundled map's tiered model"
    price = price_for("sim", "large", None, PricedAsGemini())
    assert (price.tiers, price.cache_tiers) == (real.tiers, real.cache_tiers)
    assert price.rates(300_000) == real.rates(300_000) and price.source.startswith("simulated (priced as gemini")
