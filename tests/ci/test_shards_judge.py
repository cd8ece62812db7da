"""`evalkit merge` keeps the LLM judge: the merged run's judge.json is the unsharded run's (agreement and
kappa on every shard's judge pairs, not an average of shards), its manifest counts the judge's calls and
spend over the shards, and its report and console show the judge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit.cli.main import app
from evalkit.pipeline import RunRequest, run_suite

REPO = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, decides: bool, shard=None) -> Path:
    overrides = {"scoring.judge": {"provider": "sim", "model": "judge"}, "scoring.judge_decides": decides}
    outcome = run_suite(RunRequest(suite_path=REPO / "suites" / "upgrades-ci.yaml", limit=240, shard=shard,
                                   reports=tmp_path / "reports", datasets=REPO / "datasets", progress=False,
                                   overrides=overrides))
    return outcome.run_dir


@pytest.mark.parametrize("decides", [False, True])
def test_merged_shards_judge_equals_unsharded_run(tmp_path, monkeypatch, decides):
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    whole = _run(tmp_path, decides)
    shards = [_run(tmp_path, decides, (i, 3)) for i in (1, 2, 3)]
    res = CliRunner().invoke(app, ["merge", *map(str, shards), "--reports", str(tmp_path / "merged")])
    assert res.exit_code in (0, 1), res.output
    (merged,) = list((tmp_path / "merged").iterdir())

    judge = json.loads((whole / "judge.json").read_text())
    assert judge["judge_vs_human"]["n"] > 0 and judge["judge_vs_human"]["kappa"] is not None
    assert judge["n_rejected_by_judge"] > 0  # under judge_decides, good no longer shows the rubric alone
    shard_kappas = [json.loads((s / "judge.json").read_text())["judge_vs_human"]["kappa"] for s in shards]
    assert judge["judge_vs_human"]["kappa"] not in shard_kappas  # pooled pairs, not one shard's
    assert json.loads((merged / "judge.json").read_text()) == judge

    def counts(run: Path) -> dict:
        return json.loads((run / "manifest.json").read_text())["counts"]

    want, got = counts(whole), counts(merged)
    assert got["judge_calls"] == want["judge_calls"] == sum(counts(s)["judge_calls"] for s in shards) > 0
    assert want["judge_spent_usd"] is not None
    assert got["judge_spent_usd"] == pytest.approx(want["judge_spent_usd"], rel=1e-9, abs=1e-12)
    for key in ("recorded_usd", "possibly_billed_attempts", "possibly_billed_usd", "unpriced_attempts"):
        assert got[key] == pytest.approx(want[key], rel=1e-9, abs=1e-12), key

    # Shown like an unsharded run's: the console's kappa line and the report's judge section.
    human = judge["judge_vs_human"]
    assert f"kappa {human['kappa']:.2f}" in " ".join(res.output.split())
    assert "LLM judge" in (merged / "report.html").read_text()


def test_merged_judge_spend_is_unknown_when_a_judging_shard_s_is():
    from evalkit.run._merge import _merged_counts

    base = {"calls": 1, "failed_calls": 0, "cache_hits": 0, "cases": 1}
    known = {**base, "judge_calls": 3, "judge_spent_usd": 0.5}
    unknown = {**base, "judge_calls": 2, "judge_spent_usd": None}
    idle = {**base, "judge_calls": 0, "judge_spent_usd": None}  # a shard whose judge made no call
    assert _merged_counts([known, unknown])["judge_spent_usd"] is None  # never 0, never a part
    assert (_merged_counts([known, idle])["judge_calls"], _merged_counts([known, idle])["judge_spent_usd"]) == (3, 0.5)
    assert (_merged_counts([idle, idle])["judge_calls"], _merged_counts([idle, idle])["judge_spent_usd"]) == (0, None)
