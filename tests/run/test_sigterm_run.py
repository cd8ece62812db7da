"""SIGTERM during `evalkit run` (a CI job's timeout, a container stop) unwinds as Ctrl-C does: the
journal is flushed, the manifest says stopped/interrupted (it said 'running': the process died
where it stood), the resume command is printed, the lock is released and the exit status is 143;
`--resume` then sends only the calls that were not answered. Real SDK, real HTTP, a slow loopback
server counting every request."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from evalkit.testing import LoopbackServer, write_loopback_suite

REPO = Path(__file__).resolve().parents[2]
KEY = "sk-test-sigterm-0000"
CASES = 40


def env(home: Path) -> dict[str, str]:
    return {**os.environ, "EVALKIT_HOME": str(home), "EVALKIT_DATASETS": str(REPO / "datasets"),
            "EVALKIT_TEST_KEY": KEY, "PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1"}


def finished_calls(reports: Path) -> tuple[Path | None, int]:
    """The run folder and how many calls its journal holds as finished (attempt starts are not)."""
    journals = sorted(reports.glob("*/journal.jsonl")) if reports.is_dir() else []
    if not journals:
        return None, 0
    lines = journals[0].read_text(encoding="utf-8", errors="replace").splitlines()
    return journals[0].parent, sum(1 for line in lines if line.strip() and '"attempt"' not in line[:20])


def test_sigterm_mid_run_stops_resumably_and_resume_pays_nothing_twice(tmp_path):
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer(latency_s=0.25) as srv:
        suite = write_loopback_suite(tmp_path, prompt=REPO / "suites" / "prompts" / "upgrade-v1.j2",
                                     base_url=srv.openai_base_url, name="sigterm", limit=CASES, concurrency=2)
        child = subprocess.Popen([sys.executable, "-m", "evalkit.cli.main", "run", str(suite), "--quiet", "--no-cache",
                                  "--reports", str(reports)], cwd=tmp_path, env=env(home),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None and finished_calls(reports)[1] < 6:
            time.sleep(0.01)
        assert child.poll() is None, "the run ended before it could be terminated: the test would prove nothing"
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=60)

        assert child.returncode == 143, (child.returncode, out, err)
        assert "Traceback" not in err
        run_dir, done = finished_calls(reports)
        assert run_dir is not None and 6 <= done < CASES
        assert f"resume with: evalkit run --resume {run_dir.name}" in err, err
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["status"] == "stopped" and manifest["message"] == "interrupted"
        assert (run_dir / "run.lock").read_bytes() == b""  # released (an empty lock file is free)
        rows = [json.loads(line) for line in (run_dir / "journal.jsonl").read_text().splitlines()
                if line.strip() and '"attempt"' not in line[:20]]
        assert len({(r["config"], r["case_id"], r["sample_index"]) for r in rows}) == done  # whole lines, once each

        srv.reset()
        resumed = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "run", "--resume", run_dir.name,
                                  "--quiet", "--no-cache", "--reports", str(reports)], cwd=tmp_path, env=env(home),
                                 capture_output=True, text=True, timeout=300, check=False)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        # Only what was not answered is sent again: one request per call not journaled as finished.
        assert len(srv.log) == CASES - done, (len(srv.log), CASES, done)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "complete" and manifest.get("message") is None  # "interrupted" no longer holds
    assert manifest["counts"]["calls"] == CASES
