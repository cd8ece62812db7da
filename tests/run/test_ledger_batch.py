"""Answers bought through a batch API cost the batch price their records hold: a ledger that re-prices
them at the direct price (the progress line of a batch run showed the full direct price) overstates
what was spent and what is left of the budget."""

from __future__ import annotations

from evalkit.pricing import batch_price, call_cost, lookup_price
from evalkit.providers._base import Usage
from evalkit.run._ledger import SpendLedger, spend_counts
from evalkit.run._records import CallRecord

PRICE = lookup_price("gpt-4o-mini")


def _record(i: int, execution: str) -> CallRecord:
    usage = Usage(input_tokens=1000, output_tokens=200)
    price = batch_price(PRICE) if execution == "batch" else PRICE
    cost = call_cost(usage, price)
    return CallRecord(config="c", case_id=f"k{i}", sample_index=0, cache_key=f"x{i}", status="ok", attempts=1,
                      billed_usage=[usage], cost_usd=cost, nominal_cost_usd=cost, execution=execution)


def test_batch_answers_count_at_their_batch_price():
    batch, direct = [_record(i, "batch") for i in range(3)], [_record(i + 3, "direct") for i in range(2)]
    ledger = SpendLedger(prices={"c": PRICE})
    ledger.add_prior([*batch, *direct], [])
    expected = sum(r.cost_usd for r in [*batch, *direct])
    assert abs(ledger.spent - expected) < 1e-12
    full = 5 * call_cost(Usage(input_tokens=1000, output_tokens=200), PRICE)
    assert ledger.spent < full  # the batch discount is kept
    assert abs(spend_counts([*batch, *direct], {"c": PRICE})["recorded_usd"] - expected) < 1e-12
