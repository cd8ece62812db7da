from __future__ import annotations

import re
import shutil
from html import unescape
from pathlib import Path

from typer.testing import CliRunner

from evalkit.report import build_report
from evalkit.report._synthetic import XSS_PAYLOAD, write_synthetic_run


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_report_is_self_contained(report_html):
    html = _text(report_html)
    assert html.startswith("<!DOCTYPE html>")
    # No external resource of any kind: every src/href is an in-page anchor or data: URI.
    for attr in re.findall(r'\b(?:src|href|xlink:href)\s*=\s*"([^"]*)"', html):
        assert attr.startswith(("#", "data:")), attr
    # Only XML namespace names (identifiers, never fetched) may mention http.
    assert not re.findall(r"https?://(?!www.w3.org/)", html)
    # The CSP forbids any fetch, even if something slipped through.
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html).group(1)
    assert "default-src 'none'" in unescape(csp) and "unsafe-inline" not in unescape(csp).split("script-src")[1]


def test_model_output_is_escaped(report_html):
    html = _text(report_html)
    assert "<script>window.__evalkit_xss" not in html
    assert 'onerror="window.__evalkit_xss' not in html
    assert "&lt;script&gt;window.__evalkit_xss = 1&lt;/script&gt;" in html
    # Exactly one script element: ours.
    assert html.count("<script") == 1


def test_sections_and_marks(report_html):
    html = _text(report_html)
    for section in ("header", "verdict", "leaderboard", "segments", "calibration", "projection", "regressions"):
        assert f'id="{section}"' in html
    assert "simulated" in html
    # The planted 20-point drop in legacy_discount is marked with an arrow *and* words.
    row = re.search(r'<th scope="row" data-sort="legacy_discount">.*?</tr>', html, re.DOTALL).group(0)
    assert "▼" in row and "significant drop" in row
    routine = re.search(r'<th scope="row" data-sort="routine">.*?</tr>', html, re.DOTALL).group(0)
    assert "significant drop" not in routine
    # Verdict names the regression; template diff shows the dropped clause.
    verdict = re.search(r'<section id="verdict">.*?</section>', html, re.DOTALL).group(0)
    assert "legacy_discount" in verdict
    assert "-Policy: honour legacy discounts." in html
    assert "<svg" in html and html.count("<details") >= 40


def test_drilldown_contents(report_html):
    html = _text(report_html)
    first = re.search(r'<details id="case-[^"]+" class="case regression">.*?</details>\s*</details>|'
                      r'<details id="case-[^"]+" class="case regression">.*?(?=<details id="case-)', html, re.DOTALL)
    block = first.group(0)
    for heading in ("Case facts", "Expected decision", "Parsed decision", "Failed checks", "Raw model output",
                    "Prompt", "Template diff"):
        assert heading in block, heading


def test_missing_optional_files_render_gracefully(tmp_path):
    run = write_synthetic_run(tmp_path / "bare", run_id="bare", configs={"a": {"unknown_cost": True}, "b": {}},
                              n_cases=120, results=False, thresholds=False, projection=False)
    shutil.rmtree(run / "prompts")
    out = build_report([run], out=tmp_path / "r.html")
    html = _text(out)
    assert "calibration not run" in html and "evalkit calibrate bare" in html
    assert "Projection not run" in html
    assert "raw output not stored" in html and "prompt not stored" in html
    assert "no reference template to compare" in html
    # Unknown cost is "unknown", never $0.
    lead = re.search(r'<table class="sortable" id="leaderboard-table">.*?</table>', html, re.DOTALL).group(0)
    assert "unknown" in lead and "(120 of 120 unknown)" in lead


def test_first_config_is_reference_without_baseline(report_runs, tmp_path):
    html = _text(build_report([report_runs["cand"]], out=tmp_path / "r.html"))
    assert "first configuration: prod" in html


def test_report_cli(report_runs, tmp_path, monkeypatch):
    from evalkit.cli.main import app

    monkeypatch.setenv("EVALKIT_REPORTS", str(report_runs["root"]))
    out = tmp_path / "cli.html"
    res = CliRunner().invoke(app, ["report", "cand", "--baseline", "base", "-o", str(out), "--max-drilldowns", "5"])
    assert res.exit_code == 0, res.output
    assert out.is_file() and "legacy_discount" in _text(out)
    res = CliRunner().invoke(app, ["report", "does-not-exist"])
    assert res.exit_code == 2


def test_payload_constant_is_what_the_browser_test_expects():
    assert "window.__evalkit_xss" in XSS_PAYLOAD and "<script>" in XSS_PAYLOAD and "onerror" in XSS_PAYLOAD


def test_case_facts_come_from_the_dataset_store(tmp_path, monkeypatch):
    store = tmp_path / "datasets"
    monkeypatch.setenv("EVALKIT_DATASETS", str(store))
    base = write_synthetic_run(tmp_path / "b", run_id="b", configs={"prod": {}}, n_cases=120,
                               force_good=["case-00000"])
    cand = write_synthetic_run(tmp_path / "c", run_id="c", configs={"prod": {"noise_seed": 3}}, n_cases=120,
                               xss_case=True, dataset_root=store)
    html = _text(build_report([cand], out=tmp_path / "r.html", baseline=base, max_drilldowns=5))
    block = re.search(r'<details id="case-c1-case-00000".*?Template diff', html, re.DOTALL).group(0)
    assert "dataset upgrades@v3" in block and "legacy-2019" in block
    expected = block[block.index("Expected decision"):block.index("Parsed decision")]
    assert "reviewed" in expected and "220.00" in expected


def test_verdict_shows_gate_results(report_runs, tmp_path):
    from evalkit.gate import evaluate_gates, parse_gates, write_gate_outputs

    cand = Path(shutil.copytree(report_runs["cand"], tmp_path / "cand"))
    gated = evaluate_gates(cand, parse_gates([{"kind": "max_good_rate_drop", "max_drop": 0.02}]),
                           baseline_dir=report_runs["base"])
    write_gate_outputs(gated, cand)
    html = _text(build_report([cand], out=tmp_path / "r.html", baseline=report_runs["base"]))
    verdict = re.search(r'<section id="verdict">.*?</section>', html, re.DOTALL).group(0)
    assert '<span class="badge fail">FAILED</span>' in verdict
    fail_items = re.findall(r'<li><span class="badge fail">FAIL</span>.*?</li>', verdict, re.DOTALL)
    assert len(fail_items) == 1 and "legacy_discount" in fail_items[0] and "prod" in fail_items[0]
    assert '<span class="badge pass">PASS</span>' in verdict  # the cheap config does not regress


def test_drilldowns_are_capped_flips_first(report_html):
    html = _text(report_html)
    kinds = re.findall(r'<details id="case-[^"]+" class="case (\w+)">', html)
    assert kinds.count("regression") + kinds.count("failed") == 40  # max_drilldowns in the fixture
    assert kinds.count("sample") == 3 * 2  # 3 sampled good cases per non-baseline configuration
    assert kinds.count("regression") > 0
    # Every flipped case is listed even without a drill-down; linked ones point at a drill-down.
    flips = re.search(r'<table class="sortable" id="flips-table">.*?</table>', html, re.DOTALL).group(0)
    assert flips.count("<tr>") - 1 > kinds.count("regression")
    for anchor in re.findall(r'href="#(case-[^"]+)"', flips):
        assert f'id="{anchor}"' in html
