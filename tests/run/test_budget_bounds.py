"""``--max-cost`` holds only when every call it admits is bounded, and it never refuses what costs nothing.
Found by an outside probe, each through the CLI with the real openai SDK against a loopback server:

- a configuration without an output cap was reserved at an assumed 4,096 output tokens that no request
  carried: a model writing 20,000 tokens crossed a $0.50 budget 3.3 times over. Now the model's own output
  limit (litellm's map) bounds it, and without one the run is refused before anything is sent;
- a run answered entirely from the cache was refused because one call's worst case passed the budget;
- a key with a character no HTTP header can carry was "sent" six times and booked as possibly billed;
- a refused run removed a reports folder it had not made; ``--look-every -3`` and ``max_tokens: -5``
  were internal errors or a false "no known price"."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

from evalkit.testing import LoopbackServer, write_loopback_suite

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-test-budget-bounds-0000"


def evalkit(args: list[str], cwd: Path, home: Path, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "EVALKIT_HOME": str(home), "EVALKIT_DATASETS": str(REPO / "datasets"),
            "EVALKIT_TEST_KEY": KEY, "PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1", "COLUMNS": "200", **env}
    return subprocess.run([sys.executable, "-m", "evalkit.cli.main", *args], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=300, check=False)


def suite_at(tmp: Path, srv: LoopbackServer, *, model: str = "large", cap: bool = True) -> Path:
    suite = write_loopback_suite(tmp, prompt=REPO / "suites" / "prompts" / "upgrade-v1.j2",
                                 base_url=srv.openai_base_url, model=model, limit=6)
    if not cap:
        suite.write_text(suite.read_text().replace(", max_tokens: 300", ""))
    return suite


def said(proc: subprocess.CompletedProcess) -> str:
    return " ".join((proc.stdout + proc.stderr).split())


def test_an_uncapped_model_call_is_bounded_by_its_model_or_refused(tmp_path):
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer() as srv:
        suite = suite_at(tmp_path, srv, cap=False)
        proc = evalkit(["run", str(suite), "--max-cost", "5", "--reports", str(reports)], tmp_path, home)
        assert proc.returncode == 2, said(proc)
        assert "configuration 'served' sets no output cap" in said(proc) and "params.max_tokens" in said(proc)
        assert srv.log == [] and "Traceback" not in said(proc)
        proc = evalkit(["run", str(suite), "--reports", str(reports), "--no-gates"], tmp_path, home)
        assert proc.returncode == 0, said(proc)  # without a budget there is nothing to bound

    from evalkit.pricing import output_limit
    from evalkit.run import PlannedCall, SpendLedger

    def call(model: str, cap: int | None) -> PlannedCall:
        from evalkit.providers import Message, ModelRequest

        request = ModelRequest(provider="openai", model=model, messages=(Message(role="user", content="hi"),),
                               params={})
        return PlannedCall(config="c", case_id="x", segment="s", sample_index=0, request=request,
                           est_input_tokens=10, est_output_tokens=10, max_output_tokens=cap)

    ledger = SpendLedger(prices={})
    assert ledger.output_bound(call("gpt-4o", None)) == output_limit("gpt-4o") > 4096
    assert ledger.output_bound(call("gpt-4o", 300)) == 300
    assert ledger.output_bound(call("large", None)) is None
    assert SpendLedger(prices={}, offline=frozenset({"c"})).output_bound(call("large", None)) == 4096


def test_a_run_the_cache_answers_is_not_refused_by_a_small_budget(tmp_path):
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer() as srv:
        suite = suite_at(tmp_path, srv)
        first = evalkit(["run", str(suite), "--reports", str(reports), "--no-gates", "--quiet"], tmp_path, home)
        assert first.returncode == 0, said(first)
        sent = len(srv.log)
        again = evalkit(["run", str(suite), "--fresh", "--max-cost", "0.000001", "--reports", str(reports),
                         "--no-gates", "--quiet"], tmp_path, home)
        assert again.returncode == 0, said(again)
        assert len(srv.log) == sent  # every answer came from the cache: nothing to pay, nothing refused


def test_a_key_no_header_can_carry_is_refused_before_sending(tmp_path):
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer() as srv:
        suite = suite_at(tmp_path, srv)
        for bad in ("sk-test-bud\u00e9get-0000", "sk-test budget-0000"):
            proc = evalkit(["run", str(suite), "--reports", str(reports)], tmp_path, home, EVALKIT_TEST_KEY=bad)
            assert proc.returncode == 2, said(proc)
            assert "environment variable EVALKIT_TEST_KEY holds a" in said(proc) and "nothing was sent" in said(proc)
            assert bad not in said(proc) and srv.log == []
        assert not reports.exists() or not any(reports.iterdir())


def test_bad_options_exit_2_and_a_refused_run_keeps_a_reports_folder_it_did_not_make(tmp_path):
    home, reports = tmp_path / "home", tmp_path / "reports"
    reports.mkdir()
    with LoopbackServer() as srv:
        suite = suite_at(tmp_path, srv)
        tiny = evalkit(["run", str(suite), "--max-cost", "0.000001", "--reports", str(reports)], tmp_path, home)
        assert tiny.returncode == 3, said(tiny)
        assert reports.is_dir() and not any(reports.iterdir())  # the user's (empty) folder stays
        negative = evalkit(["run", str(suite), "--max-cost", "1", "--set", "configs.served.params.max_tokens=-5",
                            "--reports", str(reports)], tmp_path, home)
        assert negative.returncode == 2 and "max_tokens must be a whole number of tokens" in said(negative)
        looks = evalkit(["run", str(suite), "--sequential", "--look-every", "-3", "--reports", str(reports)],
                        tmp_path, home)
        assert looks.returncode == 2 and "--look-every" in said(looks) and "internal error" not in said(looks)
        assert srv.log == []


def test_a_run_stopped_at_its_budget_says_how_to_resume_with_a_larger_one(tmp_path):
    """The printed resume command after a budget stop used to fail as printed (the resumed run keeps its
    budget, already spent): it now asks for a larger --max-cost, and with one the run completes."""
    import re

    from evalkit.providers import sim_respond

    def dear(request):  # bills far more input than the prompt's estimate: the budget stops the run
        answer = sim_respond(request)
        return answer.model_copy(update={"usage": answer.usage.model_copy(update={"input_tokens": 40_000})})

    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer(responder=dear) as srv:
        suite = suite_at(tmp_path, srv)
        suite.write_text(suite.read_text().replace("concurrency: 4", "concurrency: 1"))
        stopped = evalkit(["run", str(suite), "--max-cost", "0.15", "--reports", str(reports), "--no-gates"],
                          tmp_path, home)
        assert stopped.returncode == 3 and "stopped at the budget" in said(stopped), said(stopped)
        hint = re.search(r"resume with: (evalkit run --resume \S+) --max-cost USD, with USD above \$0\.1500",
                         said(stopped))
        assert hint, said(stopped)
        sent = len(srv.log)
        resumed = evalkit([*hint.group(1).split()[1:], "--max-cost", "5", "--no-gates"], tmp_path, home,
                          EVALKIT_REPORTS=str(reports))
        assert resumed.returncode == 0, said(resumed)
        assert 0 < len(srv.log) - sent < 6  # only the calls the budget stopped were sent


def _storm_run(tmp_path, srv, *, max_attempts: int = 3):
    suite = suite_at(tmp_path, srv)
    suite.write_text(suite.read_text().replace("max_attempts: 3", f"max_attempts: {max_attempts}"))
    return evalkit(["run", str(suite), "--no-gates", "--quiet", "--reports", str(tmp_path / "reports")],
                   tmp_path, tmp_path / "home")


def test_a_429_burst_longer_than_max_attempts_is_waited_out_when_the_server_says_how_long(tmp_path):
    """A shared key's 429 storm: every request is refused 8 times (Retry-After 0.05 s) before it is
    answered. Refused attempts the server times are retried past max_attempts (3) while the waits stay
    within max_retry_after_s in total; the run used to fail with every call rate_limited."""
    from evalkit.testing._faults import FaultPlan

    with LoopbackServer(faults=FaultPlan(kinds=("429",), first_attempts=8)) as srv:
        proc = _storm_run(tmp_path, srv)
        assert proc.returncode == 0, said(proc)
        assert sum(h.status == 429 for h in srv.log) == 8 * 6 and sum(h.status == 200 for h in srv.log) == 6


def test_a_429_timed_only_by_reset_headers_pauses_until_the_reset(tmp_path):
    """No Retry-After, only ``x-ratelimit-remaining-requests: 0`` and ``x-ratelimit-reset-requests: 0.6s``:
    the call waits for the reset instead of retrying at once (30 retries inside a 6 s window before)."""
    from evalkit.testing._faults import FaultPlan

    with LoopbackServer(faults=FaultPlan(kinds=("429",), first_attempts=2), retry_after_s=None,
                        reset_after_s=0.6) as srv:
        proc = _storm_run(tmp_path, srv)
        assert proc.returncode == 0, said(proc)
        by_request: dict[str, list[float]] = {}
        for hit in srv.log:
            by_request.setdefault(hit.key, []).append(hit.at)
        gaps = [b - a for times in by_request.values() for a, b in itertools.pairwise(times)]
        assert len(gaps) == 2 * 6 and min(gaps) >= 0.55, gaps


def test_simulated_spend_is_not_real_money_for_the_budget(tmp_path):
    """The shipped workflow ran the simulated CI suite with --max-cost 5 per shard: refused with 'estimated
    cost $12.0002 exceeds max_cost_usd $5' (the simulator is priced as a real model), so CI never passed.
    Simulated spend is recorded and shown, labelled, but --max-cost guards real money only."""
    home = tmp_path / "home"
    proc = evalkit(["run", "suites/upgrades-ci.yaml", "--quiet", "--no-gates", "--limit", "120", "--max-cost", "0.01",
                    "--reports", str(tmp_path / "r")], REPO, home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run_dir,) = [p for p in (tmp_path / "r").iterdir() if p.is_dir()]
    import json

    counts = json.loads((run_dir / "manifest.json").read_text())["counts"]
    assert counts["spent_usd"] > 0.01  # the simulated spend, recorded as such


def test_the_ledger_holds_and_counts_no_simulated_spend():
    from evalkit.pricing import lookup_price
    from evalkit.providers import Message, ModelRequest, Usage
    from evalkit.run import PlannedCall
    from evalkit.run._ledger import SpendLedger

    def call(config: str) -> PlannedCall:
        req = ModelRequest(provider="openai", model="gpt-4o", messages=(Message(role="user", content="hi" * 400),))
        return PlannedCall(config=config, case_id="c", segment="s", sample_index=0, request=req,
                           est_input_tokens=400, max_output_tokens=500)

    price = lookup_price("gpt-4o")
    ledger = SpendLedger(prices={"sim": price, "real": price}, max_cost=0.01, simulated=frozenset({"sim"}))
    held = ledger.reserve(call("sim"))
    assert held is not None and held.amount == 0.0 and ledger.committed == 0.0
    ledger.settle(held, "sim", usage=Usage(input_tokens=100_000, output_tokens=0), possibly_billed=False)
    assert ledger.spent > 0.01 and ledger.committed == 0.0  # recorded, not counted against the budget
    held = ledger.reserve(call("real"))
    assert held is not None  # the real configuration still has the whole budget
    # progress shows real money and pretend spend apart: their sum was labelled "(simulated)" as a whole
    pretend = ledger.spent
    ledger.settle(held, "real", usage=Usage(input_tokens=1_000, output_tokens=0), possibly_billed=False)
    real = ledger.spent - pretend
    assert real > 0 and ledger.describe().startswith(f"${real:.4f} + ${pretend:.4f} simulated")
    only_sim = SpendLedger(prices={"sim": price}, simulated=frozenset({"sim"}))
    assert "simulated" not in only_sim.describe()  # an all-simulated run's progress line labels it once


def test_a_run_resumed_without_max_cost_guards_its_recorded_budget_with_counted_prompts(tmp_path):
    """Re-running a suite whose run stopped at its budget resumes it with the recorded budget; that run
    was planned with the rule of thumb (~4 characters a token), which a table of digits passes by half
    again, while a run given --max-cost counts every prompt with the tokenizer. Both now estimate alike."""
    import random
    import re

    from evalkit.providers import sim_respond

    def dear(request):  # bills far more input than the prompt's estimate: the budget stops the run
        answer = sim_respond(request)
        return answer.model_copy(update={"usage": answer.usage.model_copy(update={"input_tokens": 40_000})})

    rng = random.Random(5)
    prompt = tmp_path / "digits.j2"
    table = "\n".join(" ".join(f"{rng.randrange(10**6):06d}" for _ in range(12)) for _ in range(400))
    text = (REPO / "suites" / "prompts" / "upgrade-v1.j2").read_text()
    head, sep, tail = text.rpartition("{%- endblock %}")  # the table goes into the user message
    prompt.write_text(head + "\nReference table:\n" + table + "\n" + sep + tail)
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer(responder=dear) as srv:
        suite = write_loopback_suite(tmp_path / "s", prompt=prompt, base_url=srv.openai_base_url, limit=6,
                                     concurrency=1)
        stopped = evalkit(["run", str(suite), "--max-cost", "0.3", "--reports", str(reports), "--no-gates"],
                          tmp_path, home)
        assert stopped.returncode == 3 and "stopped at the budget" in said(stopped), said(stopped)
        run_id = re.search(r"evalkit run --resume (\S+)", said(stopped)).group(1)

        def estimate(proc: subprocess.CompletedProcess) -> str:
            found = re.search(r"estimated cost \$(\d+\.\d+)", said(proc))
            assert found and proc.returncode in (2, 3), said(proc)
            return found.group(1)

        again = evalkit(["run", str(suite), "--reports", str(reports), "--no-gates"], tmp_path, home)
        assert f"resuming {run_id}" in said(again) or run_id in said(again), said(again)
        given = evalkit(["run", "--resume", run_id, "--max-cost", "0.3", "--no-gates"], tmp_path, home,
                        EVALKIT_REPORTS=str(reports))
        assert estimate(again) == estimate(given)
