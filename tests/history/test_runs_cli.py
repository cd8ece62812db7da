"""`evalkit runs list|query|rm|prune`: full ids, --json, prefix matching, SQL views, safe removal."""

from __future__ import annotations

import fcntl
import json

import pytest
from histhelpers import write_suite
from typer.testing import CliRunner

from evalkit.cli.main import app

RULES = """  - name: rules
    provider: rules
    model: written-policy
    prompt: prompts/upgrade-v1.j2
"""


@pytest.fixture()
def three_runs(tmp_path, tiny_store):
    from evalkit.pipeline import RunRequest, run_suite

    reports = tmp_path / "reports"
    runs = []
    for name in ("alpha", "alpha", "beta"):
        suite = write_suite(tmp_path, RULES, name=name)
        runs.append(run_suite(RunRequest(suite_path=suite, reports=reports, datasets=tiny_store, progress=False,
                                         fresh=True)))
    return reports, runs


def cli(*args: str, columns: int = 80):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns), "NO_COLOR": "1"})


def test_list_shows_full_ids_at_80_columns_and_json(three_runs):
    reports, runs = three_runs
    out = cli("runs", "list", "--reports", str(reports))
    assert out.exit_code == 0, out.output
    for line in out.output.splitlines():
        assert len(line) <= 80
    for run in runs:
        assert run.run_id in out.output  # the whole id, on one line, copyable
    data = json.loads(cli("runs", "list", "--reports", str(reports), "--json").output)
    assert [d["run_id"] for d in data] == [r.run_id for r in reversed(runs)]  # newest first
    assert {d["status"] for d in data} == {"complete"}
    beta = json.loads(cli("runs", "list", "--reports", str(reports), "--json", "--suite", "beta").output)
    assert [d["run_id"] for d in beta] == [runs[2].run_id]


def test_query_exposes_runs_configs_scores_results_views(three_runs):
    reports, runs = three_runs
    out = cli("runs", "query", "--json", "--reports", str(reports),
              "SELECT r.suite, count(*) AS n, count(DISTINCT s.run_id) AS runs FROM scores s "
              "JOIN runs r USING (run_id) GROUP BY r.suite ORDER BY r.suite")
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    expected = {"alpha": sum(len(r.scores) for r in runs[:2]), "beta": len(runs[2].scores)}
    assert {row["suite"]: row["n"] for row in rows} == expected
    assert [row["runs"] for row in rows] == [2, 1]
    calls = json.loads(cli("runs", "query", "--json", "--reports", str(reports),
                           "SELECT count(*) AS n FROM results JOIN run_configs USING (run_id, config) "
                           "WHERE provider = 'rules'").stdout)
    assert calls[0]["n"] == sum(len(r.scores) for r in runs)
    bad = cli("runs", "query", "--reports", str(reports), "SELECT nope FROM scores")
    assert bad.exit_code == 2 and "query failed" in bad.output


def test_query_on_an_empty_folder_still_binds(tmp_path):
    out = cli("runs", "query", "--json", "--reports", str(tmp_path), "SELECT count(*) AS n, count(error_class) AS e FROM scores")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == [{"n": 0, "e": 0}]


def test_rm_by_prefix_and_refusals(three_runs):
    reports, runs = three_runs
    target = runs[2]
    prefix = target.run_id[: len(target.run_id) - 3]
    ambiguous = target.run_id[:8]  # the date: every run shares it
    assert cli("runs", "rm", ambiguous, "--reports", str(reports)).exit_code == 2
    # a run whose manifest says running is refused (the process may still be at work)...
    manifest = json.loads((target.run_dir / "manifest.json").read_text())
    (target.run_dir / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    refused = cli("runs", "rm", prefix, "--reports", str(reports))
    assert refused.exit_code == 2 and "running" in refused.output and target.run_dir.exists()
    # ...and a run whose lock another process holds is refused even with --force
    with open(target.run_dir / "run.lock", "w") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        held = cli("runs", "rm", prefix, "--force", "--reports", str(reports))
        assert held.exit_code == 2 and "run.lock" in held.output and target.run_dir.exists()
    gone = cli("runs", "rm", prefix, "--force", "--reports", str(reports))
    assert gone.exit_code == 0, gone.output
    assert not target.run_dir.exists() and runs[0].run_dir.exists()
    assert cli("runs", "rm", "nonexistent-run", "--reports", str(reports)).exit_code != 0


def test_prune_keeps_the_newest_per_suite(three_runs):
    reports, runs = three_runs
    dry = json.loads(cli("runs", "prune", "--keep", "1", "--dry-run", "--json", "--reports", str(reports)).stdout)
    assert [d["run_id"] for d in dry["removed"]] == [runs[0].run_id]
    assert runs[0].run_dir.exists()
    out = cli("runs", "prune", "--keep", "1", "--reports", str(reports))
    assert out.exit_code == 0, out.output
    left = sorted(p.name for p in reports.iterdir() if (p / "manifest.json").exists())
    assert left == sorted([runs[1].run_id, runs[2].run_id])
