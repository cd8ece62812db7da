from __future__ import annotations

import json
import re
import shutil
from html import unescape
from pathlib import Path

from typer.testing import CliRunner

from evalkit.report import build_report
from evalkit.report._casedata import unpack
from evalkit.testing._synthetic import XSS_PAYLOAD, write_synthetic_run


def _cases(html: str) -> dict:
    blob = re.search(r'<script type="application/octet-stream" id="case-data">(.*?)</script>', html, re.DOTALL)
    return unpack(blob.group(1))


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
    # Case data travels compressed in a non-executable block; only our script executes.
    assert len(re.findall(r"<script>", html)) == 1
    assert re.findall(r"<script [^>]*>", html) == ['<script type="application/octet-stream" id="case-data">']
    data = _cases(html)
    payload = [d for r, d in zip(data["rows"], data["det"]) if r[1] == "case-00000"]
    assert payload and XSS_PAYLOAD in payload[0]["raw"]
    # The script that renders it uses textContent only.
    js = (Path(__file__).resolve().parents[2] / "src/evalkit/report/report.js").read_text()
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "document.write" not in js


def test_sections_and_marks(report_html):
    html = _text(report_html)
    for section in ("header", "toc", "verdict", "leaderboard", "segments", "thresholds", "calibration", "projection",
                    "cases"):
        assert f'id="{section}"' in html
    assert html.index('id="toc"') < html.index('id="verdict"') < html.index('id="leaderboard"')
    assert "simulated" in html
    # The planted 20-point drop in legacy_discount is marked with an arrow *and* words.
    row = re.search(r'<th scope="row" data-sort="legacy_discount">.*?</tr>', html, re.DOTALL).group(0)
    assert "▼" in row and "significant drop" in row and "paired" in row
    routine = re.search(r'<th scope="row" data-sort="routine">.*?</tr>', html, re.DOTALL).group(0)
    assert "significant drop" not in routine
    # Verdict names the regression; template diff shows the dropped clause.
    verdict = re.search(r'<section id="verdict">.*?</section>', html, re.DOTALL).group(0)
    assert "legacy_discount" in verdict
    assert "-Policy: honour legacy discounts." in html
    assert "<svg" in html


def test_every_flipped_and_failed_case_has_a_drilldown(report_runs, report_html):
    import pandas as pd

    data = _cases(_text(report_html))
    cand = pd.read_parquet(report_runs["cand"] / "scores.parquet")
    base = pd.read_parquet(report_runs["base"] / "scores.parquet").set_index("case_id")["good"]
    for ci, (key, label, ref, _src, _diff) in enumerate(data["cols"]):
        if ref is None:
            continue
        df = cand[cand["config"] == label]
        bad = set(df.loc[~df["good"].astype(bool), "case_id"])
        flipped = {c for c in bad if base.get(c)}
        listed = {r[1]: r[3] for r in data["rows"] if r[0] == ci}
        assert {c for c, k in listed.items() if k == "regressed"} == flipped
        assert {c for c, k in listed.items() if k in ("regressed", "failed")} == bad
    assert len(data["det"]) == len(data["rows"])
    first = data["det"][0]
    assert first["raw"] and first["parsed"] and first["prompt"]
    assert sum(1 for d in data["det"] if d["prompt"]) == 40  # max_prompts in the fixture


def test_missing_optional_files_render_gracefully(tmp_path):
    run = write_synthetic_run(tmp_path / "bare", run_id="bare", configs={"a": {"unknown_cost": True}, "b": {}},
                              n_cases=120, results=False, thresholds=False, projection=False)
    shutil.rmtree(run / "prompts")
    out = build_report([run], out=tmp_path / "r.html")
    html = _text(out)
    assert "calibration not run" in html and "evalkit calibrate bare" in html
    assert "Projection not run" in html
    data = _cases(html)
    assert data["rows"] and all(d["raw"] == [] and d["prompt"] is None for d in data["det"])
    assert all(d["pnote"] == "prompt not stored" for d in data["det"][:5])
    assert "no reference template to compare" in html
    # Unknown cost is "unknown", never $0.
    lead = re.search(r'<table class="sortable" id="leaderboard-table">.*?</table>', html, re.DOTALL).group(0)
    assert "unknown" in lead and "(120 of 120 unknown)" in lead


def test_first_config_is_reference_without_baseline(report_runs, tmp_path):
    html = _text(build_report([report_runs["cand"]], out=tmp_path / "r.html"))
    assert "within the run: prod" in html


def test_report_cli(report_runs, tmp_path, monkeypatch):
    from evalkit.cli.main import app

    monkeypatch.setenv("EVALKIT_REPORTS", str(report_runs["root"]))
    out = tmp_path / "cli.html"
    res = CliRunner().invoke(app, ["report", "cand", "--baseline", "base", "-o", str(out), "--max-prompts", "5"])
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
    data = _cases(_text(build_report([cand], out=tmp_path / "r.html", baseline=base, max_prompts=5)))
    (i,) = [i for i, r in enumerate(data["rows"]) if r[1] == "case-00000"]
    assert data["cols"][data["rows"][i][0]][3] == "dataset upgrades@v3"
    assert "legacy-2019" in json.dumps(data["facts"]["case-00000"])
    expected = dict(data["det"][i]["expected"])
    assert "220.00" in expected["reviewed"]


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
    # the cheap config has no match in the baseline: skipped, and counted as skipped, not passed
    assert '<span class="badge skip">SKIP</span>' in verdict and "0 passed, 1 failed, 1 skipped" in verdict


def test_a_run_whose_prompts_cannot_be_rendered_is_tried_once_not_once_per_batch(monkeypatch):
    """Drill-downs take a prompt until --max-prompts carry one; a run whose prompts fail to render
    (its dataset is gone) is not rendered again for the later batches (each batch may fork a child)."""
    from types import SimpleNamespace

    from evalkit.report import _casedata

    renders: list[list[tuple[str, str, str]]] = []

    def failing(jobs, skip=frozenset()):
        renders.append(list(jobs))
        return lambda: ([None] * len(jobs), {job[:2] for job in jobs})

    monkeypatch.setattr(_casedata, "rendered_prompts", failing)
    col = SimpleNamespace(run=SimpleNamespace(path=Path("/runs/r1")), config="prod")
    stored = {("prod", "case-7"): "the prompt as sent"}
    src = SimpleNamespace(raw={col.run.path: ({}, stored)})
    details = [{} for _ in range(12)]
    candidates = [(d, col, f"case-{i}") for i, d in enumerate(details)]
    embedded = _casedata._attach_prompts(candidates, src, max_prompts=3)
    assert embedded == 1  # only the stored one
    assert [len(jobs) for jobs in renders if jobs] == [3]  # the first batch; later batches render nothing
    assert details[7] == {"prompt": "the prompt as sent", "pnote": "as sent (stored)"}
    assert {d["pnote"] for i, d in enumerate(details) if i != 7} == {"prompt not stored"}
