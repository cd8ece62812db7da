"""evalkit.runs: one resolver for run references, one threshold rule, typed files with JSON Schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit.errors import NotFound
from evalkit.testing._synthetic import SEGMENTS, write_synthetic_run
from evalkit.runs import (
    Thresholds,
    json_schemas,
    open_run,
    policy_for,
    resolve_baseline,
    resolve_run,
    threshold_policy,
)

REPO = Path(__file__).resolve().parents[1]
SPEC = {"name": "demo", "calibration": {"alpha": 0.1, "delta": 0.1, "bootstrap": 50, "folds": 2},
        "projection": {"volume_per_month": 1000, "mix": {s: 1 / len(SEGMENTS) for s in SEGMENTS}, "resamples": 50},
        "gates": [{"kind": "min_good_rate", "min": 0.1}]}


def _run(root: Path, name: str, created: str, status: str = "complete", suite: str = "demo") -> Path:
    path = write_synthetic_run(root / name, run_id=name, configs={"prod": {}}, n_cases=240, thresholds=False,
                               projection=False, results=False, suite_spec={**SPEC, "name": suite})
    manifest = json.loads((path / "manifest.json").read_text())
    manifest.update(created=created, status=status)
    manifest["suite"]["name"] = suite
    (path / "manifest.json").write_text(json.dumps(manifest))
    return path


@pytest.fixture
def reports(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "reports"
    monkeypatch.setenv("EVALKIT_REPORTS", str(root))
    _run(root, "20261121-090000-demo-aaaaaa", "2026-11-21T09:00:00+00:00")
    _run(root, "20261121-100000-other-bbbbbb", "2026-11-21T10:00:00+00:00", suite="other")
    _run(root, "20261121-110000-demo-cccccc", "2026-11-21T11:00:00+00:00")  # the latest complete run
    _run(root, "20261121-120000-demo-dddddd", "2026-11-21T12:00:00+00:00", status="stopped")
    # newest by name but created earliest: order is the manifest's time, not the folder name
    _run(root, "20261121-230000-demo-eeeeee", "2026-11-20T08:00:00+00:00")
    return root


def test_one_resolver_for_ids_prefixes_paths_and_latest(reports):
    latest = reports / "20261121-110000-demo-cccccc"
    assert resolve_run("latest") == latest  # skips the stopped (newer) run and the newer-named older run
    assert resolve_run("20261121-09") == reports / "20261121-090000-demo-aaaaaa"
    assert resolve_run(str(latest)) == latest and open_run(latest).run_id == latest.name
    with pytest.raises(NotFound, match="ambiguous"):
        resolve_run("20261121-1")
    with pytest.raises(NotFound, match="not found"):
        resolve_run("nope")
    # --baseline latest: the newest earlier complete run of the same suite, never the run itself
    assert resolve_baseline("latest", latest) == reports / "20261121-090000-demo-aaaaaa"
    other = reports / "20261121-100000-other-bbbbbb"
    with pytest.raises(NotFound, match="suite 'other'"):
        resolve_baseline("latest", other)


def test_calibrate_project_report_and_gate_latest_resolve_the_same_run(reports):
    from evalkit.cli.main import app

    runner = CliRunner()
    outputs = {"calibrate": "thresholds.json", "project": "projection.json", "report": "report.html",
               "gate": "gates.json"}
    for command, produced in outputs.items():
        res = runner.invoke(app, [command, "latest"])
        assert res.exit_code == 0, f"{command}: {res.output}"
        written = sorted(p.parent.name for p in reports.glob(f"*/{produced}"))
        assert written == ["20261121-110000-demo-cccccc"], (command, written)


def test_committed_schemas_match_the_models():
    for name, schema in json_schemas().items():
        path = REPO / "docs" / "schemas" / name.replace(".json", ".schema.json")
        assert path.is_file() and json.loads(path.read_text()) == schema, \
            f"{path} is stale: python -c 'from evalkit.runs import write_schemas; write_schemas(\"docs/schemas\")'"


def test_policy_for_is_the_one_segment_rule():
    doc = Thresholds.model_validate({"mode": "per_segment", "configs": {"a": {
        "threshold": None, "segments": {"routine": {"threshold": 0.6, "certified": True},
                                        "legacy": {"threshold": None, "certified": False}}}}})
    assert policy_for(doc, "a", "routine") == 0.6
    assert policy_for(doc, "a", "legacy") is None  # uncertified: escalated
    assert policy_for(doc, "a", "unseen") is None  # falls back to the config threshold
    assert threshold_policy(doc, "a").segmented
    glob = Thresholds.model_validate({"mode": "global", "configs": {"a": {
        "threshold": 0.8, "certified": True, "segments": {"routine": {"threshold": 0.8, "certified": None}}}}})
    assert policy_for(glob, "a", "routine") == 0.8 and policy_for(glob, "a", "legacy") == 0.8
    assert not threshold_policy(glob, "a").segmented and threshold_policy(glob, "a").certified


def test_baseline_latest_has_one_meaning_before_and_after_a_run(tmp_path):
    """`evalkit run --baseline latest` checks before paying (pipeline.check_baseline), a sequential run
    picks its baseline, and the gate resolves it after the run: all through evalkit.runs.latest_run."""
    import json as _json

    from evalkit.errors import NotFound
    from evalkit.runs import latest_run, resolve_baseline

    def run(name: str, suite: str, created: str, status: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "manifest.json").write_text(_json.dumps(
            {"run_id": name, "created": created, "status": status, "suite": {"name": suite}}))
        return folder

    old = run("a-old", "s", "2026-11-01T00:00:00+00:00", "complete")
    new = run("b-new", "s", "2026-11-02T00:00:00+00:00", "complete")
    run("c-stopped", "s", "2026-11-03T00:00:00+00:00", "stopped")
    run("d-other", "t", "2026-11-04T00:00:00+00:00", "complete")
    assert latest_run(tmp_path, suite="s") == new
    judged = run("e-judged", "s", "2026-11-05T00:00:00+00:00", "complete")
    assert resolve_baseline("latest", judged) == new  # the same run, seen from the run being judged
    assert resolve_baseline("latest", new) == old
    with pytest.raises(NotFound):
        latest_run(tmp_path, suite="nope")
