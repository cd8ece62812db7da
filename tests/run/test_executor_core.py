"""Executor behaviour with in-process providers (retry, stop rules, budget, journal)."""

from __future__ import annotations

import json
import time

import pytest
from runhelpers import FAST_RETRY, make_calls, opts, run

from evalkit.errors import ConfigError, RunFailed
from evalkit.pricing import lookup_price
from evalkit.providers._base import ModelResponse, Usage
from evalkit.providers._errors import ProviderError
from evalkit.run._executor import execute
from evalkit.run._journal import read_journal

PRICE = lookup_price("gpt-4o-mini")


class Scripted:
    """A network-like provider whose n-th attempt per request follows a script."""

    name = "scripted"
    simulated = False
    offline = False

    def __init__(self, script=None, usage_on_error=False):
        self.script = script or {}
        self.attempts: dict[str, int] = {}
        self.usage_on_error = usage_on_error

    async def complete(self, request):
        key = request.messages[-1].content
        n = self.attempts.get(key, 0)
        self.attempts[key] = n + 1
        steps = self.script.get(key) or self.script.get("*") or []
        step = steps[n] if n < len(steps) else None
        usage = Usage(input_tokens=40, output_tokens=10, cached_tokens=0)
        if step == "429":
            raise ProviderError("slow down", kind="rate_limited", status=429, retry_after_s=0.2)
        if step == "500b":
            raise ProviderError("boom", kind="server_error", status=500, usage=usage)
        if step == "400":
            raise ProviderError("bad", kind="client_error", status=400)
        if step == "bug":
            raise RuntimeError("provider bug")
        return ModelResponse(text='{"action": "approve", "confidence": 0.9}', usage=usage, model_version="m-1")

    async def aclose(self):
        pass


def test_ok_records_in_planned_order_with_cost(home):
    calls = make_calls(12, samples=2)
    recs = run(execute(calls, providers={"cfg": Scripted()}, prices={"cfg": PRICE}, options=opts(cache_mode="off")))
    assert [r.key for r in recs] == [c.key for c in calls]
    assert all(r.status == "ok" and r.attempts == 1 and not r.cache_hit for r in recs)
    assert recs[0].cost_usd == pytest.approx(40 * 0.15e-6 + 10 * 0.6e-6)
    assert recs[0].nominal_cost_usd == recs[0].cost_usd


def test_retry_honours_retry_after_and_bills_every_attempt(home):
    calls = make_calls(1)
    key = calls[0].request.messages[-1].content
    prov = Scripted({key: ["429", "500b", None]})
    t0 = time.perf_counter()
    [rec] = run(execute(calls, providers={"cfg": prov}, prices={"cfg": PRICE},
                        options=opts(cache_mode="off"), retry_policy=FAST_RETRY))
    assert time.perf_counter() - t0 >= 0.2  # waited at least the Retry-After
    assert rec.status == "ok" and rec.attempts == 3
    assert len(rec.billed_usage) == 2  # the billed 500 and the answer; the 429 was free
    assert rec.cost_usd == pytest.approx(2 * (40 * 0.15e-6 + 10 * 0.6e-6))


def test_final_failure_is_recorded_with_reason_and_not_retried(home):
    calls = make_calls(3)
    prov = Scripted({calls[1].request.messages[-1].content: ["400"], calls[2].request.messages[-1].content: ["bug"]})
    recs = run(execute(calls, providers={"cfg": prov}, prices={"cfg": PRICE},
                       options=opts(cache_mode="off", max_error_share=1.0)))
    assert [r.status for r in recs] == ["ok", "failed", "failed"]
    assert recs[1].error_class == "client_error" and recs[1].attempts == 1 and "HTTP 400" in recs[1].error_message
    assert recs[2].error_class == "provider_error" and "provider bug" in recs[2].error_message
    assert recs[1].cost_usd == 0.0  # nothing billed


def test_retries_exhausted(home):
    calls = make_calls(10)
    prov = Scripted({calls[4].request.messages[-1].content: ["500b"] * 10})
    recs = run(execute(calls, providers={"cfg": prov}, prices={"cfg": PRICE},
                       options=opts(cache_mode="off", max_attempts=3), retry_policy=FAST_RETRY))
    rec = recs[4]
    assert rec.status == "failed" and rec.attempts == 3 and rec.error_class == "server_error"
    assert len(rec.billed_usage) == 3 and rec.cost_usd > 0
    assert [r.status for r in recs].count("ok") == 9  # one final failure is a result, not the end of the run


def test_every_call_failing_stops_the_run_naming_the_error_classes(home, tmp_path):
    calls = make_calls(10)
    prov = Scripted({"*": ["400"]})
    with pytest.raises(RunFailed, match=r"client_error x\d+ in cfg \(first: HTTP 400: bad") as err:
        run(execute(calls, providers={"cfg": prov}, prices={"cfg": PRICE}, run_dir=tmp_path / "r",
                    options=opts(cache_mode="off", concurrency=2)))
    assert err.value.exit_code == 3
    assert len(err.value.records) < 10  # stopped as soon as the share could no longer end below 20 %


