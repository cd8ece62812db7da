from __future__ import annotations

import json

import pandas as pd
import pytest
from scipy.stats import binomtest
from score_fixtures import paired_scores, write_run
from statsmodels.stats.multitest import multipletests

from evalkit.errors import ConfigError, DataError, NotFound
from evalkit.runs import resolve_run as resolve_run_dir
from evalkit.score import compare, compare_runs, comparison_to_dict

SEGMENTS = {"routine": 600, "legacy_pricing": 300, "open_dispute": 300, "promotion_end": 300}


def _split(df):
    return df[df["config"] == "base"], df[df["config"] == "cand"]


def test_planted_drop_flags_exactly_that_segment():
    df = paired_scores(7, SEGMENTS, drop_segment="legacy_pricing")
    base, cand = _split(df)
    comp = compare(base, cand)
    assert comp.significant_segments("good", "regressed") == ["legacy_pricing"]
    assert comp.significant_segments("good") == ["legacy_pricing"]  # null segments stay quiet
    rows = comp.rows("good").set_index("segment")
    assert not rows.loc["routine", "significant"]
    assert rows.loc["legacy_pricing", "diff_hi"] < 0
    assert rows.loc["routine", "diff_lo"] < 0 < rows.loc["routine", "diff_hi"]


def test_counts_pvalues_and_holm_match_libraries():
    df = paired_scores(8, SEGMENTS, drop_segment="open_dispute")
    base, cand = _split(df)
    comp = compare(base, cand, outcome="correct")
    m = base.merge(cand, on="case_id", suffixes=("_b", "_c"))
    for outcome in ("good", "correct"):
        rows = comp.rows(outcome).set_index("segment")
        seg_p = []
        for seg, g in m.groupby("segment_b"):
            b = int((g[f"{outcome}_b"] & ~g[f"{outcome}_c"]).sum())
            c = int((~g[f"{outcome}_b"] & g[f"{outcome}_c"]).sum())
            r = rows.loc[seg]
            assert (r["b"], r["c"], r["n"]) == (b, c, len(g))
            assert r["base_rate"] == pytest.approx(g[f"{outcome}_b"].mean())
            assert r["diff"] == pytest.approx(g[f"{outcome}_c"].mean() - g[f"{outcome}_b"].mean())
            assert r["p_value"] == pytest.approx(binomtest(b, b + c, 0.5).pvalue if b + c else 1.0)
            seg_p.append((seg, r["p_value"]))
        holm = multipletests([p for _, p in seg_p], method="holm")[1]
        for (seg, _), adj in zip(seg_p, holm):
            assert rows.loc[seg, "p_adjusted"] == pytest.approx(adj)
        assert rows.loc["ALL", "n"] == len(m)
    assert comp.outcome == "correct"


def test_flips_list_cases_with_reasons():
    df = paired_scores(9, {"routine": 200, "legacy_pricing": 200}, drop_segment="legacy_pricing")
    base, cand = _split(df)
    comp = compare(base, cand)
    m = base.merge(cand, on="case_id", suffixes=("_b", "_c"))
    expected = set(m.loc[m["good_b"] != m["good_c"], "case_id"])
    flips = comp.flips[comp.flips["outcome"] == "good"]
    assert set(flips["case_id"]) == expected and len(flips) == len(expected)
    reg = flips[flips["direction"] == "regressed"]
    assert len(reg) == comp.rows("good")["b"].iloc[0]  # ALL row b == number of regressions
    row = reg.iloc[0]
    assert list(row["base_reasons"]) == [] and list(row["cand_reasons"]) == [f"check.{row['segment']}_cand"]


def test_invalid_rows_count_as_not_good():
    df = paired_scores(1, {"routine": 50})
    base, cand = _split(df)
    cand = cand.copy()
    idx = cand.index[cand["good"]][:5]
    cand.loc[idx, "status"] = "invalid"  # stale good=True must not count
    comp = compare(base, cand)
    flipped = set(comp.flips.loc[comp.flips["outcome"] == "good", "case_id"])
    assert set(cand.loc[idx, "case_id"]) <= flipped or not base.set_index("case_id").loc[
        cand.loc[idx, "case_id"], "good"].all()


