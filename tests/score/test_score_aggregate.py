from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from evalkit.errors import DataError
from evalkit.score import AGG_COLUMNS, aggregate, paired_diff_newcombe, summary_dict


def _scores(seed=3, n=2000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    status = rng.choice(["ok", "ok", "ok", "ok", "invalid", "failed"], n)
    correct = rng.random(n) < 0.75
    good = correct & (rng.random(n) < 0.85)
    return pd.DataFrame({
        "config": rng.choice(["full", "no_legacy"], n),
        "segment": rng.choice(["routine", "legacy_pricing", "open_dispute"], n),
        "case_id": [f"c{i}" for i in range(n)],
        "status": status,
        # invalid rows may carry stale True verdicts: they must not count
        "correct": correct, "good": good,
        "deferred": rng.random(n) < 0.1,
        "total_tokens": pd.array(rng.integers(300, 900, n), dtype="Int64"),
        "cost_usd": rng.gamma(2.0, 0.001, n),
    })


def test_columns_and_all_rows():
    df = _scores()
    agg = aggregate(df)
    assert list(agg.columns) == ["config", "segment", *AGG_COLUMNS]
    for cfg, grp in agg.groupby("config"):
        assert grp.iloc[0]["segment"] == "ALL"
        seg = grp[grp["segment"] != "ALL"]
        assert grp.iloc[0]["n"] == seg["n"].sum() == (df["config"] == cfg).sum()
        assert grp.iloc[0]["good_k"] == seg["good_k"].sum()


def test_rates_counts_and_wilson_match_manual_and_scipy():
    df = _scores()
    agg = aggregate(df).set_index(["config", "segment"])
    ok = df["status"] == "ok"
    for (cfg, seg), grp in df.groupby(["config", "segment"]):
        row = agg.loc[(cfg, seg)]
        gok = grp["status"] == "ok"
        expected = {
            "correct": int((grp["correct"] & gok).sum()), "good": int((grp["good"] & gok).sum()),
            "invalid": int((~gok).sum()), "deferred": int((grp["deferred"] & gok).sum()),
        }
        for metric, k in expected.items():
            assert row[f"{metric}_k"] == k and row[f"{metric}_n"] == len(grp)
            assert row[f"{metric}_rate"] == pytest.approx(k / len(grp))
            ci = binomtest(k, len(grp)).proportion_ci(method="wilson")
            assert row[f"{metric}_lo"] == pytest.approx(ci.low) and row[f"{metric}_hi"] == pytest.approx(ci.high)
        assert row["failed_k"] == (grp["status"] == "failed").sum()
        c, g = (grp["correct"] & gok).to_numpy(), (grp["good"] & gok).to_numpy()
        assert row["gap"] == pytest.approx(c.mean() - g.mean())
        _, lo, hi = paired_diff_newcombe((c & g).sum(), (c & ~g).sum(), (~c & g).sum(), (~c & ~g).sum())
        assert row["gap_lo"] == pytest.approx(float(lo)) and row["gap_hi"] == pytest.approx(float(hi))
        assert row["gap_lo"] <= row["gap"] <= row["gap_hi"]
    assert ok.any()


def test_unknown_cost_is_never_zero():
    df = _scores()
    df.loc[df.index[:5], "cost_usd"] = np.nan
    df.loc[df.index[:3], "total_tokens"] = pd.NA
    agg = aggregate(df)
    all_rows = agg[agg["segment"] == "ALL"].set_index("config")
    for cfg, grp in df.groupby("config"):
        row = all_rows.loc[cfg]
        known = grp["cost_usd"].dropna()
        assert row["cost_unknown_n"] == grp["cost_usd"].isna().sum()
        assert row["cost_known_n"] == len(known)
        assert row["cost_known_mean"] == pytest.approx(known.mean())  # not sum/len(grp)
        assert row["cost_known_p95"] == pytest.approx(known.quantile(0.95))
        if row["cost_unknown_n"]:
            assert np.isnan(row["cost_mean"]) and np.isnan(row["cost_p95"])
        assert row["tokens_unknown_n"] == grp["total_tokens"].isna().sum()
    assert agg["cost_unknown_n"].sum() > 0  # the fixture really has unknown costs
    # complete group: the honest mean equals the known-rows mean
    complete = agg[agg["cost_unknown_n"] == 0].iloc[0]
    assert complete["cost_mean"] == pytest.approx(complete["cost_known_mean"])


def test_summary_dict_is_strict_json_with_nulls():
    df = _scores()
    df.loc[df.index[:5], "cost_usd"] = np.nan
    out = summary_dict(aggregate(df))
    text = json.dumps(out, allow_nan=False)  # NaN must have become null
    back = json.loads(text)
    full = back["configs"]["full"]
    assert set(full["segments"]) == {"routine", "legacy_pricing", "open_dispute"}
    good = full["overall"]["good"]
    assert set(good) == {"value", "lo", "hi", "n", "k"} and good["lo"] <= good["value"] <= good["hi"]
    costs = [back["configs"][c]["overall"]["cost_per_case"] for c in back["configs"]]
    assert any(c["mean"] is None and c["known"] is False and c["unknown_n"] > 0 for c in costs)


def test_missing_columns_and_reserved_segment():
    with pytest.raises(DataError, match="good"):
        aggregate(_scores().drop(columns="good"))
    df = _scores()
    df.loc[0, "segment"] = "ALL"
    with pytest.raises(DataError, match="reserved"):
        aggregate(df)


def test_costs_absent_entirely_are_unknown():
    df = _scores().drop(columns=["cost_usd", "total_tokens"])
    agg = aggregate(df)
    assert agg["cost_known_n"].eq(0).all() and agg["cost_mean"].isna().all()
    assert (agg["cost_unknown_n"] == agg["n"]).all()


def test_single_key_grouping_and_null_verdicts():
    df = pd.DataFrame({"config": ["a", "a", "b"], "segment": ["x", "y", "x"],
                       "status": ["ok", "invalid", None], "correct": [True, None, True],
                       "good": [True, None, None], "deferred": [False, None, False]})
    by_config = aggregate(df, by=("config",)).set_index("config")
    assert list(by_config.index) == ["a", "b"]
    assert by_config.loc["a", "correct_k"] == 1 and by_config.loc["a", "invalid_k"] == 1
    assert by_config.loc["b", "failed_k"] == 1 and by_config.loc["b", "correct_k"] == 0  # no status: failed
    out = summary_dict(aggregate(df, by=("config",)), by=("config",))
    assert out["configs"]["b"]["overall"]["failed_n"] == 1 and out["configs"]["b"]["segments"] == {}


def test_empty_table():
    empty = _scores().head(0)
    agg = aggregate(empty)
    assert len(agg) == 0 and list(agg.columns) == ["config", "segment", *AGG_COLUMNS]
    assert summary_dict(agg)["configs"] == {}
