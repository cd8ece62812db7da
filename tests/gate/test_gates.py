from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from evalkit.errors import ConfigError
from evalkit.gate import GatesSection, evaluate_gates, parse_gates, write_gate_outputs
from evalkit.testing import write_synthetic_run

N_SMALL = 1800
DROP_GATE = [{"kind": "max_good_rate_drop", "max_drop": 0.02}]
ALL_GATES = DROP_GATE + [
    {"kind": "min_good_rate", "min": 0.5, "per_segment": True},
    {"kind": "max_invalid_share", "max": 0.05},
    {"kind": "max_cost_p95_increase", "max_increase": 0.2},
    {"kind": "max_calibration_error", "max_ece": 0.2},
    {"kind": "min_automation_rate", "min": 0.3},
]


def _copy(run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(run, tmp_path / run.name))


def test_planted_segment_drop_fails_naming_the_segment(runs, tmp_path):
    cand = _copy(runs["drop"], tmp_path)
    report = evaluate_gates(cand, parse_gates(ALL_GATES), baseline_dir=runs["base"])
    assert not report.passed
    failed = report.failed
    assert [r.kind for r in failed] == ["max_good_rate_drop"]
    assert failed[0].segments == ("legacy_discount",)
    assert "legacy_discount" in failed[0].message
    assert failed[0].observed.value > 0.1  # the drop, in rate units

    paths = write_gate_outputs(report, cand)
    root = ET.parse(paths["junit.xml"]).getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == len(ALL_GATES)
    failures = root.findall(".//testcase/failure")
    assert len(failures) == 1 and "legacy_discount" in failures[0].get("message")
    assert root.find("testsuite").get("failures") == "1"
    md = paths["summary.md"].read_text()
    assert "FAILED" in md and "`legacy_discount`" in md
    doc = json.loads(paths["gates.json"].read_text())
    assert doc["passed"] is False and doc["n_failed"] == 1
    assert doc["results"][0]["segments"] == ["legacy_discount"]


def test_noise_only_differences_pass(runs):
    report = evaluate_gates(runs["noise"], parse_gates(ALL_GATES), baseline_dir=runs["base"])
    assert report.passed, [r.message for r in report.failed]
    drop = report.results[0]
    # The noise did move some segment by more than the 2-point limit: only significance saves it.
    assert any(-d["diff"] > 0.02 for d in drop.details)
    assert all(not d["significant"] for d in drop.details)


def test_unadjusted_test_would_be_stricter_than_holm(runs):
    holm = evaluate_gates(runs["noise"], parse_gates(DROP_GATE), baseline_dir=runs["base"]).results[0]
    raw = evaluate_gates(runs["noise"], parse_gates([{**DROP_GATE[0], "correction": "none"}]),
                         baseline_dir=runs["base"]).results[0]
    by_seg = {d["segment"]: d for d in raw.details}
    for d in holm.details:
        assert d["p_adjusted"] >= by_seg[d["segment"]]["p_value"] - 1e-12


def test_baseline_gates_skip_without_a_baseline(runs):
    report = evaluate_gates(runs["drop"], parse_gates(DROP_GATE + [ALL_GATES[3]]))
    assert report.passed
    assert [r.status for r in report.results] == ["skip", "skip"]


def test_min_good_rate_per_segment_names_failing_segments(runs):
    report = evaluate_gates(runs["base"], parse_gates([{"kind": "min_good_rate", "min": 0.7, "per_segment": True}]))
    r = report.results[0]
    assert r.status == "fail"
    assert "undocumented_exception" in r.segments and "routine" not in r.segments
    assert r.observed.n == 300 and r.observed.lo < r.observed.value < r.observed.hi


def test_min_good_rate_lower_bound_is_stricter(runs):
    point = evaluate_gates(runs["base"], parse_gates([{"kind": "min_good_rate", "min": 0.71}])).results[0]
    lower = evaluate_gates(runs["base"], parse_gates([{"kind": "min_good_rate", "min": 0.71, "bound": "lower"}]))
    assert point.passed and not lower.results[0].passed


def test_invalid_share_gate(runs):
    r = evaluate_gates(runs["base"], parse_gates([{"kind": "max_invalid_share", "max": 0.001}])).results[0]
    assert r.status == "fail" and r.observed.value > 0.001 and r.segments


def test_unknown_cost_fails_or_skips(tmp_path, runs):
    unk = write_synthetic_run(tmp_path / "unk", run_id="unk", configs={"prod": {"unknown_cost": True}}, n_cases=120)
    gate = {"kind": "max_cost_p95_increase", "max_increase": 0.2}
    r = evaluate_gates(unk, parse_gates([gate]), baseline_dir=runs["base"]).results[0]
    assert r.status == "fail" and "unknown" in r.message
    r = evaluate_gates(unk, parse_gates([{**gate, "on_unknown": "skip"}]), baseline_dir=runs["base"]).results[0]
    assert r.status == "skip"