def test_all_failed_is_never_complete_even_with_no_error_limit(home):
    with pytest.raises(RunFailed, match="client_error x3"):
        run(execute(make_calls(3), providers={"cfg": Scripted({"*": ["400"]})}, prices={"cfg": PRICE},
                    options=opts(cache_mode="off", max_error_share=1.0)))


@pytest.mark.parametrize(("failed", "finished", "planned", "stop"), [
    (3, 3, 10, True),     # 3 > 0.2 x 10: the share can no longer end below the limit
    (2, 2, 10, False),    # could still end at 20 %
    (5, 5, 1000, True),   # each of the first 5 failed
    (4, 5, 1000, False),
    (5, 20, 1000, True),  # the plain share rule from 20 calls on
    (4, 20, 1000, False),
    (10, 10, 10, False),  # max_share 1.0 below: never stops
])
def test_error_share_rule_covers_small_runs(failed, finished, planned, stop):
    from evalkit.run._failures import should_stop

    share = 1.0 if (failed, finished, planned) == (10, 10, 10) else 0.2
    assert should_stop(failed=failed, finished=finished, planned=planned, max_share=share) is stop


def test_error_share_stops_early_and_keeps_journal(home, tmp_path):
    calls = make_calls(200)
    prov = Scripted({"*": ["400"]})
    with pytest.raises(RunFailed, match=r"stopped: \d+ of \d+ finished calls failed.*client_error") as err:
        run(execute(calls, providers={"cfg": prov}, prices={"cfg": PRICE}, run_dir=tmp_path / "r",
                    options=opts(cache_mode="off", max_error_share=0.2, concurrency=4)))
    assert err.value.exit_code == 3
    journaled = read_journal(tmp_path / "r" / "journal.jsonl")
    assert 5 <= len(journaled) < 10  # each of the first 5 failed: stopped then, not after 200
    assert {r.key for r in err.value.records} == set(journaled)


def test_budget_refuses_to_start(home):
    calls = make_calls(100)
    with pytest.raises(RunFailed, match=r"estimated cost \$0\.00\d+ exceeds max_cost_usd"):
        run(execute(calls, providers={"cfg": Scripted()}, prices={"cfg": PRICE},
                    options=opts(cache_mode="off", max_cost_usd=0.0003)))


def test_budget_unknown_price_refuses(home):
    with pytest.raises(RunFailed, match="no known price"):
        run(execute(make_calls(2), providers={"cfg": Scripted()}, prices={"cfg": None},
                    options=opts(cache_mode="off", max_cost_usd=1.0)))


def test_budget_stops_before_crossing(home, tmp_path):
    calls = make_calls(50)
    # Estimates (40 in + 12 out) are below the limit, but every call bills more than
    # estimated, so the in-run guard must stop before the spend crosses it.
    per_call = 40 * 0.15e-6 + 10 * 0.6e-6
    est = 40 * 0.15e-6 + 12 * 0.6e-6
    budget = est * 50 + 1e-9
    prov = Scripted({"*": ["500b", None]})  # two billed attempts per call
    with pytest.raises(RunFailed, match="stopped at the budget"):
        run(execute(calls, providers={"cfg": prov}, prices={"cfg": PRICE}, run_dir=tmp_path / "r",
                    options=opts(cache_mode="off", max_cost_usd=budget, concurrency=4), retry_policy=FAST_RETRY))
    journaled = read_journal(tmp_path / "r" / "journal.jsonl")
    spent = sum(r.cost_usd for r in journaled.values())
    assert spent <= budget
    assert 0 < len(journaled) < 50
    assert spent == pytest.approx(sum(2 * per_call for r in journaled.values() if r.status == "ok")
                                  + sum(r.cost_usd for r in journaled.values() if r.status == "failed"))


def test_journal_resume_skips_finished_and_ignores_torn_line(home, tmp_path):
    calls = make_calls(10)
    run_dir = tmp_path / "r"
    prov = Scripted()
    run(execute(calls[:6], providers={"cfg": prov}, prices={"cfg": PRICE}, run_dir=run_dir,
                options=opts(cache_mode="off")))
    with open(run_dir / "journal.jsonl", "a") as fh:
        fh.write('{"config": "cfg", "case_id": "case-0007", "sampl')  # torn by kill -9
    prov2 = Scripted()
    recs = run(execute(calls, providers={"cfg": prov2}, prices={"cfg": PRICE}, run_dir=run_dir,
                       options=opts(cache_mode="off")))
    assert len(recs) == 10 and len({r.key for r in recs}) == 10
    assert sum(prov2.attempts.values()) == 4  # only the 4 unfinished calls were sent
    lines = [json.loads(x) for x in (run_dir / "journal.jsonl").read_text().splitlines()]  # every line whole
    assert len([x for x in lines if "attempt" not in x]) == 10


