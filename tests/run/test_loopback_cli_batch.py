"""``python -m evalkit.testing`` (the loopback server users run to try evalkit offline) serves the batch
APIs with delays, partial failures, expiry, refused creations and failing polls, set on its command line:
batch mode can be tested offline without writing Python."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest
from batchhelpers import KEY, REPO, config, write_suite


@pytest.fixture()
def served():
    procs = []

    def start(*args: str) -> int:
        proc = subprocess.Popen([sys.executable, "-m", "evalkit.testing", *args],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        line = proc.stdout.readline()
        assert line.startswith("PORT "), proc.stderr.read()
        return int(line.split()[1])

    yield start
    for proc in procs:
        proc.stdin.close()  # the server stops when its stdin closes
        proc.wait(timeout=30)


def test_help_lists_the_batch_options():
    out = subprocess.run([sys.executable, "-m", "evalkit.testing", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for option in ("--batch-delay", "--batch-fail-rate", "--batch-expire", "--batch-refuse", "--batch-poll-errors"):
        assert option in out


def test_a_bad_batch_option_is_refused():
    done = subprocess.run([sys.executable, "-m", "evalkit.testing", "--batch-fail-rate", "1.5"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 2 and "--batch-fail-rate" in done.stderr


def test_batch_mode_against_the_cli_server_with_delay_failures_and_expiry(tmp_path, served, monkeypatch):
    from evalkit.pipeline import RunRequest, run_suite

    monkeypatch.setenv("EVALKIT_TEST_KEY", KEY)
    monkeypatch.setenv("EVALKIT_HOME", str(tmp_path / "home"))
    port = served("--batch-delay", "0.3", "--batch-fail-rate", "0.2", "--batch-expire", "0", "--batch-refuse", "1")
    base = f"http://127.0.0.1:{port}"
    configs = (config("oai", "openai", "gpt-4o-mini", base + "/v1")
               + config("ant", "anthropic", "claude-haiku-4-5", base))
    suite = write_suite(tmp_path, configs, name="offline", execution=", batch_max_requests: 20, max_error_share: 1.0")
    outcome = run_suite(RunRequest(suite_path=suite, reports=tmp_path / "reports", datasets=REPO / "datasets",
                                   progress=False, cache_mode="off", limit=40))
    with urllib.request.urlopen(base + "/_batches", timeout=10) as answer:
        counts = json.loads(answer.read())
    assert counts["created"] == {"openai": 2, "anthropic": 2} and counts["refused"] == {"openai": 1, "anthropic": 1}
    report = outcome.manifest["execution"]
    assert report["expired_lines"] == 2 * 10  # each API's first batch of 20 expired half-done
    assert 0 < report["failed_lines"] < 2 * 30 * 0.5
    assert report["fallback_calls"] == report["expired_lines"] + report["failed_lines"]
    assert len(outcome.scores) == 80
