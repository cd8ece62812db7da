"""Batch mode against the loopback server's batch APIs, through the official SDKs, for OpenAI
and Anthropic, with 2,000 cases: same answers as direct calls, batch prices (litellm's own
batch cost function agrees), resume after kill -9 without resubmitting, and partial failures
and expiry ending with every case answered or its failure recorded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from histhelpers import REPO, write_suite

from evalkit.testing import BatchAPIs, FaultPlan, LoopbackServer, echo_responder

N = 2000
PER_BATCH = 300
MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5"}


PROVIDERS = ("openai", "anthropic")


def suite_for(tmp: Path, server: LoopbackServer, *, batch: bool = False) -> Path:
    """One configuration per provider, both served by the loopback server."""
    mode = "batch" if batch else "direct"
    configs = ""
    for provider in PROVIDERS:
        url = server.openai_base_url if provider == "openai" else server.anthropic_base_url
        configs += f"""  - name: {provider}
    provider: {provider}
    model: {MODELS[provider]}
    prompt: prompts/upgrade-v1.j2
    params: {{temperature: 0}}
    options: {{base_url: "{url}", api_key_env: EVALKIT_TEST_KEY}}
"""
    extra = (f"sample: {{limit: {N}, seed: 1}}\n"
             f"execution: {{mode: {mode}, batch_poll_s: 0.02, batch_max_requests: {PER_BATCH}, concurrency: 32, "
             "max_attempts: 2, max_error_share: 1.0}\n")
    return write_suite(tmp, configs, name=f"batch-{mode}", dataset="upgrades@v1", extra=extra)


def run(suite: Path, reports: Path, **kw):
    from evalkit.pipeline import RunRequest, run_suite

    return run_suite(RunRequest(suite_path=suite, reports=reports, datasets=REPO / "datasets", progress=False,
                                fresh=True, cache_mode="off", **kw))


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("EVALKIT_TEST_KEY", "sk-test-batch")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # litellm's cost function, offline


def what(run_dir: Path) -> pd.DataFrame:
    """The scores minus how they were obtained (ids, cost, attempts, latency, execution)."""
    s = pd.read_parquet(run_dir / "scores.parquet")
    s = s.drop(columns=["run_id", "cost_usd", "attempts", "cache_hit", "execution"])
    return s.sort_values(["config", "case_id"]).reset_index(drop=True)


def litellm_batch_cost(usage: dict, model: str, provider: str) -> float:
    import litellm
    from litellm.cost_calculator import batch_cost_calculator

    u = litellm.Usage(prompt_tokens=usage["input_tokens"], completion_tokens=usage["output_tokens"],
                      total_tokens=usage["input_tokens"] + usage["output_tokens"],
                      prompt_tokens_details={"cached_tokens": usage.get("cached_tokens") or 0})
    prompt, completion = batch_cost_calculator(u, model, provider)
    return prompt + completion


@pytest.mark.slow
def test_batch_matches_direct_at_batch_prices(tmp_path):
    batches = BatchAPIs(delay_s=0.05)
    with LoopbackServer(responder=echo_responder, extensions=[batches.install]) as server:
        direct = run(suite_for(tmp_path / "d", server), tmp_path / "reports")
        direct_hits = sum(server.hits.values())
        assert direct_hits == 2 * N and sum(batches.created.values()) == 0
        batched = run(suite_for(tmp_path / "b", server), tmp_path / "reports", batch=True)
        assert sum(server.hits.values()) == direct_hits  # no direct call in batch mode
    for provider in PROVIDERS:
        assert batches.created[provider] == -(-N // PER_BATCH)  # split within the per-batch limit
        assert batches.lines_submitted[provider] == N

    pd.testing.assert_frame_equal(what(direct.run_dir), what(batched.run_dir))
    results = pd.read_parquet(batched.run_dir / "results.parquet")
    assert set(results["execution"]) == {"batch"} and len(results) == 2 * N
    manifest = json.loads((batched.run_dir / "manifest.json").read_text())
    assert manifest["execution"]["mode"] == "batch"
    assert manifest["execution"]["batches_created"] == sum(batches.created.values())
    assert {c["execution"] for c in manifest["configs"]} == {"batch"}
    direct_results = pd.read_parquet(direct.run_dir / "results.parquet")
    for i, provider in enumerate(PROVIDERS):
        _check_prices(provider, manifest["configs"][i], batched.run_dir,
                      results[results["config"] == provider], direct_results[direct_results["config"] == provider])


def _check_prices(provider, config, run_dir, results, direct_results):
    from evalkit.pricing import batch_price, lookup_price

    assert config["name"] == provider

    # Batch prices: half the standard input and output rates, from litellm's bundled map...
    standard = lookup_price(MODELS[provider])
    bp = batch_price(standard)
    assert bp.input == pytest.approx(standard.input / 2) and bp.output == pytest.approx(standard.output / 2)
    assert config["batch_price"]["input"] == pytest.approx(bp.input)
    # ...and every call's cost is what litellm's own batch cost function says for the same usage.
    records = {}
    from evalkit.run._journal import journal_lines  # a complete run's journal is sealed (compressed)

    for line in journal_lines(run_dir / "journal.jsonl"):
        rec = json.loads(line)
        if rec["config"] == provider:
            records[rec["case_id"]] = rec
    assert len(records) == N
    sample = list(records.values())[:: max(1, len(records) // 50)]
    for rec in sample:
        usage = rec["response"]["usage"]
        assert rec["cost_usd"] == pytest.approx(litellm_batch_cost(usage, MODELS[provider], provider), rel=1e-9)
    # Without prompt-cache reads (billed at the cache-read rate either way) a batch call costs exactly half.
    from evalkit.pricing import call_cost
    from evalkit.providers import Usage

    plain = Usage(input_tokens=1200, output_tokens=300, cached_tokens=0)
    assert call_cost(plain, bp) == pytest.approx(call_cost(plain, standard) / 2)
    assert results["cost_usd"].sum() < 0.7 * direct_results["cost_usd"].sum()


def _cli(args: list[str], home: Path) -> subprocess.Popen:
    env = {**os.environ, "EVALKIT_HOME": str(home), "EVALKIT_DATASETS": str(REPO / "datasets"),
           "EVALKIT_TEST_KEY": "sk-test-batch"}
    return subprocess.Popen([sys.executable, "-m", "evalkit.cli.main", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _submitted(reports: Path) -> tuple[Path | None, int]:
    for ledger in reports.glob("*/batches.jsonl"):
        events = [json.loads(x) for x in ledger.read_text().splitlines() if x.strip().endswith("}")]
        return ledger.parent, sum(e.get("event") == "submitted" for e in events)
    return None, 0


@pytest.mark.slow
def test_kill_9_while_batches_pend_then_resume_resubmits_nothing(tmp_path):
    batches = BatchAPIs(delay_s=3600)  # nothing ends until the test says so
    reports, home = tmp_path / "reports", tmp_path / "home"
    expected = 2 * -(-N // PER_BATCH)
    with LoopbackServer(responder=echo_responder, extensions=[batches.install]) as server:
        suite = suite_for(tmp_path, server, batch=True)
        proc = _cli(["run", str(suite), "--quiet", "--no-cache", "--reports", str(reports)], home)
        deadline = time.time() + 120
        run_dir, n = None, 0
        while time.time() < deadline and n < expected:
            time.sleep(0.1)
            run_dir, n = _submitted(reports)
            assert proc.poll() is None, proc.communicate()
        assert n == expected, "the run never submitted its batches"
        time.sleep(0.2)  # a few polls of pending batches
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert sum(batches.created.values()) == expected
        assert not (run_dir / "scores.parquet").exists()

        batches.delay_s = 0.0  # the provider finishes the batches while nobody is watching
        resumed = _cli(["run", "--resume", run_dir.name, "--quiet", "--no-cache", "--reports", str(reports)], home)
        _, err = resumed.communicate(timeout=300)
        assert resumed.returncode == 0, err
        assert sum(batches.created.values()) == expected  # 0 batches resubmitted (server-side count)
        assert sum(server.hits.values()) == 0  # and nothing sent directly either
    scores = pd.read_parquet(run_dir / "scores.parquet")
    assert len(scores) == 2 * N and not scores.duplicated(["config", "case_id"]).any()  # 0 results lost
    assert scores.groupby("config").size().to_dict() == {p: N for p in PROVIDERS}
    assert (scores["status"] != "failed").all()
    assert set(pd.read_parquet(run_dir / "results.parquet")["execution"]) == {"batch"}


@pytest.mark.slow
def test_expired_batch_and_failed_lines_still_end_every_case(tmp_path):
    # batch #1 expires half-done; 5% of all lines fail; the direct fallback then meets 400s for some calls
    batches = BatchAPIs(delay_s=0.02, fail_rate=0.05, expire=(1,), seed=4)
    with LoopbackServer(responder=echo_responder, extensions=[batches.install],
                        faults=FaultPlan(rate=0.2, kinds=("400",), seed=2)) as server:
        outcome = run(suite_for(tmp_path, server), tmp_path / "reports", batch=True)
        direct_calls = len({(h.route, h.key) for h in server.log})  # calls sent directly, per provider
    report = outcome.manifest["execution"]
    assert report["expired_lines"] == 2 * (PER_BATCH - PER_BATCH // 2)  # batch #1 of each provider
    assert 0.03 * 2 * N < report["failed_lines"] < 0.07 * 2 * N
    assert report["fallback_calls"] == report["expired_lines"] + report["failed_lines"] == direct_calls
    assert sum(batches.created.values()) == 2 * -(-N // PER_BATCH)  # fallback never resubmits a batch

    results = pd.read_parquet(outcome.run_dir / "results.parquet")
    scores = pd.read_parquet(outcome.run_dir / "scores.parquet")
    assert len(scores) == 2 * N and not scores.duplicated(["config", "case_id"]).any() and len(results) == 2 * N
    by_mode = results.groupby("execution")["status"].value_counts().to_dict()
    assert by_mode[("batch", "ok")] == 2 * N - direct_calls
    assert by_mode[("direct", "ok")] > 0 and by_mode[("direct", "failed")] > 0  # retried, some for good
    failed = results[results["status"] == "failed"]
    assert failed["error_class"].notna().all() and failed["error_message"].notna().all()
    assert (scores.loc[scores["status"] == "failed", "error_class"].notna()).all()
    from evalkit.report import build_report

    page = build_report([outcome.run_dir], out=tmp_path / "report.html").read_text()
    assert "batch: provider batch APIs at batch prices" in page  # the report says how the run was executed
