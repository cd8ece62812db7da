from __future__ import annotations

from evalkit.gate import paired_segment_compare
from evalkit.stats import ALL


def test_paired_compare_adapter_marks_only_the_planted_segment(runs):
    import pandas as pd

    base = pd.read_parquet(runs["base"] / "scores.parquet")
    drop = pd.read_parquet(runs["drop"] / "scores.parquet")
    t = paired_segment_compare(base, drop, include_overall=True)
    assert t["segment"].iloc[0] == ALL
    seg = t.set_index("segment")
    assert bool(seg.loc["legacy_discount", "significant"]) and seg.loc["legacy_discount", "diff"] < -0.1
    assert seg.drop(["legacy_discount", ALL])["significant"].sum() == 0
    # Holm never makes a segment p-value smaller; the overall row keeps its raw p-value.
    assert (seg["p_adjusted"] >= seg["p_value"] - 1e-12).all()
    assert seg.loc[ALL, "p_adjusted"] == seg.loc[ALL, "p_value"]
