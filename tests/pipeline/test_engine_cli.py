"""The run engine through the CLI, with the real openai SDK against the loopback server:
replay without network, no secret on disk, and resume after SIGKILL without paying twice."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from evalkit.testing import LoopbackServer

REPO = Path(__file__).resolve().parents[2]
SECRET = "sk-test-SECRET-123"


def write_suite(tmp: Path, base_url: str, *, limit: int, concurrency: int = 8) -> Path:
    (tmp / "prompts").mkdir(exist_ok=True)
    shutil.copy(REPO / "suites" / "prompts" / "upgrade-v1.j2", tmp / "prompts" / "upgrade-v1.j2")
    suite = tmp / "suite.yaml"
    suite.write_text(f"""
name: engine-test
dataset: upgrades@v1
seed: 3
sample: {{limit: {limit}, seed: 1}}
execution: {{concurrency: {concurrency}, max_attempts: 3, timeout_s: 20}}
configs:
  - name: served
    provider: openai
    model: large
    prompt: prompts/upgrade-v1.j2
    params: {{temperature: 0}}
    price: {{input: 2.5, output: 10.0}}
    options: {{base_url: "{base_url}", api_key_env: EVALKIT_TEST_KEY}}
""")
    return suite


def env(home: Path) -> dict[str, str]:
    return {**os.environ, "EVALKIT_HOME": str(home), "EVALKIT_DATASETS": str(REPO / "datasets"),
            "EVALKIT_TEST_KEY": SECRET}


def evalkit(args: list[str], cwd: Path, home: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evalkit.cli.main", *args], cwd=cwd, env=env(home),
                          capture_output=True, text=True, timeout=300, **kw)


def only_run(reports: Path) -> Path:
    runs = sorted(p for p in reports.iterdir() if (p / "manifest.json").exists())
    return runs[-1]


def scores_without_ids(run_dir: Path) -> pd.DataFrame:
    s = pd.read_parquet(run_dir / "scores.parquet").drop(columns=["run_id", "cache_hit", "attempts"])  # how, not what
    return s.sort_values(["config", "case_id"]).reset_index(drop=True)


def test_replay_reproduces_scores_offline_and_no_secret_reaches_disk(tmp_path):
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer() as server:
        suite = write_suite(tmp_path, server.openai_base_url, limit=40)
        first = evalkit(["run", str(suite), "--quiet", "--reports", str(reports)], tmp_path, home)
        assert first.returncode == 0, first.stderr
        hits_after_first = sum(server.hits.values())
        assert hits_after_first >= 40
        replay = evalkit(["run", str(suite), "--quiet", "--replay", "--fresh", "--reports", str(reports)],
                         tmp_path, home)
        assert replay.returncode == 0, replay.stderr
        assert sum(server.hits.values()) == hits_after_first  # replay made no network call
    runs = sorted(p for p in reports.iterdir() if p.is_dir())
    assert len(runs) == 2
    pd.testing.assert_frame_equal(scores_without_ids(runs[0]), scores_without_ids(runs[1]))
    for root in (reports, home):
        for path in root.rglob("*"):
            if path.is_file():
                assert SECRET.encode() not in path.read_bytes(), path


def test_replay_on_a_cold_cache_fails_naming_the_case(tmp_path):
    suite = write_suite(tmp_path, "http://127.0.0.1:9/v1", limit=5)
    proc = evalkit(["run", str(suite), "--quiet", "--replay", "--reports", str(tmp_path / "r")], tmp_path,
                   tmp_path / "cold-home")
    assert proc.returncode == 3
    assert "served" in proc.stderr and "upg-" in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("how", ["--resume", "rerun"])
def test_sigkill_then_resume_finishes_without_repeating_finished_calls(tmp_path, how):
    home, reports = tmp_path / "home", tmp_path / "reports"
    concurrency = 4
    with LoopbackServer(latency_s=0.05) as server:
        suite = write_suite(tmp_path, server.openai_base_url, limit=120, concurrency=concurrency)
        child = subprocess.Popen([sys.executable, "-m", "evalkit.cli.main", "run", str(suite), "--quiet",
                                  "--reports", str(reports)], cwd=tmp_path, env=env(home),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 120
        journal = None
        while time.monotonic() < deadline:
            runs = [p for p in reports.glob("*/journal.jsonl")] if reports.exists() else []
            if runs and sum(1 for _ in runs[0].open()) >= 30:
                journal = runs[0]
                break
            time.sleep(0.02)
        assert journal is not None, "the run never got going"
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        finished_before = sum(1 for line in journal.open() if line.strip())
        assert 30 <= finished_before < 120
        run_id = journal.parent.name
        # Either name the run, or simply run the same command again: an interrupted run resumes.
        args = ["run", "--resume", run_id] if how == "--resume" else ["run", str(suite)]
        resumed = evalkit([*args, "--quiet", "--reports", str(reports)], tmp_path, home)
        assert resumed.returncode == 0, resumed.stderr
        hits = dict(server.hits)
    run_dir = reports / run_id
    assert [p.name for p in reports.iterdir() if p.is_dir()] == [run_id]  # resumed, not restarted
    scores = pd.read_parquet(run_dir / "scores.parquet")
    assert len(scores) == 120 and not scores.duplicated(["config", "case_id"]).any()
    results = pd.read_parquet(run_dir / "results.parquet")
    assert len(results) == 120
    # Only calls in flight at the kill can have been sent twice; finished ones never are.
    repeated = [k for k, n in hits.items() if n > 1]
    assert len(repeated) <= concurrency and max(hits.values()) <= 2
    assert sum(hits.values()) <= 120 + concurrency
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete"


def test_self_consistency_confidence_from_k_samples(tmp_path):
    """k samples at temperature > 0: the confidence is the share agreeing with the first answer."""
    home, reports = tmp_path / "home", tmp_path / "reports"
    (tmp_path / "prompts").mkdir()
    shutil.copy(REPO / "suites" / "prompts" / "upgrade-v1.j2", tmp_path / "prompts" / "upgrade-v1.j2")
    suite = tmp_path / "suite.yaml"
    suite.write_text("""
