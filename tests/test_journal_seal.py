"""A complete run's journal is sealed: compressed in place, crash-safe at every step, still
read by resume."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from evalkit.run import read_journal
from evalkit.run._journal import JOURNAL_NAME, journal_lines, read_journal_state, seal_journal


def line(config: str, case: str, text: str = "ok") -> str:
    return json.dumps({"config": config, "case_id": case, "sample_index": 0, "cache_key": "sha256:x",
                       "status": "ok", "attempts": 1, "billed_usage": [], "cost_usd": 0.0,
                       "response": {"text": text, "usage": None, "model_version": "m", "finish_reason": "stop",
                                    "latency_s": 0.0}}, sort_keys=True)


def test_seal_keeps_every_whole_line_drops_a_torn_tail_and_removes_the_plain_file(tmp_path):
    plain = tmp_path / JOURNAL_NAME
    plain.write_text(line("a", "c1") + "\n" + line("a", "c2") + "\n" + '{"config": "a", "case_')
    before = read_journal(plain)
    sealed = seal_journal(plain)
    assert sealed == tmp_path / "journal.jsonl.gz" and not plain.exists()
    assert read_journal(plain) == before and len(before) == 2  # the torn last line was never a record
    assert gzip.decompress(sealed.read_bytes()).decode().count("\n") == 2


def test_a_crash_between_rename_and_unlink_loses_nothing_and_resealing_merges(tmp_path):
    plain = tmp_path / JOURNAL_NAME
    plain.write_text(line("a", "c1") + "\n")
    seal_journal(plain)
    plain.write_text(line("a", "c1", "again") + "\n" + line("a", "c2") + "\n")  # resumed later, or a crash
    both = read_journal(plain)
    assert set(both) == {("a", "c1", 0), ("a", "c2", 0)} and both[("a", "c1", 0)].response.text == "again"
    seal_journal(plain)
    assert not plain.exists() and read_journal(plain) == both
    assert len(list(journal_lines(plain))) == 2  # the superseded first c1 record is compacted away
    assert seal_journal(plain) == tmp_path / "journal.jsonl.gz"  # idempotent


def test_a_complete_run_has_a_sealed_journal_and_resumes_from_it(tmp_path, monkeypatch):
    from evalkit.pipeline import RunRequest, run_suite

    repo = Path(__file__).resolve().parents[1]
    req = RunRequest(suite_path=repo / "suites" / "upgrades-demo.yaml", configs=("rules", "large-v1"), limit=40,
                     reports=tmp_path / "reports", datasets=repo / "datasets", progress=False)
    first = run_suite(req)
    files = {p.name for p in first.run_dir.iterdir()}
    assert "journal.jsonl.gz" in files and "journal.jsonl" not in files
    assert len(read_journal(first.run_dir / JOURNAL_NAME)) >= 80
    again = run_suite(RunRequest(resume=first.run_id, reports=tmp_path / "reports", datasets=repo / "datasets",
                                 progress=False))
    assert again.run_dir == first.run_dir and again.manifest["status"] == "complete"
    assert again.scores.sort_values(["config", "case_id"])["good"].tolist() == \
        first.scores.sort_values(["config", "case_id"])["good"].tolist()


def attempt(config: str, case: str, n: int) -> str:
    return json.dumps({"attempt": {"key": [config, case, 0], "cache_key": "sha256:x", "n": n, "worst_usd": 0.01}})


def test_sealing_drops_only_lines_that_no_longer_say_anything(tmp_path):
    """Attempt starts followed by their record, and records a later record supersedes, go; an attempt
    after a call's last record (possibly billed, e.g. killed mid-retry) stays. The state read back is
    the same as before sealing."""
    plain = tmp_path / JOURNAL_NAME
    entries = [attempt("a", "c1", 1), line("a", "c1", "first"), attempt("a", "c1", 1), line("a", "c1", "second"),
               attempt("a", "c2", 1), attempt("a", "c2", 2), line("a", "c2"),
               attempt("a", "c3", 1), line("a", "c3"), attempt("a", "c3", 1),
               attempt("a", "c4", 1)]
    plain.write_text("\n".join(entries) + "\n")
    before = read_journal_state(plain)
    seal_journal(plain)
    after = read_journal_state(plain)
    assert after.records == before.records and after.orphans == before.orphans
    assert set(after.orphans) == {("a", "c3", 0), ("a", "c4", 0)}
    assert after.records[("a", "c1", 0)].response.text == "second"
    assert len(list(journal_lines(plain))) == 5  # c1, c2, c3 records + the c3 and c4 orphans


def test_answers_live_once_the_sealed_journal_refers_to_results_parquet(tmp_path):
    """A sealed record whose text is in results.parquet refers to it; reading fills it back in;
    a record whose text differs keeps its own; a lost results table is a clear error, not a re-send."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pytest

    from evalkit.errors import DataError

    plain = tmp_path / JOURNAL_NAME
    plain.write_text(line("a", "c1", "ANSWER-ONE") + "\n" + line("a", "c2", "ANSWER-TWO") + "\n")
    before = read_journal(plain)
    pq.write_table(pa.table({"config": ["a", "a"], "case_id": ["c1", "c2"], "sample_index": [0, 0],
                             "raw_output": ["ANSWER-ONE", "something else"]}), tmp_path / "results.parquet")
    sealed = seal_journal(plain)
    body = gzip.decompress(sealed.read_bytes()).decode()
    assert "ANSWER-ONE" not in body and "ANSWER-TWO" in body
    assert read_journal(plain) == before
    plain.write_text(line("a", "c3") + "\n")  # resumed later: re-sealing keeps every answer
    seal_journal(plain)
    assert {k: r.response.text for k, r in read_journal(plain).items()} == {
        ("a", "c1", 0): "ANSWER-ONE", ("a", "c2", 0): "ANSWER-TWO", ("a", "c3", 0): "ok"}
    (tmp_path / "results.parquet").unlink()
    with pytest.raises(DataError, match="results.parquet"):
        read_journal(plain)
