"""Calibration runs never clobber: `calibrate --alpha 0.2` writes its own set; project and report name the set."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ALT = "alpha0.2-delta0.05-per_segment"


@pytest.mark.timeout(1200)  # runs the demo suite when no other test has yet (session fixture)
def test_calibrate_alpha_then_project_and_report_name_the_set(demo_report, demo_home, tmp_path, evalkit_cli):
    run = Path(shutil.copytree(demo_report, tmp_path / demo_report.name,
                               ignore=shutil.ignore_patterns("journal.jsonl", "report.html")))
    original = (run / "thresholds.json").read_bytes()
    configs = set(json.loads(original)["configs"])

    res = evalkit_cli(["calibrate", str(run), "--alpha", "0.2"], home=demo_home)
    assert res.returncode == 0, res.stderr
    assert f"threshold set: {ALT} (alpha=0.2, delta=0.05, per_segment" in res.stdout
    assert (run / "thresholds.json").read_bytes() == original  # the suite's set is still there, untouched
    alt = json.loads((run / "thresholds" / f"{ALT}.json").read_text())
    assert alt["name"] == ALT and alt["alpha"] == 0.2 and set(alt["configs"]) == configs

    # Re-calibrating one configuration merges into the set instead of dropping the others.
    res = evalkit_cli(["calibrate", str(run), "--alpha", "0.2", "--config", "large-v1"], home=demo_home)
    assert res.returncode == 0, res.stderr
    assert set(json.loads((run / "thresholds" / f"{ALT}.json").read_text())["configs"]) == configs
    assert "other threshold sets kept: suite" in res.stdout

    # project: the suite's set by default, named; another set on request, named and recorded.
    res = evalkit_cli(["project", str(run)], home=demo_home)
    assert res.returncode == 0, res.stderr
    assert "threshold set: suite (alpha=0.05, delta=0.05, per_segment" in res.stdout.replace("\n", " ")
    proj = json.loads((run / "projection.json").read_text())
    assert proj["threshold_set"]["name"] == "suite"
    # Thresholds certified on this very run: the projection measures its optimism by cross-fitting.
    # (a configuration that automates something: with nothing automated there is no error rate to be optimistic about)
    automating = [c for c, b in proj["configs"].items() if (b.get("automated_error_rate") or {}).get("value") is not None]
    assert automating, proj["configs"].keys()
    opt = proj["configs"][automating[0]]["same_run_optimism"]
    assert opt["in_sample_error_rate"]["value"] == pytest.approx(
        proj["configs"][automating[0]]["automated_error_rate"]["value"])
    assert opt["cross_fitted_error_rate"]["n"] >= 100 and opt["optimism"] is not None
    page = tmp_path / "suite.html"
    evalkit_cli(["report", str(run), "-o", str(page)], home=demo_home)
    assert "cross-fitted automated error" in page.read_text() and "optimism" in page.read_text()
    res = evalkit_cli(["project", str(run), "--threshold-set", ALT], home=demo_home)
    assert res.returncode == 0, res.stderr
    assert f"threshold set: {ALT} (alpha=0.2" in res.stdout.replace("\n", " ")
    assert json.loads((run / "projection.json").read_text())["threshold_set"]["name"] == ALT

    # report: shows the set the projection applied, names it (console and page), lists the other.
    out = tmp_path / "r.html"
    res = evalkit_cli(["report", str(run), "-o", str(out)], home=demo_home)
    assert res.returncode == 0, res.stderr
    assert f"threshold set ({run.name}): {ALT} (alpha=0.2" in res.stderr
    html = out.read_text()
    assert f"{ALT} (alpha=0.2, delta=0.05, per_segment" in html and "other sets: suite" in html
    assert "applies threshold set " + ALT in html
    # ... and the suite's set when asked.
    res = evalkit_cli(["report", str(run), "-o", str(out), "--threshold-set", "suite"], home=demo_home)
    assert "threshold set" in res.stderr and "suite (alpha=0.05" in res.stderr
    assert (run / "thresholds.json").read_bytes() == original
