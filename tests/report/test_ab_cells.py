"""A against B where B evaluated a subset of A's cases: each matrix cell shows both rates on the same (paired)
cases with their intervals, and Context and cost shows the same change as the matrix."""

from __future__ import annotations

import json
import re
from html import unescape

import pandas as pd

from evalkit.report import build_report
from evalkit.stats import outcome_mask, wilson
from evalkit.testing._synthetic import SEGMENTS, write_synthetic_run


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
    assert "paired, n=300" in overall

    context = _text(re.search(r'<table class="sortable" id="context-table">.*?</table>', html, re.DOTALL).group(0))
    # the matrix's change with its interval, against the matrix's reference, on the same pairs
    delta = re.search(r"([+-]\d+\.\d) pts \[([^\]]+)\]", overall)
    assert f"{delta.group(1)} [{delta.group(2)}] vs prod (baseline) (paired, n=300)" in context

    verdict = _text(re.search(r'<section id="verdict">.*?</section>', html, re.DOTALL).group(0))
    assert "prod simulated , all segments : significant drop" in verdict and "segment ALL" not in verdict
    assert "the baseline's prod (run 20261121-110000-ci-base00): no compared configuration beats it" in verdict
    assert "Best configuration (objective: good rate): prod (baseline)" not in verdict


def _verdict_line(html: str) -> str:
    verdict = _text(re.search(r'<section id="verdict">.*?</section>', html, re.DOTALL).group(0))
    return re.search(r"Best configuration.*?\.(?= |$)", verdict).group(0)


def _overall_cell(html: str) -> str:
    matrix = re.search(r'<table class="sortable" id="segment-matrix">.*?</table>', html, re.DOTALL).group(0)
    row = re.search(r"<tr><th scope=\"row\" data-sort=\"ALL\">.*?</tr>", matrix, re.DOTALL).group(0)
    return _text(row)


def test_best_configuration_says_when_the_data_do_not_single_it_out(tmp_path):
    # Two configurations on the same 1,200 cases, 1 point apart, one the other's reference: the higher one is
    # named and the line gives the matrix's paired test of the two, not significant.
    close = write_synthetic_run(tmp_path / "close", run_id="20261121-130000-ci-close0", n_cases=1200,
                                configs={"a": {}, "b": {"shift": {"legacy_discount": 0.01}, "noise_seed": 3}})
    line = _verdict_line(build_report([close], out=tmp_path / "close.html").read_text())
    assert re.search(r"not significantly better than [ab] \([+-]\d+\.\d pts \[[^\]]+\], p=[\d.]+, "
                     r"paired on the 1200 cases both evaluated\)", line), line
    assert "overlaps" not in line and "different case samples" not in line
    # Far apart: no caveat.
    far = write_synthetic_run(tmp_path / "far", run_id="20261121-140000-ci-far000", n_cases=1200,
                              configs={"a": {}, "b": {"shift": {s: 0.2 for s in SEGMENTS}}})
    line = _verdict_line(build_report([far], out=tmp_path / "far.html").read_text())
    assert "overlaps" not in line and "different case samples" not in line and "significantly" not in line


def test_best_configuration_with_a_significant_paired_gain_has_no_caveat_though_intervals_overlap(tmp_path):
    # b is a's configuration 3 points better on every segment, no independent noise: the marginal 95%
    # intervals overlap, the paired test on the same 1,200 cases (the matrix's) is significant.
    run = write_synthetic_run(tmp_path / "run", run_id="20261121-130000-ci-gain00", n_cases=1200,
                              configs={"a": {"noise": 0}, "b": {"shift": {s: 0.03 for s in SEGMENTS}, "noise": 0}})
    scores = pd.read_parquet(run / "scores.parquet")
    a, b = (wilson(int(g.sum()), len(g)) for g in (outcome_mask(scores[scores["config"] == c], "good")
                                                    for c in ("a", "b")))
    assert b.value > a.value and a.hi >= b.lo  # the marginal intervals overlap
    html = build_report([run], out=tmp_path / "gain.html").read_text()
    assert "significant gain" in _overall_cell(html) and "paired, n=1200" in _overall_cell(html)
    line = _verdict_line(html)
    assert line.startswith("Best configuration (objective: good rate): b — highest good rate:"), line
    assert "overlaps" not in line and "significantly" not in line and "different case samples" not in line


def test_best_configuration_without_a_direct_comparison_falls_back_to_the_intervals(tmp_path):
    # b and c are each compared with a, not with each other: the intervals are all the page has on them.
    run = write_synthetic_run(tmp_path / "run", run_id="20261121-130000-ci-three0", n_cases=1200,
                              configs={"a": {"shift": {s: -0.2 for s in SEGMENTS}},
                                       "b": {"noise_seed": 3}, "c": {"shift": {"legacy_discount": 0.01}}})
    line = _verdict_line(build_report([run], out=tmp_path / "three.html").read_text())
    assert re.search(r"its 95% interval overlaps that of [bc] \(`evalkit compare` tests the two on the same cases\)",
                     line), line
    assert "different case samples" not in line and "significantly" not in line


def test_best_configuration_across_runs_of_one_dataset_version_is_paired_on_the_shared_cases(tmp_path):
    # Two runs of the same dataset version, the second on 200 of the first's 1,200 cases: the matrix compares
    # them paired on those 200, and so does the verdict; they are not "different case samples".
    big = write_synthetic_run(tmp_path / "big", run_id="20261121-150000-ci-big000", configs={"prod": {}}, n_cases=1200)
    small = write_synthetic_run(tmp_path / "small", run_id="20261121-160000-ci-small0", n_cases=200,
                                configs={"cand": {"noise_seed": 9}})
    html = build_report([big, small], out=tmp_path / "two.html").read_text()
    assert "paired, n=200" in _overall_cell(html)
    line = _verdict_line(html)
    assert "different case samples" not in line and "not a paired comparison" not in line
    assert re.search(r"not significantly better than \S+ \([+-]\d+\.\d pts \[[^\]]+\], p=[\d.]+, "
                     r"paired on the 200 cases both evaluated\)", line), line


def test_best_configuration_across_runs_of_different_samples_is_not_a_paired_comparison(tmp_path):
    big = write_synthetic_run(tmp_path / "big", run_id="20261121-150000-ci-big000", configs={"prod": {}}, n_cases=1200)
    small = write_synthetic_run(tmp_path / "small", run_id="20261121-160000-ci-small0", n_cases=200,
                                configs={"cand": {"noise_seed": 9}})
    manifest = json.loads((small / "manifest.json").read_text())
    manifest["dataset"].update(version="v4", ref="upgrades@v4", sha256="cd" * 32)  # another dataset version
    (small / "manifest.json").write_text(json.dumps(manifest))
    html = build_report([big, small], out=tmp_path / "two.html").read_text()
    assert "UNPAIRED" in _overall_cell(html)
    line = _verdict_line(html)
    assert "measured on different case samples" in line and "n=1200" in line and "n=200" in line
    assert "paired on" not in line
