"""`evalkit report A B`: B against A, configuration by matching configuration."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from evalkit.report import build_report
from evalkit.report._compare import segment_changes, unpaired_diff
from evalkit.testing._synthetic import write_synthetic_run

REPO = Path(__file__).resolve().parents[2]


def _matrix_headers(html: str) -> list[str]:
    table = re.search(r'<table class="sortable" id="segment-matrix">.*?</thead>', html, re.DOTALL).group(0)
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<th scope=\"col\">(.*?)</th>", table, re.DOTALL)]


def _matrix_rows(html: str) -> dict[str, str]:
    table = re.search(r'<table class="sortable" id="segment-matrix">.*?</table>', html, re.DOTALL).group(0)
    return {m.group(1): m.group(0) for m in re.finditer(r'<tr><th scope="row" data-sort="([^"]+)">.*?</tr>', table,
                                                         re.DOTALL)}


@pytest.fixture(scope="session")
def demo_run_b(demo_report: Path, demo_home: Path, tmp_path_factory: pytest.TempPathFactory, evalkit_cli) -> Path:
    """A second demo run: two of the configurations, same names, the playbook prompt, first 900 cases."""
    root = tmp_path_factory.mktemp("demo-b")
    suite = yaml.safe_load((REPO / "suites" / "upgrades-demo.yaml").read_text())
    suite["name"] = "upgrades-demo-b"
    suite["configs"] = [dict(c, prompt="prompts/upgrade-v2-playbook.j2") for c in suite["configs"]
                        if c["name"] in ("large-v1", "small-v1")]
    suite.pop("gates", None)
    shutil.copytree(REPO / "suites" / "prompts", root / "prompts")
    (root / "b.yaml").write_text(yaml.safe_dump(suite, sort_keys=False))
    reports = root / "reports"
    evalkit_cli(["run", str(root / "b.yaml"), "--limit", "900", "--reports", str(reports)], home=demo_home)
    (run_dir,) = [p for p in reports.iterdir() if (p / "manifest.json").is_file()]
    return run_dir


@pytest.mark.timeout(1200)  # runs the demo suite when no other test has yet (session fixture)
def test_report_a_b_shows_one_column_per_configuration_pair(demo_report, demo_run_b, demo_home, tmp_path,
                                                            evalkit_cli):
    out = tmp_path / "ab.html"
    res = evalkit_cli(["report", str(demo_report), str(demo_run_b), "-o", str(out)], home=demo_home)
    assert res.returncode == 0, res.stderr
    html = out.read_text()
    headers = _matrix_headers(html)
    assert headers[0].startswith("segment")
    pairs = [h.rstrip(" ↕") for h in headers[1:]]
    assert sorted(pairs) == ["large-v1 (simulated) vs large-v1 (baseline)",
                             "small-v1 (simulated) vs small-v1 (baseline)"], pairs
    rows = _matrix_rows(html)
    # Paired deltas in every segment (B's 900 cases are a subset of A's 3,000), never "unpaired".
    for seg, row in rows.items():
        assert row.count("paired, n=") == 2, seg
        assert "UNPAIRED" not in row
    # The playbook prompt fixes undocumented exceptions for the large model: a significant paired gain.
    assert "significant gain" in rows["undocumented_exception"]
    # Same answer with --baseline.
    out2 = tmp_path / "ab2.html"
    evalkit_cli(["report", str(demo_run_b), "--baseline", str(demo_report), "-o", str(out2)], home=demo_home)
    assert _matrix_headers(out2.read_text()) == headers


def test_unpaired_segments_are_labelled(tmp_path):
    base = write_synthetic_run(tmp_path / "a", run_id="a", configs={"prod": {}}, n_cases=600)
    cand = write_synthetic_run(tmp_path / "b", run_id="b", configs={"prod": {"noise_seed": 4}}, n_cases=600, seed=3)
    manifest = json.loads((cand / "manifest.json").read_text())
    manifest["dataset"]["sha256"] = "cd" * 32  # another dataset version: case ids are not the same cases
    (cand / "manifest.json").write_text(json.dumps(manifest))
    html = build_report([base, cand], out=tmp_path / "r.html").read_text()
    rows = _matrix_rows(html)
    assert all("UNPAIRED (different cases)" in row for row in rows.values())
    assert "paired, n=" not in html.replace("UNPAIRED", "")


def test_unpaired_interval_matches_newcombe_worked_example():
    # Newcombe (1998) table II, example (a): 56/70 vs 48/80 -> 0.2000, method 10: 0.0524 to 0.3339.
    d, lo, hi, p = unpaired_diff(56, 70, 48, 80)
    assert d == pytest.approx(0.2) and lo == pytest.approx(0.0524, abs=5e-4) and hi == pytest.approx(0.3339, abs=5e-4)
    assert 0 < p < 0.01


def test_partial_overlap_is_unpaired_and_subset_is_paired():
    ids = [f"c{i}" for i in range(40)]
    good = [i % 3 != 0 for i in range(40)]
    ref = pd.DataFrame({"case_id": ids, "segment": ["s"] * 40, "status": "ok", "good": good, "correct": good})
    sub = ref.iloc[:20].assign(good=True, correct=True)
    shifted = ref.iloc[10:].assign(case_id=[f"x{i}" for i in range(30)])
    (overall_sub, seg_sub) = segment_changes(ref, sub)
    assert overall_sub.paired and seg_sub.paired and seg_sub.n == 20
    (_, seg_sh) = segment_changes(ref, shifted)
    assert not seg_sh.paired and seg_sh.n == 30 and seg_sh.n_ref == 40
