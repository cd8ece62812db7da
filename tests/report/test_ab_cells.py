"""A against B where B evaluated a subset of A's cases: each matrix cell shows both rates on the same (paired)
cases with their intervals, and Context and cost shows the same change as the matrix."""

from __future__ import annotations

import re
from html import unescape

import pandas as pd

from evalkit.report import build_report
from evalkit.stats import outcome_mask, wilson
from evalkit.testing._synthetic import write_synthetic_run


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def test_baseline_rate_is_on_the_paired_cases_and_the_change_is_one_figure(tmp_path):
    base = write_synthetic_run(tmp_path / "base", run_id="20261121-110000-ci-base00", configs={"prod": {}},
                               n_cases=1200)
    cand = write_synthetic_run(tmp_path / "cand", run_id="20261121-120000-ci-cand00", n_cases=1200,
                               configs={"prod": {"shift": {"legacy_discount": -0.3}, "noise_seed": 5}})
    scores = pd.read_parquet(cand / "scores.parquet")
    kept = sorted(scores["case_id"].unique())[:300]  # a --limit run of the same dataset
    scores[scores["case_id"].isin(kept)].to_parquet(cand / "scores.parquet")
    html = build_report([base, cand], out=tmp_path / "ab.html").read_text()

    ref = pd.read_parquet(base / "scores.parquet")
    ref_good = outcome_mask(ref[ref["case_id"].isin(kept)], "good")
    same_cases = wilson(int(ref_good.sum()), len(ref_good))
    matrix = re.search(r'<table class="sortable" id="segment-matrix">.*?</table>', html, re.DOTALL).group(0)
    overall = _text(re.search(r"<tr><th scope=\"row\" data-sort=\"ALL\">.*?</tr>", matrix, re.DOTALL).group(0))
    assert (f"baseline {100 * same_cases.value:.1f}% [{100 * same_cases.lo:.1f}%–{100 * same_cases.hi:.1f}%] "
            "n=300 (the same cases)") in overall
    change = re.search(r"([+-]\d+\.\d) pts \[", overall).group(1)
    assert "paired, n=300" in overall

    context = _text(re.search(r'<table class="sortable" id="context-table">.*?</table>', html, re.DOTALL).group(0))
    assert f"{change} (paired, n=300)" in context

    verdict = _text(re.search(r'<section id="verdict">.*?</section>', html, re.DOTALL).group(0))
    assert "prod , all segments : significant drop" in verdict and "segment ALL" not in verdict
    assert "the baseline's prod (run 20261121-110000-ci-base00): no compared configuration beats it" in verdict
    assert "Best configuration (objective: good rate): prod (baseline)" not in verdict
