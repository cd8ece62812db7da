"""Answers cut at ``max_tokens`` are counted per configuration in summary.json and shown in the run's
console summary and its HTML report, and a merge of shards sums the shards' counts. Real openai SDK over real HTTP to
a loopback server whose model stops half the answers at the output cap."""

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
KEY = "sk-test-truncated-0000"


def responder(request: ModelRequest) -> ModelResponse:
    """The simulated model; about half the prompts (by their hash) are cut at the output cap."""
    answer = sim_respond(request)
    if hash_of(request.messages[-1].content) % 2 == 0:
        return answer.model_copy(update={"text": answer.text[: len(answer.text) // 2], "finish_reason": "length"})
    return answer


def hash_of(text: str) -> int:
    import hashlib

    return hashlib.sha256(text.encode()).digest()[0]


def evalkit(args: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "EVALKIT_HOME": str(home), "EVALKIT_DATASETS": str(REPO / "datasets"),
           "EVALKIT_TEST_KEY": KEY, "PYTHONPATH": str(REPO / "src"), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "evalkit.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_cut_answers_are_counted_warned_and_merged(tmp_path):
    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer(responder=responder) as srv:
        suite = write_loopback_suite(tmp_path, prompt=REPO / "suites" / "prompts" / "upgrade-v1.j2",
                                     base_url=srv.openai_base_url, name="cut", limit=8)
        proc = evalkit(["run", str(suite), "--no-gates", "--reports", str(reports)], tmp_path, home)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        (run_dir,) = [d for d in reports.iterdir() if d.is_dir()]
        results = pd.read_parquet(run_dir / "results.parquet")
        n_cut = int(results["truncated"].sum())
        assert 0 < n_cut < len(results), "the responder cuts some answers, not all"
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["truncated"] == {"served": n_cut}
        noun = "answers were" if n_cut != 1 else "answer was"
        assert f"served: {n_cut} {noun} cut at max_tokens; raise max_tokens" in " ".join(proc.stdout.split())
        (page,) = run_dir.glob("*.html")
        said = " ".join(page.read_text(encoding="utf-8").split())
        assert "answers cut at max_tokens" in said and f"served {n_cut}." in said

        shards = []
        for i in (1, 2):
            shard = evalkit(["run", str(suite), "--no-gates", "--quiet", "--shard", f"{i}/2",
                             "--reports", str(tmp_path / f"shard{i}")], tmp_path, home)
            assert shard.returncode == 0, shard.stdout + shard.stderr
            (d,) = [p for p in (tmp_path / f"shard{i}").iterdir() if p.is_dir()]
            shards.append(d)
        counts = [json.loads((d / "summary.json").read_text()).get("truncated", {}).get("served", 0) for d in shards]
        merged = evalkit(["merge", *map(str, shards), "--quiet", "--reports", str(tmp_path / "merged")],
                         tmp_path, home)
        assert merged.returncode == 0, merged.stdout + merged.stderr
        (m,) = [p for p in (tmp_path / "merged").iterdir() if p.is_dir()]
        assert json.loads((m / "summary.json").read_text())["truncated"] == {"served": sum(counts)}
        assert sum(counts) == n_cut  # the same cases, answered the same way (the cache serves them)
