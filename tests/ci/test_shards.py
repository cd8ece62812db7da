"""Shards for CI matrices: a deterministic, segment-stratified split, and `evalkit merge`
that scores and gates the parts as if the run had been made at once."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from typer.testing import CliRunner

from evalkit.cli.main import app
from evalkit.errors import ConfigError
from evalkit.pipeline import RunRequest, run_suite
from evalkit.pipeline import post_run
from evalkit.run._select import parse_shard, shard_of, stratified_order

REPO = Path(__file__).resolve().parents[2]
NO_LEGACY = {"configs.candidate.prompt": "prompts/upgrade-v1-no-legacy.j2"}
BASELINE = str(REPO / "suites" / "baselines" / "upgrades-ci")


def _cases(n: int = 1000):
    segs = ["a"] * (n // 2) + ["b"] * (n // 3) + ["c"] * (n - n // 2 - n // 3)
    return [SimpleNamespace(case_id=f"case-{i:05d}", segment=s) for i, s in enumerate(segs)]


def test_shards_partition_every_segment_evenly_and_deterministically():
    cases = _cases()
    owner = shard_of(cases, count=3, seed=7)
    assert owner == shard_of(list(reversed(cases)), count=3, seed=7)  # independent of input order
    assert set(owner.values()) == {1, 2, 3}
    for seg in "abc":
        sizes = Counter(owner[c.case_id] for c in cases if c.segment == seg)
        assert max(sizes.values()) - min(sizes.values()) <= 1
    sizes = Counter(owner.values())
    assert max(sizes.values()) - min(sizes.values()) <= 1
    assert shard_of(cases, count=3, seed=8) != owner  # the seed matters


def test_stratified_order_keeps_segment_shares_in_every_prefix():
    cases = _cases(1200)
    order = stratified_order(cases, seed=3)
    assert sorted(order) == sorted(c.case_id for c in cases) and order == stratified_order(cases, seed=3)
    seg = {c.case_id: c.segment for c in cases}
    for k in (60, 300, 600):
        share_a = sum(seg[c] == "a" for c in order[:k]) / k
        assert abs(share_a - 0.5) <= 2 / k + 1e-9


def test_shard_option_is_validated():
    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "x", "1/0", "1-3"):
        with pytest.raises(ConfigError):
            parse_shard(bad)


def _run(tmp_path: Path, shard=None):
    outcome = run_suite(RunRequest(suite_path=REPO / "suites" / "upgrades-ci.yaml", limit=300, shard=shard,
                                   reports=tmp_path / "reports", datasets=REPO / "datasets", progress=False,
                                   overrides=NO_LEGACY))
    post_run(outcome, baseline=BASELINE, verbose=False)
    return outcome.run_dir


def _gates(run_dir: Path):
    doc = json.loads((run_dir / "gates.json").read_text())
    return [(r["name"], r["config"], r["status"], r["segments"], r["observed"]) for r in doc["results"]]


def test_merging_three_shards_equals_one_unsharded_run(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    whole = _run(tmp_path)
    shards = [_run(tmp_path, (i, 3)) for i in (1, 2, 3)]
    sizes = [len(pd.read_parquet(s / "scores.parquet")) for s in shards]
    assert sum(sizes) == 300 and max(sizes) - min(sizes) <= 1

    res = CliRunner().invoke(app, ["merge", *map(str, shards), "--baseline", BASELINE, "--reports",
                                   str(tmp_path / "merged"), "--quiet"])
    assert res.exit_code == 1, res.output  # the clause-dropping prompt fails, as in the unsharded run
    merged = next((tmp_path / "merged").iterdir())
    a = pd.read_parquet(whole / "scores.parquet").drop(columns="run_id")
    b = pd.read_parquet(merged / "scores.parquet").drop(columns="run_id")
    pd.testing.assert_frame_equal(a, b)
    assert _gates(merged) == _gates(whole)
    assert json.loads((merged / "summary.json").read_text()) == json.loads((whole / "summary.json").read_text())
    manifest = json.loads((merged / "manifest.json").read_text())
    assert [m["shard"] for m in manifest["merged_from"]] == [[1, 3], [2, 3], [3, 3]]
    assert manifest["counts"]["cases"] == 300 and (merged / "report.html").is_file()
    assert manifest["status"] == "complete"
    # A merge killed before its report is written stays "evaluating"; merging again redoes it from the
    # shards instead of leaving the unfinished folder beside the new one.
    (merged / "manifest.json").write_text(json.dumps({**manifest, "status": "evaluating"}))
    (merged / "report.html").unlink()
    res = CliRunner().invoke(app, ["merge", *map(str, shards), "--baseline", BASELINE, "--reports",
                                   str(tmp_path / "merged"), "--quiet"])
    assert res.exit_code == 1, res.output
    (again,) = list((tmp_path / "merged").iterdir())
    assert json.loads((again / "manifest.json").read_text())["status"] == "complete"
    assert (again / "report.html").is_file()
    merged = again
    # The merged run carries every shard's journal records, answers included (sealed, referring to its results).
    from evalkit.run import JOURNAL_NAME, read_journal
    calls = {k: r.response.text for k, r in read_journal(whole / JOURNAL_NAME).items() if r.response}
    assert {k: r.response.text for k, r in read_journal(merged / JOURNAL_NAME).items() if r.response} == calls

    # Two shards only: refused unless asked; the same shard twice: refused.
    res = CliRunner().invoke(app, ["merge", str(shards[0]), str(shards[1]), "--reports", str(tmp_path / "m2")])
    assert res.exit_code == 2 and "3/3" in res.output
    res = CliRunner().invoke(app, ["merge", str(shards[0]), str(shards[0]), "--reports", str(tmp_path / "m3")])
    assert res.exit_code == 2
    # A merge comes after the shards it joins (`latest`, `runs list` and `prune` order runs by `created`),
    # and each shard's own time is kept.
    shard_times = [json.loads((s / "manifest.json").read_text())["created"] for s in shards]
    doc = json.loads((merged / "manifest.json").read_text())
    assert doc["created"] >= max(shard_times) and [m["created"] for m in doc["merged_from"]] == shard_times
    # A partial merge says so above its numbers and is never blessed as a baseline.
    res = CliRunner().invoke(app, ["merge", str(shards[0]), str(shards[1]), "--allow-partial", "--reports",
                                   str(tmp_path / "m4")], env={"COLUMNS": "200"})
    assert res.exit_code in (0, 1) and "partial merge: shards 1, 2 of 3 only" in res.output, res.output
    partial = next((tmp_path / "m4").iterdir())
    res = CliRunner().invoke(app, ["runs", "bless", str(partial), str(tmp_path / "bless-partial")])
    assert res.exit_code == 2 and "partial merge" in res.output and not (tmp_path / "bless-partial").exists()
