"""After a resume, manifest.json's ``execution`` block describes the whole run: the batches the first
session created and collected, their failed lines and the calls that fell back. It described only the
last session (batch_ids [], batch_answers 0, fallback_calls 0, batches_created 0) though the results
came from batches."""

from __future__ import annotations

import os
import signal
import time

import pandas as pd
from batchhelpers import config, ledger, manifest, popen, write_suite

from evalkit.testing import BatchAPIs, LoopbackServer, echo_responder


def test_the_manifest_counts_every_session_of_a_resumed_batch_run(tmp_path):
    # 10% of the lines fail; their direct fallback is slow, so the run is killed while it is under way
    batches = BatchAPIs(delay_s=0.05, fail_rate=0.1, seed=3)
    reports, home = tmp_path / "reports", tmp_path / "home"
    with LoopbackServer(responder=echo_responder, latency_s=1.0, extensions=[batches.install]) as server:
        configs = (config("oai", "openai", "gpt-4o-mini", server.openai_base_url)
                   + config("ant", "anthropic", "claude-haiku-4-5", server.anthropic_base_url))
        suite = write_suite(tmp_path, configs, name="resumed", execution=", batch_max_requests: 25, concurrency: 2")
        proc = popen(["run", str(suite), "--limit", "60", "--quiet", "--no-cache", "--reports", str(reports)], home)
        deadline, run_dir = time.time() + 120, None
        while time.time() < deadline:
            time.sleep(0.05)
            assert proc.poll() is None, proc.communicate()
            run_dir = next((p for p in reports.glob("*") if (p / "batches.jsonl").exists()), None)
            events = ledger(run_dir) if run_dir else []
            if sum(e["event"] == "collected" for e in events) == 6 and sum(server.hits.values()) >= 2:
                break  # every batch collected, the fallback calls under way
        else:
            raise AssertionError("the batches were never collected")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert not (run_dir / "scores.parquet").exists()

        server.latency_s = 0.0
        resumed = popen(["run", "--resume", run_dir.name, "--quiet", "--no-cache", "--reports", str(reports)], home)
        _, err = resumed.communicate(timeout=300)
        assert resumed.returncode in (0, 1), err
        assert sum(batches.created.values()) == 6  # 2 x ceil(60/25): nothing resubmitted
    results = pd.read_parquet(run_dir / "results.parquet")
    by_mode = results["execution"].value_counts().to_dict()
    report = manifest(run_dir)["execution"]
    assert report["mode"] == "batch"
    assert report["batches_created"] == 6 and len(report["batch_ids"]) == 6
    assert sorted(report["batch_ids"]) == sorted(batches.batches)
    assert report["batch_answers"] == by_mode["batch"] == 120 - by_mode["direct"]
    assert report["failed_lines"] == by_mode["direct"] == report["fallback_calls"] > 0
    assert report["expired_lines"] == 0 and report["direct_calls"] == 0
    assert report["standard_price_calls"] == by_mode["direct"]
