"""Adaptive rate limiting without configured limits.

The loopback server enforces a tokens-per-minute limit and answers 429 with Retry-After
and the OpenAI rate-limit headers (``x-ratelimit-limit/remaining/reset-tokens``). evalkit
runs with *no* ``rate_limits`` configured, through the real openai SDK, and must learn
the limit. Prints the share of requests answered 429 (target <= 5%) and the share of the
limit used in steady state (target >= 85%), measured from the server's own log.
"""

from __future__ import annotations

import asyncio
import time

TPM = 240_000  # 4,000 tokens/s
LATENCY_S = 0.05
N_CALLS = 360


async def main() -> None:
    from evalkit.pricing import lookup_price
    from evalkit.providers._openai import OpenAIProvider
    from evalkit.run import ExecutionOptions, execute
    from evalkit.testing import LoopbackServer, echo_responder
    from evalkit.testing._chaos import planned_calls

    def padded(request):  # ~400-token answers, so the limit binds at ~10 requests a second
        base = echo_responder(request)
        return base.model_copy(update={"usage": base.usage.model_copy(update={"output_tokens": 380})})

    calls = planned_calls(N_CALLS, tag="ratelimit-", max_tokens=400)
    async with LoopbackServer(responder=padded, latency_s=LATENCY_S, tpm_limit=TPM, tpm_burst_s=2.0) as srv:
        prov = OpenAIProvider(base_url=srv.openai_base_url)
        await prov.complete(calls[0].request)  # import the SDK outside the measurement
        srv.reset()
        t0 = time.monotonic()
        recs = await execute(calls, providers={"cfg": prov}, prices={"cfg": lookup_price("gpt-4o-mini")},
                             options=ExecutionOptions(concurrency=32, cache_mode="off", progress=False,
                                                      max_error_share=1.0, timeout_s=30))
        t1 = time.monotonic()
        await prov.aclose()
        log, served = list(srv.log), list(srv.served)
    ok = sum(r.status == "ok" for r in recs)
    rejected = sum(1 for h in log if h.status == 429)
    # steady state: skip the first 3 s (learning) and the tail (the last calls drain)
    lo, hi = t0 + 3.0, t1 - 1.0
    tokens = sum(n for at, n in served if lo <= at <= hi)
    used = tokens / max(hi - lo, 1e-9) / (TPM / 60.0)
    share = rejected / max(len(log), 1)
    print(f"calls ok {ok}/{len(recs)}, requests {len(log)}, 429s {rejected}, wall {t1 - t0:.1f}s")
    print(f"429 share: {share:.3f} (target <= 0.050)")
    print(f"limit used in steady state: {used:.3f} (target >= 0.850)")
    print("PASS" if share <= 0.05 and used >= 0.85 and ok == len(recs) else "FAIL")


if __name__ == "__main__":
    asyncio.run(main())
