"""20 kill -9 / resume cycles against the fault-injecting loopback server, per SDK route
(openai, anthropic, litellm; or the routes given: ``python bench/bench_kill_resume.py litellm``).

Prints lost and duplicated calls (target 0 and 0) and the ratio of the spend the journal
accounts for (recorded + possibly billed, unrecorded) to what the server billed (target
>= 1.0), plus the share of billed spend that is only known as "possibly billed".
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from evalkit.testing import FaultPlan, LoopbackServer, echo_responder
from evalkit.testing._chaos import ROUTES, cycle_kills


def main() -> None:
    import logging

    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # a killed client's lost request is the point
    routes = sys.argv[1:] or list(ROUTES)  # every SDK route by default: openai anthropic litellm
    failed = [route for route in routes if not one_route(route)]
    if failed:
        raise SystemExit(f"FAIL: {', '.join(failed)}")


def one_route(route: str) -> bool:
    faults = FaultPlan(rate=0.15, seed=11, kinds=("500_billed", "drop", "truncate", "slow", "500", "429"))
    with tempfile.TemporaryDirectory() as tmp, \
            LoopbackServer(responder=echo_responder, latency_s=0.03, faults=faults, slow_s=0.8) as srv:
        r = cycle_kills(srv, Path(tmp) / "run", cycles=20, n_calls=400, seed=3, route=route,
                        env={"EVALKIT_HOME": str(Path(tmp) / "home")})
    print(f"== route {route}")
    accounted = r.recorded_usd + r.possibly_billed_usd
    print(f"kill -9 cycles: {r.cycles}, calls: {r.planned}, lost: {r.lost}, recorded twice: {r.duplicates}, "
          f"requests repeated: {r.repeated_requests}")
    print(f"server billed ${r.server_billed_usd:.6f}; journal: recorded ${r.recorded_usd:.6f} + possibly billed "
          f"${r.possibly_billed_usd:.6f}")
    print(f"accounted / billed: {accounted / r.server_billed_usd:.3f} (target >= 1.000); "
          f"recorded / billed: {r.recorded_usd / r.server_billed_usd:.3f}")
    ok = r.lost == 0 and r.duplicates == 0 and accounted >= r.server_billed_usd
    print("PASS" if ok else "FAIL")
    return ok


if __name__ == "__main__":
    main()
