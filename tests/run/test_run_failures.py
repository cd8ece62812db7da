"""Failed calls as results, through the CLI with the real SDKs against the loopback server:
one permanent failure among 100 finishes (report, summary, exit 0, resume finishes); a
small run where every call fails exits 3 naming the error classes; one process per run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from evalkit.testing import FaultPlan, LoopbackServer, write_loopback_suite

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-test-engine-0000"
ROUTES = {  # provider -> (model, which base url)
    "openai": ("large", "openai"),  # the loopback server answers with the simulated "large" model
    "anthropic": ("large", "anthropic"),
    "litellm": ("openai/large", "openai"),
}


def write_suite(tmp: Path, srv: LoopbackServer, *, provider: str = "openai", limit: int,
                concurrency: int = 8, extra: str = "") -> Path:
    model, route = ROUTES[provider]
    url = srv.openai_base_url if route == "openai" else srv.anthropic_base_url
    return write_loopback_suite(tmp, prompt=REPO / "suites" / "prompts" / "upgrade-v1.j2", base_url=url,
                                name="failures", provider=provider, model=model, limit=limit,
                                concurrency=concurrency, execution=extra)


def env(home: Path) -> dict[str, str]:
    return {**os.environ, "EVALKIT_HOME": str(home), "EVALKIT_DATASETS": str(REPO / "datasets"),
            "EVALKIT_TEST_KEY": KEY, "PYTHONPATH": str(REPO / "src")}


def evalkit(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evalkit.cli.main", *args], cwd=cwd, env=env(home),
                          capture_output=True, text=True, timeout=240)


def run_dir_of(reports: Path) -> Path:
    [run] = [p for p in reports.iterdir() if (p / "manifest.json").exists()]
    return run


@pytest.mark.parametrize("provider", ["openai", "anthropic", "litellm"])
def test_one_permanent_failure_among_100_finishes_and_resumes(tmp_path, provider):
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer() as srv:
        # A dry run against the same server names the 100 requests; one of them then fails forever.
        suite = write_suite(tmp_path, srv, provider=provider, limit=100)
        dry = evalkit(["run", str(suite), "--quiet", "--no-cache", "--reports", str(tmp_path / "dry")], tmp_path, home)
        assert dry.returncode == 0, dry.stderr
        doomed = sorted(srv.hits)[17]
        srv.reset()
        srv.faults = FaultPlan(schedule={doomed: ("400",) * 10})
        proc = evalkit(["run", str(suite), "--no-cache", "--reports", str(reports)], tmp_path, home)
        assert proc.returncode == 0, proc.stderr  # 1 % failed < max_error_share: the run passes, never exit 1
        assert srv.hits[doomed] == 1  # a 400 is final: not retried
        run = run_dir_of(reports)
        resumed = evalkit(["run", "--resume", run.name, "--quiet", "--no-cache", "--reports", str(reports)],
                          tmp_path, home)
        assert resumed.returncode == 0, resumed.stderr
    assert "Traceback" not in proc.stderr + resumed.stderr
    assert "client_error" in proc.stdout  # the console shows the failure
    manifest = json.loads((run / "manifest.json").read_text())
    results = pd.read_parquet(run / "results.parquet")
    assert len(results) == manifest["dataset"]["sampled_rows"] >= 95  # (stratified --limit may round)
    assert (results["status"] == "failed").sum() == 1
    scores = pd.read_parquet(run / "scores.parquet")
    failed = scores[scores["status"] == "failed"]
    assert len(failed) == 1 and failed.iloc[0]["error_class"] == "client_error"  # failed, not "invalid"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["errors"] == [{"error_class": "client_error", "config": "served", "count": 1,
                                  "first_message": summary["errors"][0]["first_message"],
                                  "first_case": failed.iloc[0]["case_id"]}]
    assert "bad request" in summary["errors"][0]["first_message"]
    assert manifest["status"] == "complete" and manifest["counts"]["failed_calls"] == 1
    html = (run / "report.html").read_text()
    assert "client_error" in html


@pytest.mark.parametrize("provider", ["openai", "anthropic", "litellm"])
def test_limit_10_every_call_failing_exits_3_naming_the_error_classes(tmp_path, provider):
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer(faults=FaultPlan(rate=1.0, kinds=("400",))) as srv:
        suite = write_suite(tmp_path, srv, provider=provider, limit=50)
        proc = evalkit(["run", str(suite), "--limit", "10", "--quiet", "--reports", str(reports)], tmp_path, home)
    assert proc.returncode == 3, (proc.stdout, proc.stderr)
    assert "client_error" in proc.stderr and "Traceback" not in proc.stderr
    assert "bad request" in proc.stderr  # the first message, so the user knows what to fix
    assert sum(srv.hits.values()) <= 10
    manifest = json.loads((run_dir_of(reports) / "manifest.json").read_text())
    assert manifest["status"] == "stopped" and manifest["errors"][0]["error_class"] == "client_error"


def test_a_second_process_on_a_running_run_is_refused(tmp_path):
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer(latency_s=0.5) as srv:  # 60 calls, 2 at a time: ~15 s, long enough to try twice
        suite = write_suite(tmp_path, srv, limit=60, concurrency=2)
        first = subprocess.Popen([sys.executable, "-m", "evalkit.cli.main", "run", str(suite), "--quiet",
                                  "--no-cache", "--reports", str(reports)], cwd=tmp_path, env=env(home),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not list(reports.glob("*/journal.jsonl")):
                time.sleep(0.05)
            run = run_dir_of(reports)
            second = evalkit(["run", str(suite), "--quiet", "--no-cache", "--reports", str(reports)], tmp_path, home)
            third = evalkit(["run", "--resume", run.name, "--quiet", "--no-cache", "--reports", str(reports)],
                            tmp_path, home)
        finally:
            first.kill()
            first.wait(30)
        for proc in (second, third):
            assert proc.returncode == 3, proc.stderr
            assert "already being executed by process" in proc.stderr and "Traceback" not in proc.stderr
        # The killed owner's lock does not block: resuming now finishes the run.
        resumed = evalkit(["run", "--resume", run.name, "--quiet", "--no-cache", "--reports", str(reports)],
                          tmp_path, home)
        assert resumed.returncode == 0, resumed.stderr
    manifest = json.loads((run / "manifest.json").read_text())
    assert len(pd.read_parquet(run / "results.parquet")) == manifest["dataset"]["sampled_rows"]
