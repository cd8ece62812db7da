"""The verdict counts gates as evalkit.gate does: a skipped or unsettled gate is neither passed nor failed."""

from __future__ import annotations

import json
import re
from html import unescape

from evalkit.report import build_report
from evalkit.testing._synthetic import write_synthetic_run


def _gate(status: str, message: str) -> dict:
    return {"name": f"gate {status}", "kind": "min_good_rate", "config": "prod", "status": status,
            "passed": status != "fail", "limit": 0.5, "message": message}


def _verdict(tmp_path, results: list[dict], *, passed: bool, gated_baseline: str | None = None,
             page_baseline: bool = False) -> str:
    run = write_synthetic_run(tmp_path / "run", run_id="20261121-120000-ci-gate00", configs={"prod": {}},
                              n_cases=200)
    (run / "gates.json").write_text(json.dumps({
        "schema": 1, "run_id": run.name, "passed": passed, "n_gates": len(results),
        "n_failed": sum(r["status"] == "fail" for r in results), "results": results,
        **({"baseline_run_id": gated_baseline} if gated_baseline else {})}))
    base = write_synthetic_run(tmp_path / "base", run_id="20261121-110000-ci-base00", configs={"prod": {}},
                               n_cases=200) if page_baseline else None
    html = build_report([run], out=tmp_path / "r.html", baseline=base).read_text()
    section = re.search(r'<section id="verdict">.*?</section>', html, re.DOTALL).group(0)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", section)))


def test_skipped_gates_are_not_counted_as_passed(tmp_path):
    text = _verdict(tmp_path, [_gate("pass", "ok")] * 5 + [_gate("skip", "no baseline given")] * 6, passed=True)
    assert ("Stored gate result of run 20261121-120000-ci-gate00 (its own evalkit gate , date unknown, without a "
            "baseline): PASSED (11 checks: 5 passed, 0 failed, 6 skipped)") in text
    assert "11/11" not in text


def test_unsettled_gates_of_a_sequential_run_are_counted_apart(tmp_path):
    open_gate = _gate("skip", "not settled: the run stopped early on another gate's failure")
    text = _verdict(tmp_path, [_gate("fail", "dropped")] + [open_gate] * 3, passed=False)
    assert "without a baseline): FAILED (4 checks: 0 passed, 1 failed, 3 not settled)" in text
    assert text.count("NOT SETTLED gate skip") == 3 and "3/4" not in text


def test_a_run_gated_without_a_baseline_is_not_read_as_the_verdict_of_a_comparison(tmp_path):
    """`evalkit report A B` showed B's stored 'Gates: PASSED ...; no baseline' as the page's verdict while the
    page compares B with A: it says whose result it is, against what, and how to gate this comparison."""
    skipped = _gate("skip", "no baseline given: nothing to compare against")
    text = _verdict(tmp_path, [_gate("pass", "ok"), skipped], passed=True, page_baseline=True)
    assert "Stored gate result of run 20261121-120000-ci-gate00" in text and "without a baseline): PASSED" in text
    assert ("Not the verdict of this page's comparison: these gates ran without a baseline, while this page "
            "compares the run with baseline 20261121-110000-ci-base00") in text
    assert "evalkit gate 20261121-120000-ci-gate00 --baseline 20261121-110000-ci-base00" in text
    assert "Gates: PASSED" not in text


def test_gates_run_against_the_pages_baseline_say_so(tmp_path):
    text = _verdict(tmp_path, [_gate("pass", "ok")], passed=True, gated_baseline="20261121-110000-ci-base00",
                    page_baseline=True)
    assert "against baseline 20261121-110000-ci-base00): PASSED (1 checks: 1 passed, 0 failed)" in text
    assert "the comparison this page shows" in text and "Not the verdict" not in text


def test_a_gate_evaluation_that_checked_nothing_is_not_shown_as_passed(tmp_path):
    """gates.json says passed: true when every gate was skipped; the console says NOTHING CHECKED, and so does
    the report (it reads gates.json through evalkit.gate.stored_report, the console's own reader)."""
    skipped = _gate("skip", "no baseline given: nothing to compare against")
    text = _verdict(tmp_path, [skipped, skipped], passed=True)
    assert "without a baseline): NOTHING CHECKED (2 checks: 0 passed, 0 failed, 2 skipped)" in text
    assert "PASSED" not in text and "this is not a pass" in text


def test_the_report_reads_gates_through_the_gate_package(tmp_path, monkeypatch):
    """One reader of gates.json: the report's verdict is evalkit.gate.stored_report's."""
    import evalkit.gate

    seen = []
    real = evalkit.gate.stored_report

    def spy(run):
        seen.append(run.run_id)
        return real(run)

    monkeypatch.setattr(evalkit.gate, "stored_report", spy)
    text = _verdict(tmp_path, [_gate("pass", "ok")], passed=True)
    assert seen == ["20261121-120000-ci-gate00"] and "PASSED (1 checks: 1 passed, 0 failed)" in text
