"""kill -9 / resume cycles against the fault-injecting loopback server: no call lost, none
recorded twice, and the journal accounts for at least what the server billed (recorded
spend + possibly billed, unrecorded spend), through each SDK route. 20 cycles per route run in
bench/bench_kill_resume.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.testing import FaultPlan, LoopbackServer, echo_responder
from evalkit.testing._chaos import cycle_kills

REPO = Path(__file__).resolve().parents[2]


ROUTES = [pytest.param("openai", 5, 120),  # every SDK route; the other two shorter (each cycle starts a process)
          pytest.param("anthropic", 3, 80, marks=pytest.mark.slow),
          pytest.param("litellm", 3, 80, marks=pytest.mark.slow)]


@pytest.mark.parametrize(("route", "cycles", "n_calls"), ROUTES)
def test_kill_resume_cycles_lose_nothing_and_account_for_every_billed_call(tmp_path, route, cycles, n_calls):
    faults = FaultPlan(rate=0.15, seed=5, kinds=("500_billed", "drop", "truncate", "slow", "500", "429"))
    with LoopbackServer(responder=echo_responder, latency_s=0.03, faults=faults, slow_s=0.8) as srv:
        result = cycle_kills(srv, tmp_path / "run", cycles=cycles, n_calls=n_calls, seed=1, route=route,
                             env={"PYTHONPATH": str(REPO / "src"), "EVALKIT_HOME": str(tmp_path / "home")})
    assert result.lost == 0 and result.recorded == result.planned == n_calls
    assert result.duplicates == 0
    assert result.repeated_requests > 0  # calls in flight at a kill were sent again...
    assert result.possibly_billed_usd > 0  # ...and their first, unrecorded attempt is shown
    assert result.recorded_usd + result.possibly_billed_usd >= result.server_billed_usd > 0
    assert result.recorded_usd <= result.server_billed_usd + 1e-12  # recorded spend is never invented


@pytest.mark.slow
def test_cli_run_and_resume_killed_mid_run_finish_with_every_call_once(tmp_path):
    """The CLI path: `evalkit run` and then `evalkit run --resume RUN_ID` are what is killed.
    20 cycles per SDK route run in bench/bench_cli_kill_resume.py."""
    from evalkit.testing._cli_chaos import cli_kill_cycles

    faults = FaultPlan(rate=0.1, seed=7, kinds=("500_billed", "drop", "truncate", "500", "429"))
    with LoopbackServer(latency_s=0.05, faults=faults) as srv:
        r = cli_kill_cycles(srv, tmp_path, route="openai", cycles=2, limit=30, seed=2,
                            prompt=REPO / "suites" / "prompts" / "upgrade-v1.j2",
                            env={"PYTHONPATH": str(REPO / "src"), "EVALKIT_HOME": str(tmp_path / "home"),
                                 "EVALKIT_DATASETS": str(REPO / "datasets")})
    assert r.kills >= 1, "no process was killed mid-run: the test would prove nothing"
    assert r.status == "complete" and r.rows == r.unique_rows == r.planned == 30  # none lost, none twice
    assert r.recorded_usd + r.possibly_billed_usd >= r.server_billed_usd - 1e-12 > 0
    assert r.recorded_usd <= r.server_billed_usd + 1e-12
