"""--max-cost holds: at concurrency 16, with answers far longer than estimated, the money
the server billed never passes the budget; a resumed run counts what it already spent."""

from __future__ import annotations

import dataclasses
import json

import pytest
from runhelpers import FAST_RETRY, make_calls, opts, run

from evalkit.errors import RunFailed
from evalkit.pricing import call_cost, lookup_price
from evalkit.providers._base import Usage
from evalkit.providers._openai import OpenAIProvider
from evalkit.run._executor import execute
from evalkit.run._journal import read_journal
from evalkit.run._ledger import SpendLedger
from evalkit.testing import LoopbackServer, echo_responder

PRICE = lookup_price("gpt-4o-mini")


def long_responder(request):
    """Answers as long as the request allows (max_tokens), whatever the estimate said."""
    base = echo_responder(request)
    cap = int(request.params.get("max_tokens", 200))
    return base.model_copy(update={"text": base.text + " " * (4 * cap),
                                   "usage": base.usage.model_copy(update={"output_tokens": cap})})


ROUTES = {  # route -> (provider, model as the SDK names it, price)
    "openai": ("openai", "gpt-4o-mini", PRICE),
    "anthropic": ("anthropic", "claude-haiku-4-5", lookup_price("claude-haiku-4-5")),
    "litellm": ("litellm", "openai/gpt-4o-mini", PRICE),
}


def billed(srv, price) -> float:
    return sum(call_cost(Usage(**h.usage_reported), price) for h in srv.log if h.usage_reported)


def _provider(route, srv):
    if route == "openai":
        return OpenAIProvider(base_url=srv.openai_base_url)
    from evalkit.providers import create_provider

    return create_provider(route, base_url=srv.anthropic_base_url if route == "anthropic" else srv.openai_base_url)


@pytest.mark.parametrize("route", list(ROUTES))
def test_max_cost_never_crossed_at_concurrency_16_and_counts_after_resume(home, tmp_path, route):
    provider, model, price = ROUTES[route]
    calls = [dataclasses.replace(c, est_output_tokens=12)  # 200 max
             for c in make_calls(200, tag="budget-", provider=provider, model=model)]
    run_dir = tmp_path / "run"
    budget = 0.008 * price.output / PRICE.output  # ~60 of the 200 long answers

    async def go(max_cost):
        prov = _provider(route, srv)
        try:
            return await execute(calls, providers={"cfg": prov}, prices={"cfg": price}, run_dir=run_dir,
                                 retry_policy=FAST_RETRY,
                                 options=opts(cache_mode="off", concurrency=16, max_cost_usd=max_cost))
        finally:
            await prov.aclose()

    with LoopbackServer(responder=long_responder, latency_s=0.02) as srv:
        with pytest.raises(RunFailed, match="stopped at the budget"):
            run(go(budget))
        first = billed(srv, price)
        done_first = len(read_journal(run_dir / "journal.jsonl"))
        assert 0 < first <= budget
        assert first >= 0.8 * budget  # the budget is used, not abandoned early
        assert 30 <= done_first < 200

        # The same budget again: what this run already spent counts, so (almost) nothing more is sent.
        with pytest.raises(RunFailed, match="budget"):
            run(go(budget))
        assert billed(srv, price) <= budget

        # A larger budget continues the run from its recorded spend.
        with pytest.raises(RunFailed, match="stopped at the budget"):
            run(go(2 * budget))
        assert budget < billed(srv, price) <= 2 * budget
        journal = read_journal(run_dir / "journal.jsonl")
        assert len(journal) > done_first
    ledger = SpendLedger(prices={"cfg": price})
    ledger.add_prior(journal.values(), [])
    # Every billed token is in the journal: recorded exactly, or (an attempt that ended without
    # usage, e.g. a dropped keep-alive connection) as possibly billed at its worst case.
    assert ledger.spent <= billed(srv, price) + 1e-12
    assert ledger.spent + ledger.possibly_billed >= billed(srv, price) - 1e-12
    lines = [json.loads(x) for x in (run_dir / "journal.jsonl").read_text().splitlines()]
    assert len([x for x in lines if "attempt" not in x]) == len(journal)  # no call recorded twice