name: consistency
dataset: upgrades@v1
sample: {limit: 40, seed: 2}
configs:
  - name: voted
    provider: sim
    model: small
    prompt: prompts/upgrade-v1.j2
    params: {temperature: 0.8}
    samples: 4
    confidence: consistency
""")
    proc = evalkit(["run", str(suite), "--quiet", "--reports", str(reports)], tmp_path, home)
    assert proc.returncode == 0, proc.stderr
    run_dir = only_run(reports)
    scores = pd.read_parquet(run_dir / "scores.parquet")
    results = pd.read_parquet(run_dir / "results.parquet")
    assert len(results) == 4 * len(scores)
    valid = scores[scores["status"] == "ok"]
    assert (valid["confidence"] == valid["confidence_consistency"]).all()
    assert set(valid["confidence"].dropna().round(2)) <= {0.25, 0.5, 0.75, 1.0}
    assert valid["confidence"].nunique() > 1  # samples disagree on some cases


def test_logprob_confidence_through_the_openai_sdk(tmp_path):
    """confidence: logprob reads the chosen action's token probability from the SDK's logprobs."""
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer() as server:
        suite = write_suite(tmp_path, server.openai_base_url, limit=30)
        suite.write_text(suite.read_text().replace("    params: {temperature: 0}",
                                                   "    params: {temperature: 0}\n    confidence: logprob"))
        proc = evalkit(["run", str(suite), "--quiet", "--reports", str(reports)], tmp_path, home)
        assert proc.returncode == 0, proc.stderr
    scores = pd.read_parquet(only_run(reports) / "scores.parquet")
    ok = scores[scores["status"] == "ok"]
    assert len(ok) >= 25 and ok["confidence_logprob"].notna().all()
    assert (ok["confidence"] == ok["confidence_logprob"]).all()
    # The token probability is the less overconfident signal of the two (see docs/domain.md).
    assert ok["confidence_logprob"].mean() < ok["confidence_stated"].mean()