def test_resume_retry_failed_carries_attempts_and_spend(home, tmp_path):
    calls = make_calls(2)
    run_dir = tmp_path / "r"
    with pytest.raises(RunFailed, match="server_error x2"):  # nothing answered: the run failed
        run(execute(calls, providers={"cfg": Scripted({"*": ["500b"] * 9})}, prices={"cfg": PRICE}, run_dir=run_dir,
                    options=opts(cache_mode="off", max_attempts=2, max_error_share=1.0), retry_policy=FAST_RETRY))
    recs = run(execute(calls, providers={"cfg": Scripted()}, prices={"cfg": PRICE}, run_dir=run_dir,
                       options=opts(cache_mode="off"), retry_failed=True))
    assert all(r.status == "ok" and r.attempts == 3 and len(r.billed_usage) == 3 for r in recs)
    assert len(read_journal(run_dir / "journal.jsonl")) == 2


def test_duplicate_and_unknown_config_are_config_errors(home):
    calls = make_calls(2)
    with pytest.raises(ConfigError, match="appears twice"):
        run(execute(calls + calls[:1], providers={"cfg": Scripted()}, prices={}, options=opts()))
    with pytest.raises(ConfigError, match="no provider for configuration 'cfg'"):
        run(execute(calls, providers={}, prices={}, options=opts()))


def test_missing_usage_is_unknown_cost_not_zero(home):
    class NoUsage(Scripted):
        async def complete(self, request):
            return ModelResponse(text="{}", usage=None)

    [rec] = run(execute(make_calls(1), providers={"cfg": NoUsage()}, prices={"cfg": PRICE},
                        options=opts(cache_mode="off")))
    assert rec.status == "ok" and rec.cost_usd is None


def test_progress_off_a_terminal_is_plain_lines_on_stderr_and_stdout_stays_clean(home, capsys):
    recs = run(execute(make_calls(5), providers={"cfg": Scripted()}, prices={"cfg": PRICE},
                       options=opts(cache_mode="off", progress=True)))
    assert len(recs) == 5
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout stays clean for piping (no bar, no lines)
    assert captured.err.splitlines()[-1].startswith("calls 5/5 (100%)"), captured.err
    run(execute(make_calls(5), providers={"cfg": Scripted()}, prices={"cfg": PRICE},
                options=opts(cache_mode="off", progress=False)))
    assert capsys.readouterr().err == ""  # --quiet: nothing


def test_progress_counts_and_spend():
    from evalkit.run._ledger import SpendLedger
    from evalkit.run._progress import Progress

    ledger = SpendLedger(prices={})
    p = Progress(total=3, enabled=False, already_done=1, spend=ledger.describe)
    p.update(failed=True, cache_hit=False, rate=1.0)
    ledger.spent, ledger.possibly_billed = 0.5, 0.25
    p.update(failed=False, cache_hit=True, rate=1.0)
    assert (p.done, p.errors, p.cache_hits) == (3, 1, 1)
    assert p.line(1.0).endswith("spent $0.5000 + up to $0.2500 possibly billed")
    p.close()


def test_progress_never_shows_unknown_spend_as_zero(home, capsys):
    """A model without a price (or answers without usage): the progress line said 'spent $0.0000'
    while the summary said unknown. It now says what the ledger knows."""
    run(execute(make_calls(4), providers={"cfg": Scripted()}, prices={"cfg": None},
                options=opts(cache_mode="off", progress=True)))
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("calls 4/4") and "unknown (4 attempt(s) of unknown cost)" in last, last
    run(execute(make_calls(3), providers={"cfg": Scripted()}, prices={"cfg": PRICE},
                options=opts(cache_mode="off", progress=True)))
    last = capsys.readouterr().err.splitlines()[-1]
    assert "unknown" not in last and "possibly" not in last, last  # priced usage: a known amount


def test_slow_sdk_import_is_outside_the_first_calls_timeout(home):
    """prepare() (importing an SDK: seconds for litellm) runs before any attempt is timed."""

    class SlowImport(Scripted):
        prepared = 0

        def prepare(self):
            SlowImport.prepared += 1
            time.sleep(0.5)  # longer than the call timeout below

        async def complete(self, request):
            assert SlowImport.prepared == 1, "a call was timed before the SDK was imported"
            return await super().complete(request)

    recs = run(execute(make_calls(6), providers={"cfg": SlowImport()}, prices={"cfg": PRICE},
                       options=opts(cache_mode="off", timeout_s=0.3, max_attempts=1)))
    assert [r.status for r in recs] == ["ok"] * 6 and SlowImport.prepared == 1


@pytest.mark.parametrize(("provider", "module"), [("openai", "openai"), ("anthropic", "anthropic"),
                                                  ("litellm", "litellm")])
def test_each_sdk_provider_imports_its_sdk_in_prepare(provider, module):
    import subprocess
    import sys

    code = (f"import sys; from evalkit.providers import create_provider\n"
            f"p = create_provider({provider!r}, base_url='http://127.0.0.1:9/v1')\n"
            f"assert {module!r} not in sys.modules\n"
            f"p.prepare(); assert {module!r} in sys.modules\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
