"""Model output is untrusted: an answer naming 10**30 seats (valid JSON, right shape) used to crash the run
while its scores table was built (OverflowError into int64: exit 3, internal error). It is an invalid
decision for the upgrades task now, and the core stores a value beyond int64 as missing for any task.
Real openai SDK over HTTP to a loopback model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from evalkit.providers import ModelRequest, ModelResponse, sim_respond
from evalkit.testing import LoopbackServer, write_loopback_suite

REPO = Path(__file__).resolve().parents[2]


def absurd(request: ModelRequest) -> ModelResponse:
    decision = {"action": "approve", "target_plan": "business", "seats": 10**30, "billing_cycle": "monthly",
                "message": "Done.", "confidence": 0.9}
    return sim_respond(request).model_copy(update={"text": json.dumps(decision)})


def test_an_absurd_seat_count_is_an_invalid_answer_not_a_crash(tmp_path):
    env = {**os.environ, "EVALKIT_HOME": str(tmp_path / "home"), "EVALKIT_DATASETS": str(REPO / "datasets"),
           "EVALKIT_TEST_KEY": "sk-test-absurd-0000", "PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1"}
    with LoopbackServer(responder=absurd) as srv:
        suite = write_loopback_suite(tmp_path, prompt=REPO / "suites" / "prompts" / "upgrade-v1.j2",
                                     base_url=srv.openai_base_url, name="absurd", limit=4)
        proc = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "run", str(suite), "--no-gates", "--quiet",
                               "--reports", str(tmp_path / "reports")], env=env, capture_output=True, text=True,
                              timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run_dir,) = (tmp_path / "reports").iterdir()
    scores = pd.read_parquet(run_dir / "scores.parquet")
    assert len(scores) == 4 and (scores["status"] == "invalid").all() and not scores["good"].any()
    assert scores["invalid_reason"].astype(str).str.contains("seats").all()
    assert scores["decision_seats"].isna().all()


def test_the_scores_table_stores_an_integer_beyond_int64_as_missing():
    from evalkit.score._table import _int64

    column = pd.Series([3, None, 10**30, -(10**25)], dtype=object)
    assert _int64(column).tolist()[0] == 3 and _int64(column).isna().tolist() == [False, True, True, True]