def test_config_selection_and_duplicates():
    df = paired_scores(2, {"routine": 40})
    with pytest.raises(ConfigError, match="name one"):
        compare(df, df)
    comp = compare(df, df, base_config="base", cand_config="cand")
    assert comp.n_paired == 40
    with pytest.raises(ConfigError, match="nope"):
        compare(df, df, base_config="nope", cand_config="cand")
    dup = pd.concat([df[df.config == "base"], df[df.config == "base"].head(1)])
    with pytest.raises(DataError, match="more than once"):
        compare(dup, df[df.config == "cand"])


def test_dataset_mismatch_refused_unless_allowed():
    df = paired_scores(4, {"routine": 100, "legacy_pricing": 100})
    base, cand = _split(df)
    cand = cand[cand["case_id"] != "routine-00000"]
    extra = cand.head(3).assign(case_id=["new-1", "new-2", "new-3"])
    cand = pd.concat([cand, extra])
    v1 = {"name": "upgrades", "version": "v1", "sha256": "a" * 64}
    v2 = {"name": "upgrades", "version": "v2", "sha256": "b" * 64}
    with pytest.raises(ConfigError, match="different datasets"):
        compare(base, cand, base_dataset=v1, cand_dataset=v2)
    comp = compare(base, cand, base_dataset=v1, cand_dataset=v2, allow_dataset_mismatch=True)
    assert comp.dataset_mismatch and comp.n_paired == 199
    assert (comp.dropped_base, comp.dropped_cand) == (1, 3)
    assert any("dropped 1 base-only and 3 candidate-only" in n for n in comp.notes)
    same = compare(base, cand, base_dataset=v1, cand_dataset=dict(v1))
    assert not same.dataset_mismatch


def test_compare_runs_and_json(reports_root):
    df = paired_scores(5, SEGMENTS, drop_segment="legacy_pricing")
    base, cand = _split(df)
    write_run(reports_root, "20261121-100000-demo-aaaaaa", base, created="2026-11-21T10:00:00Z")
    write_run(reports_root, "20261121-110000-demo-bbbbbb", cand, created="2026-11-21T11:00:00Z")
    write_run(reports_root, "20261121-120000-demo-cccccc", cand, dataset_version="v2",
              created="2026-11-20T09:00:00Z")  # newer id, older manifest time
    assert resolve_run_dir("latest").name.endswith("bbbbbb")
    assert resolve_run_dir("20261121-10").name.endswith("aaaaaa")
    with pytest.raises(NotFound, match="ambiguous"):
        resolve_run_dir("20261121")
    with pytest.raises(NotFound):
        resolve_run_dir("nope")
    comp = compare_runs("20261121-100000-demo-aaaaaa", reports_root / "20261121-110000-demo-bbbbbb")
    assert comp.significant_segments("good", "regressed") == ["legacy_pricing"]
    assert comp.base_run.endswith("aaaaaa") and comp.cand_run.endswith("bbbbbb")
    d = comparison_to_dict(comp)
    back = json.loads(json.dumps(d, allow_nan=False))
    assert back["outcomes"]["good"]["significant_regressions"] == ["legacy_pricing"]
    assert set(back["outcomes"]["good"]["segments"]) == set(SEGMENTS)
    assert back["flips_total"] == len(back["flips"]) > 0
    with pytest.raises(ConfigError, match="different datasets"):
        compare_runs("20261121-100000-demo-aaaaaa", "20261121-120000-demo-cccccc")


def test_compare_two_configs_within_one_run(reports_root):
    df = paired_scores(6, SEGMENTS, drop_segment="promotion_end")
    write_run(reports_root, "run1", df)
    comp = compare_runs("run1", config_a="base", config_b="cand")
    assert comp.significant_segments("good", "regressed") == ["promotion_end"]
    with pytest.raises(ConfigError, match="two different configs"):
        compare_runs("run1", config_a="base")
