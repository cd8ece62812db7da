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


def _verdict(tmp_path, results: list[dict], *, passed: bool) -> str:
    run = write_synthetic_run(tmp_path / "run", run_id="20261121-120000-ci-gate00", configs={"prod": {}},
                              n_cases=200)
    (run / "gates.json").write_text(json.dumps({
        "schema": 1, "run_id": run.name, "passed": passed, "n_gates": len(results),
        "n_failed": sum(r["status"] == "fail" for r in results), "results": results}))
    html = build_report([run], out=tmp_path / "r.html").read_text()
    section = re.search(r'<section id="verdict">.*?</section>', html, re.DOTALL).group(0)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", section)))


def test_skipped_gates_are_not_counted_as_passed(tmp_path):
    text = _verdict(tmp_path, [_gate("pass", "ok")] * 5 + [_gate("skip", "no baseline given")] * 6, passed=True)
    assert "Gates: PASSED (11 checks: 5 passed, 0 failed, 6 skipped; no baseline)" in text
    assert "11/11" not in text


def test_unsettled_gates_of_a_sequential_run_are_counted_apart(tmp_path):
    open_gate = _gate("skip", "not settled: the run stopped early on another gate's failure")
    text = _verdict(tmp_path, [_gate("fail", "dropped")] + [open_gate] * 3, passed=False)
    assert "Gates: FAILED (4 checks: 0 passed, 1 failed, 3 not settled; no baseline)" in text
    assert text.count("NOT SETTLED gate skip") == 3 and "3/4" not in text
