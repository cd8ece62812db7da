"""20 kill -9 / resume cycles through the CLI, per SDK route: ``evalkit run`` and then
``evalkit run --resume RUN_ID`` are killed mid-run against the fault-injecting loopback
server, then one resume finishes (``python bench/bench_cli_kill_resume.py [ROUTE...]``).

Prints, per route: processes killed, result rows vs planned calls (target: every call
exactly once), and the manifest's recorded + possibly billed spend against what the server
billed (target >= 1.0).
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

from evalkit.testing import FaultPlan, LoopbackServer
from evalkit.testing._cli_chaos import ROUTES, cli_kill_cycles

REPO = Path(__file__).resolve().parents[1]


def one_route(route: str) -> bool:
    faults = FaultPlan(rate=0.1, seed=13, kinds=("500_billed", "drop", "truncate", "500", "429"))
    with tempfile.TemporaryDirectory() as tmp, LoopbackServer(latency_s=0.05, faults=faults) as srv:
        r = cli_kill_cycles(srv, Path(tmp), route=route, cycles=20, limit=200, seed=4,
                            prompt=REPO / "suites" / "prompts" / "upgrade-v1.j2",
                            env={"EVALKIT_HOME": str(Path(tmp) / "home"), "EVALKIT_DATASETS": str(REPO / "datasets")})
    accounted = r.recorded_usd + r.possibly_billed_usd
    ok = r.status == "complete" and r.rows == r.unique_rows == r.planned and accounted >= r.server_billed_usd
    print(f"== route {route}: {r.kills} of {r.cycles} CLI processes killed mid-run; run {r.status}; "
          f"{r.rows} result rows ({r.unique_rows} distinct) for {r.planned} planned calls; "
          f"requests repeated: {r.repeated_requests}")
    print(f"server billed ${r.server_billed_usd:.6f}; manifest: recorded ${r.recorded_usd:.6f} + possibly billed "
          f"${r.possibly_billed_usd:.6f}; accounted / billed: {accounted / r.server_billed_usd:.3f} (target >= 1.000)")
    print("PASS" if ok else "FAIL")
    return ok


def main() -> None:
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)  # a killed client's lost request is the point
    failed = [route for route in (sys.argv[1:] or list(ROUTES)) if not one_route(route)]
    if failed:
        raise SystemExit(f"FAIL: {', '.join(failed)}")


if __name__ == "__main__":
    main()
