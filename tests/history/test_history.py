"""`evalkit runs history` on 5 runs of the demo suite, each with a different prompt: the trend
per segment, with intervals, as a table, JSON and an HTML page with a chart."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from histhelpers import REPO
from typer.testing import CliRunner

from evalkit.cli.main import app

PROMPTS = ("upgrade-v1.j2", "upgrade-v1-no-legacy.j2", "upgrade-v1-reworded.j2", "upgrade-v2-playbook.j2")


@pytest.fixture(scope="module")
def five_demo_runs(tmp_path_factory):
    from evalkit.calibrate import calibrate_run
    from evalkit.pipeline import RunRequest, run_suite
    from evalkit.suite import Suite

    base = tmp_path_factory.mktemp("history")
    reports = base / "reports"
    fifth = base / "upgrade-v1-terse.j2"  # a fifth prompt: v1 plus one line
    fifth.write_text((REPO / "suites" / "prompts" / "upgrade-v1.j2").read_text() + "\nBe brief.\n")
    prompts = [str(REPO / "suites" / "prompts" / p) for p in PROMPTS] + [str(fifth)]
    outcomes = []
    for prompt in prompts:
        outcome = run_suite(RunRequest(
            suite_path=REPO / "suites" / "upgrades-demo.yaml", configs=("large-v1",), limit=96, reports=reports,
            datasets=REPO / "datasets", progress=False, fresh=True,
            # upgrades@v1 (kept, immutable): its legacy segment is single-family, so 96 cases show the trend.
            overrides={"configs.large-v1.prompt": prompt, "scoring.judge": None, "calibration.mode": "global",
                       "dataset": "upgrades@v1"}))
        suite = Suite.model_validate(outcome.manifest["suite"]["spec"])
        calibrate_run(outcome.run_dir, spec=suite.calibration, economics=suite.economics)
        outcomes.append(outcome)
    return reports, outcomes


def test_history_shows_the_trend_per_segment_with_intervals(five_demo_runs):
    reports, outcomes = five_demo_runs
    result = CliRunner().invoke(app, ["runs", "history", "--config", "large-v1", "--reports", str(reports), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["runs"] == [o.run_id for o in outcomes]  # oldest first
    segments = {p["segment"] for p in data["points"]}
    assert {"ALL", "legacy_pricing", "routine"} <= segments
    assert len(data["points"]) == 5 * len(segments)
    for p in data["points"]:
        for key in ("good", "automation", "cost_per_case_usd"):
            r = p[key]
            assert r is not None and r["n"] > 0
            assert r["lo"] <= r["value"] <= r["hi"]
    versions = {p["run_id"]: p["prompt_version"] for p in data["points"]}
    assert len(set(versions.values())) == 5  # five different prompts
    # The trend is real: dropping the legacy-pricing clause hurts exactly that segment.
    legacy = {p["run_id"]: p["good"] for p in data["points"] if p["segment"] == "legacy_pricing"}
    v1, no_legacy = legacy[outcomes[0].run_id], legacy[outcomes[1].run_id]
    assert no_legacy["hi"] < v1["lo"]
    # Each point agrees with the run's own scores table.
    s = outcomes[1].scores
    rows = s[(s["segment"] == "routine")]
    routine = next(p for p in data["points"] if p["run_id"] == outcomes[1].run_id and p["segment"] == "routine")
    assert routine["good"]["n"] == len(rows)
    assert routine["good"]["value"] == pytest.approx(float((rows["good"] & (rows["status"] == "ok")).mean()))

    page = Path(data["page"]).read_text()
    assert page.count("<tr>") >= len(segments) and "data:image/png;base64," in page
    assert "simulated" in page

    table = CliRunner().invoke(app, ["runs", "history", "-c", "large-v1", "--reports", str(reports)],
                               env={"COLUMNS": "120"})
    assert table.exit_code == 0, table.output
    assert "legacy_pricing" in table.output and re.search(r"\d+% \[\d+%, \d+%\] n=\d+", table.output)
    assert "#5" in table.output


def test_history_page_escapes_run_content():
    from evalkit.history import History, Rate, RunEntry, TrendPoint, history_html

    evil = "<script>alert(1)</script>"
    run = RunEntry(run_id=evil, path=Path("/x"), status="complete", suite=evil, dataset=None, configs=(evil,),
                   cases=1, created=None, simulated=False, execution="direct")
    rate = Rate(value=0.5, lo=0.1, hi=0.9, n=2)
    point = TrendPoint(run_id=evil, folder="x", run_kind="run", created=None, prompt=evil, prompt_version=evil, model=evil, simulated=False,
                       segment=evil, good=rate, automation=None, cost=None)
    page = history_html(History(suite=evil, config=evil, runs=[run], points=[point]))
    assert "<script>" not in page and "&lt;script&gt;" in page
    other = RunEntry(run_id="r2", path=Path("/y"), status="complete", suite=evil, dataset=None, configs=(evil,),
                     cases=1, created=None, simulated=False, execution="direct")
    page = history_html(History(suite=evil, config=evil, runs=[run, other], points=[point],
                                datasets={"x": evil, "y": "upgrades@v1"}))  # a dataset name, and the warning
    assert "<script>" not in page and "the trend mixes datasets: &lt;script&gt;" in page


def test_history_without_matching_runs_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(app, ["runs", "history", "--config", "nope", "--reports", str(tmp_path)])
    assert result.exit_code == 2 and "no complete run" in result.output


def test_runs_are_listed_through_the_typed_manifest_and_bad_ones_say_why(five_demo_runs, tmp_path):
    import shutil

    _, outcomes = five_demo_runs
    root = tmp_path / "reports"
    shutil.copytree(outcomes[0].run_dir, root / outcomes[0].run_id)
    (root / "torn").mkdir()
    (root / "torn" / "manifest.json").write_text('{"run_id": "torn", ')
    (root / "foreign").mkdir()
    (root / "foreign" / "manifest.json").write_text('{"run_id": "foreign", "surprise": 1}')
    listed = CliRunner().invoke(app, ["runs", "list", "--reports", str(root), "--json"])
    assert listed.exit_code == 0, listed.output
    by_id = {e["run_id"]: e for e in json.loads(listed.stdout)}
    assert by_id[outcomes[0].run_id]["status"] == "complete" and by_id[outcomes[0].run_id]["configs"] == ["large-v1"]
    assert by_id["torn"]["status"] == by_id["foreign"]["status"] == "unreadable"
    assert "manifest.json" in by_id["torn"]["problem"] and "surprise" in by_id["foreign"]["problem"]
    table = CliRunner().invoke(app, ["runs", "list", "--reports", str(root)], env={"COLUMNS": "200"})
    assert "foreign: " in table.output and "surprise" in table.output  # the table says why too
    query = CliRunner().invoke(app, ["runs", "query", "--reports", str(root), "--json",
                                     "SELECT run_id, calls, json_extract(manifest, '$.counts.calls') AS c FROM runs"])
    assert query.exit_code == 0, query.output
    rows = {r["run_id"]: r for r in json.loads(query.stdout)}
    assert rows[outcomes[0].run_id]["calls"] == 96 and str(rows[outcomes[0].run_id]["c"]) == "96"
    assert rows["torn"]["calls"] is None


def test_a_zero_automation_rate_shows_its_upper_bound():
    """`runs history` printed automation 0 of 1500 as '0% [0%, 0%] n=1500': Wilson's upper bound is 0.26%."""
    from evalkit.history import Rate, fmt_rate
    from evalkit.stats import wilson

    e = wilson(0, 1500)
    assert fmt_rate(Rate(value=e.value, lo=e.lo, hi=e.hi, n=1500)) == "0.0% [0.0%, 0.3%] n=1500"
    assert fmt_rate(Rate(value=0.73, lo=0.71, hi=0.75, n=3000)) == "73% [71%, 75%] n=3000"


