"""A provider's first request in a process does seconds of one-time SDK work (lazy imports, the client,
its response models) before anything is sent. Counted against ``execution.timeout_s`` it timed out a
run's whole first wave of calls against a fast server, which were then sent (and billed) twice
(litellm: ~0.5 s idle, ~3 s on a loaded machine; the anthropic SDK likewise)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from evalkit.testing import LoopbackServer, write_loopback_suite

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("provider,model", [("litellm", "openai/large"), ("anthropic", "large")])
def test_the_first_requests_cold_start_is_not_counted_against_the_timeout(tmp_path, provider, model):
    with LoopbackServer() as srv:
        base = srv.openai_base_url if provider == "litellm" else srv.base_url
        suite = write_loopback_suite(tmp_path, prompt=REPO / "suites" / "prompts" / "upgrade-v1.j2", base_url=base,
                                     provider=provider, model=model, limit=4, concurrency=4)
        suite.write_text(suite.read_text().replace("timeout_s: 10", "timeout_s: 0.4"))
        env = {**os.environ, "EVALKIT_HOME": str(tmp_path / "home"), "EVALKIT_DATASETS": str(REPO / "datasets"),
               "EVALKIT_TEST_KEY": "sk-test-cold-start-0000", "PYTHONPATH": str(REPO / "src")}
        proc = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "run", str(suite), "--no-cache", "--no-gates",
                               "--quiet", "--reports", str(tmp_path / "reports")], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        sent = len(srv.log)
    (run_dir,) = (tmp_path / "reports").iterdir()
    results = pq.read_table(run_dir / "results.parquet").to_pylist()
    assert sent == len(results) == 4, (sent, [r["attempts"] for r in results])  # each call sent once
    assert all(r["attempts"] == 1 and r["status"] == "ok" for r in results)
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "complete"