def test_cost_increase_detected(tmp_path, runs):
    pricey = write_synthetic_run(tmp_path / "pricey", run_id="pricey", configs={"prod": {"cost_scale": 1.5}},
                                 n_cases=N_SMALL)
    r = evaluate_gates(pricey, parse_gates([{"kind": "max_cost_p95_increase", "max_increase": 0.2}]),
                       baseline_dir=runs["base"]).results[0]
    assert r.status == "fail" and r.observed.value == pytest.approx(0.5, abs=0.1)



def test_automation_gate_needs_calibration(tmp_path):
    run = write_synthetic_run(tmp_path / "nocal", run_id="nocal", configs={"prod": {}}, n_cases=60,
                              thresholds=False)
    r = evaluate_gates(run, parse_gates([{"kind": "min_automation_rate", "min": 0.1}])).results[0]
    assert r.status == "fail" and "evalkit calibrate nocal" in r.message


def test_calibration_error_gate(runs):
    ok = evaluate_gates(runs["base"], parse_gates([{"kind": "max_calibration_error", "max_ece": 0.3}])).results[0]
    bad = evaluate_gates(runs["base"], parse_gates([{"kind": "max_calibration_error", "max_ece": 0.01}])).results[0]
    assert ok.passed and not bad.passed
    assert ok.observed.lo <= ok.observed.value <= ok.observed.hi


def test_gate_specs_are_strict():
    with pytest.raises(ConfigError, match=r"gates\[0\]"):
        parse_gates([{"kind": "min_good_rate", "min": 0.5, "typo": 1}])
    with pytest.raises(ConfigError):
        parse_gates([{"kind": "no_such_gate"}])
    with pytest.raises(ConfigError, match="max_drop"):
        parse_gates([{"kind": "max_good_rate_drop", "max_drop": 2}])
    section = GatesSection.model_validate({"gates": ALL_GATES})
    assert [g.kind for g in section.gates] == [g["kind"] for g in ALL_GATES]


def test_github_step_summary_is_appended(runs, tmp_path, monkeypatch):
    summary = tmp_path / "step.md"
    summary.write_text("previous\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    report = evaluate_gates(runs["drop"], parse_gates(DROP_GATE), baseline_dir=runs["base"])
    write_gate_outputs(report, tmp_path / "out")
    text = summary.read_text()
    assert text.startswith("previous\n") and "legacy_discount" in text


def test_config_filter(runs):
    from evalkit.errors import ConfigError as CE

    with pytest.raises(CE, match="nope"):
        evaluate_gates(runs["base"], parse_gates(DROP_GATE), config="nope")
    # a gate naming a configuration neither the run nor its suite has is a typo, not a gate that
    # applies to nothing (it passed vacuously): exit 2 naming it and the known ones
    gates = parse_gates([{"kind": "min_good_rate", "min": 0.1, "configs": ["other"]}])
    with pytest.raises(CE, match=r"gates\[0\]\.configs\[0\].*'other'.*\(prod\)"):
        evaluate_gates(runs["base"], gates)


def test_raw_dicts_are_accepted_and_validated(runs):
    report = evaluate_gates(runs["base"], [{"kind": "min_good_rate", "min": 0.5}])
    assert report.passed and report.results[0].kind == "min_good_rate"
    with pytest.raises(ConfigError):
        evaluate_gates(runs["base"], [{"kind": "min_good_rate", "minimum": 0.5}])


def test_baseline_on_another_dataset_is_a_config_error(runs, tmp_path):
    import json

    other = Path(shutil.copytree(runs["noise"], tmp_path / "other"))
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["dataset"]["sha256"] = "f" * 64
    (other / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ConfigError, match="was made on dataset") as err:
        evaluate_gates(other, parse_gates(DROP_GATE), baseline_dir=runs["base"])
    # it said "Pass --allow-dataset-mismatch", an option `evalkit gate` does not have: it names what works
    assert "Pass --allow-dataset-mismatch" not in str(err.value)
    assert "--baseline RUN|PATH" in str(err.value) and "`evalkit compare " in str(err.value)


def test_ece_prefers_the_calibrate_output(runs, tmp_path):
    import json

    run = Path(shutil.copytree(runs["base"], tmp_path / "cal"))
    doc = json.loads((run / "thresholds.json").read_text())
    doc["configs"]["prod"]["metrics"] = {"raw": {"ece_width": 0.123, "ece_width_ci": [0.1, 0.15], "n": 1500}}
    (run / "thresholds.json").write_text(json.dumps(doc))
    r = evaluate_gates(run, parse_gates([{"kind": "max_calibration_error", "max_ece": 0.1}])).results[0]
    assert r.status == "fail" and r.observed.value == 0.123 and r.observed.n == 1500
    assert "thresholds.json" in r.message
    # Another bin count is not what calibrate measured: computed from the scores instead.
    r = evaluate_gates(run, parse_gates([{"kind": "max_calibration_error", "max_ece": 0.5, "bins": 15}])).results[0]
    assert r.observed.value != 0.123 and "computed" in r.message