def _synthetic_history_runs(root: Path, sizes: dict[str, int], *, other: str | None = None) -> Path:
    """Runs of one suite (synthetic, one config 'prod'), oldest first; the run named ``other`` evaluated
    another dataset (other@v1)."""
    from evalkit.testing._synthetic import write_synthetic_run

    reports = root / "reports"
    for i, (run_id, n) in enumerate(sizes.items()):
        run = write_synthetic_run(reports / run_id, run_id=run_id, n_cases=n, configs={"prod": {}},
                                  thresholds=False, projection=False, results=False)
        manifest = json.loads((run / "manifest.json").read_text())
        manifest["created"] = f"2026-11-21T12:0{i}:00+00:00"
        if run_id == other:
            manifest["dataset"].update(ref="other@v1", name="other", version="v1", sha256="cd" * 32)
        (run / "manifest.json").write_text(json.dumps(manifest))
    return reports


def test_a_trend_over_two_datasets_names_them_and_warns(tmp_path):
    """`runs history` plotted a run on another dataset (--set dataset=other@v1) in the trend without saying so."""
    from evalkit.history import excluded_lines, history_html, run_history, run_label

    ids = ["20261121-120000-upgrades-ci-aaaa01", "20261121-120100-upgrades-ci-aaaa02",
           "20261121-120200-upgrades-ci-aaaa03"]
    reports = _synthetic_history_runs(tmp_path, dict(zip(ids, [300, 1500, 40])), other=ids[2])
    history = run_history(reports, config="prod")
    assert [history.dataset(r) for r in history.runs] == ["upgrades@v3", "upgrades@v3", "other@v1"]
    assert "dataset upgrades@v3" in run_label(history, 0) and "dataset other@v1" in run_label(history, 2)
    # the newest run is on other@v1: the two older runs are marked as not comparable with it
    assert "not the newest run's other@v1" in run_label(history, 0) and history.note(history.runs[2]) is None
    (warning,) = history.warnings
    assert "mixes datasets: upgrades@v3 (#1, #2); other@v1 (#3)" in warning
    assert excluded_lines(history) == []  # a warning is no run left out of the trend
    doc = history.to_json()
    assert [d["dataset"] for d in doc["run_details"]] == ["upgrades@v3", "upgrades@v3", "other@v1"]
    assert doc["datasets"] == ["upgrades@v3", "other@v1"] and doc["warnings"] == [warning]
    assert {p["dataset"] for p in doc["points"] if p["run_id"] == ids[2]} == {"other@v1"}
    page = history_html(history)
    assert "the trend mixes datasets" in page and "other@v1" in page.split("<table>")[1]
    assert page.count("the trend mixes datasets") == 1 and "Not in the trend" not in page
    # a chart panel is titled with the range of its runs' n, not the first run's
    assert history.panel_n("ALL") == "n=40–1500"


