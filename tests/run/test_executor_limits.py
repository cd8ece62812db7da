"""Rate limits: the executor's token bucket keeps a run under a server-enforced
tokens-per-minute limit with few 429s, and requests-per-minute paces calls."""

from __future__ import annotations

import dataclasses
import time

from runhelpers import FAST_RETRY, make_calls, opts, run

from evalkit.providers._openai import OpenAIProvider
from evalkit.run._executor import execute
from evalkit.run._limits import TokenBucket
from evalkit.testing import LoopbackServer, echo_responder


def _exact_estimates(calls):
    out = []
    for c in calls:
        u = echo_responder(c.request).usage
        out.append(dataclasses.replace(c, est_input_tokens=u.input_tokens, est_output_tokens=u.output_tokens))
    return out


def test_tpm_limit_respected_with_few_429s(home):
    tpm = 90_000  # 1500 tokens/s
    calls = _exact_estimates(make_calls(120, tag="tpm-"))
    total = sum(c.est_input_tokens + c.est_output_tokens for c in calls)

    async def go():
        async with LoopbackServer(responder=echo_responder, tpm_limit=tpm, tpm_burst_s=2.0) as srv:
            prov = OpenAIProvider(base_url=srv.openai_base_url)
            await prov.complete(calls[0].request)  # warm the SDK (lazy imports) outside the timing
            srv.reset()
            t0 = time.perf_counter()
            recs = await execute(calls, providers={"cfg": prov}, prices={}, retry_policy=FAST_RETRY,
                                 options=opts(cache_mode="off", concurrency=32, tokens_per_minute=tpm))
            elapsed = time.perf_counter() - t0
            await prov.aclose()
            return recs, srv, elapsed

    recs, srv, elapsed = run(go())
    assert all(r.status == "ok" for r in recs)
    rejected = sum(1 for h in srv.log if h.status == 429)
    print("429 share", rejected / len(srv.log), "used", srv.tokens_served / elapsed / (tpm / 60))
    assert rejected / len(srv.log) <= 0.03
    # one second of (client) burst, the rest at the limit's pace: not much faster (limit respected)...
    assert elapsed >= (total - tpm / 60) / (tpm / 60) * 0.9
    # ...and not much slower (the limit is used)
    assert srv.tokens_served / elapsed >= 0.6 * tpm / 60


def test_rpm_paces_requests():
    async def go():
        bucket = TokenBucket(per_minute=600, burst_s=1.0)  # 10/s, burst of 10
        t0 = time.perf_counter()
        for _ in range(20):
            await bucket.acquire(1)
        return time.perf_counter() - t0

    assert 0.9 <= run(go()) < 2.0


def test_pause_blocks_all_callers():
    async def go():
        bucket = TokenBucket(per_minute=60_000, burst_s=1.0)
        bucket.pause(0.3)
        t0 = time.perf_counter()
        await bucket.acquire(1)
        return time.perf_counter() - t0

    assert run(go()) >= 0.29


def test_per_model_limits_override_the_defaults():
    from evalkit.run._limits import Limiters

    limiters = Limiters(requests_per_minute=600, tokens_per_minute=None,
                        per_model={"openai/gpt-4o": (60, 30_000)})
    strict = limiters.for_model("openai", "gpt-4o")
    default = limiters.for_model("openai", "gpt-4o-mini")
    assert strict.rpm.per_minute == 60 and strict.tpm.per_minute == 30_000
    assert default.rpm.per_minute == 600 and default.tpm is None
    assert limiters.for_model("openai", "gpt-4o") is strict  # one bucket per model, shared by its calls


def test_suite_rate_limits_reach_the_executor_options():
    from evalkit.run._setup import model_limits as _model_limits
    from evalkit.suite._schema import ConfigSpec

    configs = [ConfigSpec(name="a", provider="openai", model="gpt-4o", prompt="p.j2",
                          rate_limits={"requests_per_minute": 100}),
               ConfigSpec(name="b", provider="openai", model="gpt-4o", prompt="q.j2",
                          rate_limits={"requests_per_minute": 50, "tokens_per_minute": 1000}),
               ConfigSpec(name="c", provider="sim", model="small", prompt="p.j2")]
    assert _model_limits(configs) == {"openai/gpt-4o": (50, 1000)}  # the stricter limit wins