def test_runs_history_prints_the_mixed_dataset_warning_itself(tmp_path):
    """The CLI reached the mixed-dataset warning only through excluded_lines() (the runs left out of the
    trend); it prints History.warnings itself, once, as a `warning: ...` line on stderr."""
    ids = ["20261121-120000-upgrades-ci-cccc01", "20261121-120100-upgrades-ci-cccc02"]
    reports = _synthetic_history_runs(tmp_path, dict(zip(ids, [60, 60])), other=ids[1])
    out = CliRunner().invoke(app, ["runs", "history", "--config", "prod", "--reports", str(reports)],
                             env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert out.exit_code == 0, out.output
    warned = [line for line in out.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warned) == 1 and "the trend mixes datasets" in warned[0] and "other@v1 (#2)" in warned[0]
    assert "the trend mixes datasets" not in out.stdout


def test_one_dataset_no_warning(tmp_path):
    from evalkit.history import excluded_lines, run_history

    ids = ["20261121-120000-upgrades-ci-bbbb01", "20261121-120100-upgrades-ci-bbbb02"]
    history = run_history(_synthetic_history_runs(tmp_path, dict(zip(ids, [120, 120]))), config="prod")
    assert history.warnings == [] and excluded_lines(history) == [] and not history.notes
    assert history.panel_n("ALL") == "n=120"
