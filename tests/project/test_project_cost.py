"""Cost tail statistics, unknown costs, monthly Monte Carlo and the naive projection."""

from __future__ import annotations

import json

import numpy as np
import pytest
from project_synth import MIX, make_scores, write_run

from evalkit.economics import EconomicsSpec
from evalkit.project import ProjectionSpec, build_strata, project_run, weighted_cvar, weighted_quantile
from evalkit.project._cost import distribution, monthly_spend, naive_cost


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 1013])
def test_quantiles_match_numpy_on_unweighted_data(n: int) -> None:
    x = np.random.default_rng(n).lognormal(0, 1.5, n)
    q = np.array([0.0, 0.1, 0.5, 0.9, 0.95, 0.99, 1.0])
    np.testing.assert_allclose(weighted_quantile(x, q), np.quantile(x, q), rtol=1e-12)
    np.testing.assert_allclose(weighted_quantile(x, q, np.full(n, 3.7)), np.quantile(x, q), rtol=1e-12)


def test_cvar_matches_mean_of_worst_five_percent() -> None:
    x = np.random.default_rng(1).lognormal(0, 2, 1000)
    assert weighted_cvar(x) == pytest.approx(np.sort(x)[-50:].mean())
    # 5% of 1010 rows is 50.5: the 51st-worst row counts half
    y = np.random.default_rng(2).lognormal(0, 2, 1010)
    s = np.sort(y)[::-1]
    assert weighted_cvar(y) == pytest.approx((s[:50].sum() + 0.5 * s[50]) / 50.5)
    # integer weights == repeating rows
    w = np.random.default_rng(3).integers(1, 4, 300)
    z = np.random.default_rng(4).lognormal(0, 1, 300)
    assert weighted_cvar(z, w.astype(float)) == pytest.approx(weighted_cvar(np.repeat(z, w)))


def test_distribution_single_segment_equals_numpy() -> None:
    x = np.random.default_rng(5).lognormal(0, 1, 500)
    strata = build_strata(np.array(["s"] * 500), {"s": 1.0}, min_cases=1)
    d = distribution(x, strata)
    assert d["known"] and d["n_unknown"] == 0
    assert d["mean"] == pytest.approx(x.mean())
    for key, q in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)):
        assert d[key] == pytest.approx(np.quantile(x, q))
    assert d["max"] == x.max()
    assert d["cvar95"] == pytest.approx(np.sort(x)[-25:].mean())


def test_distribution_is_reweighted() -> None:
    # segment a costs 1, segment b costs 10; 50/50 in the data, 90/10 in production
    segs = np.array(["a"] * 100 + ["b"] * 100)
    x = np.array([1.0] * 100 + [10.0] * 100)
    d = distribution(x, build_strata(segs, {"a": 0.9, "b": 0.1}, min_cases=1))
    assert d["mean"] == pytest.approx(0.9 * 1 + 0.1 * 10)
    assert d["p50"] == pytest.approx(1.0) and d["p95"] == pytest.approx(10.0)


def test_unknown_costs_stay_null(tmp_path) -> None:
    df = make_scores(2)
    unknown = df.index[::7]
    df.loc[unknown, "cost_usd"] = np.nan
    run = write_run(tmp_path, df)
    spec = ProjectionSpec(volume_per_month=10000, mix=MIX, resamples=100)
    res = project_run(run, spec=spec, economics=EconomicsSpec(), threshold=0.8)
    on_disk = json.loads(res.path.read_text())
    for block in (res.projection["configs"]["alpha"], on_disk["configs"]["alpha"]):
        cpc, monthly = block["cost_per_case"], block["monthly_cost"]
        assert cpc["known"] is False and cpc["n_unknown"] == len(unknown)
        assert all(cpc[k] is None for k in ("mean", "p50", "p95", "p99", "max", "cvar95"))
        assert monthly["p50"] is None and monthly["p95"] is None and monthly["tail_to_naive_ratio"] is None
        assert cpc["known_rows_only"]["n"] == len(df) - len(unknown)
        # the naive figure is unknown too; the known-cost one is kept apart, with what it leaves out
        assert monthly["naive"] is None and monthly["naive_known_rows_only"] > 0
        assert monthly["n_unknown"] == len(unknown)
    assert any("cost unknown" in w for w in res.warnings)


def test_console_naive_unknown_and_zero_ratio_not_applicable(tmp_path) -> None:
    """Some costs unknown: "$/month naive" is not a known figure beside an unknown tail. A configuration
    whose cost is known to be $0 has no tail/naive ratio: "—" (not applicable), not "unknown"."""
    import typer
    from typer.testing import CliRunner

    from evalkit.cli import _project

    df = make_scores(2, configs=("alpha", "beta"))
    df.loc[(df.config == "alpha") & (df.index % 7 == 0), "cost_usd"] = np.nan
    df.loc[df.config == "beta", "cost_usd"] = 0.0
    run = write_run(tmp_path, df)
    app = typer.Typer()
    _project.register(app)
    app.callback()(lambda: None)
    r = CliRunner().invoke(app, ["project", str(run), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["configs"]["alpha"]["monthly_cost"]["naive"] is None
    beta = doc["configs"]["beta"]["monthly_cost"]
    assert beta["known"] and beta["naive"] == 0 and beta["tail_to_naive_ratio"] is None
    r = CliRunner().invoke(app, ["project", str(run)], env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    rows = {line.split()[0].rstrip("*"): line for line in r.output.splitlines()
            if line.strip().startswith(("alpha", "beta"))
            and "$" in line}
    assert "unknown (" in rows["alpha"] and "over known-cost calls" in rows["alpha"]
    assert "—" in rows["beta"] and "unknown" not in rows["beta"]


def test_all_costs_unknown() -> None:
    strata = build_strata(np.array(["s"] * 10), {"s": 1.0}, min_cases=1)
    d = distribution(np.full(10, np.nan), strata)
    assert d["known"] is False and d["mean"] is None and "known_rows_only" not in d
    assert naive_cost(np.full(10, np.nan), np.array(["s"] * 10), segment="s", k=5)["per_case"] is None


def test_monthly_monte_carlo_matches_brute_force() -> None:
    """Small segments are binned exactly: the simulated monthly total matches row-level resampling."""
    rng = np.random.default_rng(11)
    segs = np.array(["a"] * 200 + ["b"] * 100)
    cost = np.concatenate([rng.lognormal(-6, 0.3, 200), rng.lognormal(-4, 1.5, 100)])
    mix = {"a": 0.9, "b": 0.1}
    strata = build_strata(segs, mix, min_cases=1)
    volume, months = 2000, 4000
    sims = monthly_spend(cost, strata, volume=volume, months=months, rng=np.random.default_rng(1))
    # brute force: pick segment by mix, then a row uniformly within it
    brute = np.empty(months)
    pools = [cost[:200], cost[200:]]
    for m in range(months):
        n_a = rng.binomial(volume, 0.9)
        brute[m] = pools[0][rng.integers(0, 200, n_a)].sum() + pools[1][rng.integers(0, 100, volume - n_a)].sum()
    expected_mean = volume * (0.9 * pools[0].mean() + 0.1 * pools[1].mean())
    assert sims.mean() == pytest.approx(expected_mean, rel=0.01)
    assert np.quantile(sims, 0.95) == pytest.approx(np.quantile(brute, 0.95), rel=0.02)
    assert sims.std() == pytest.approx(brute.std(), rel=0.08)


def test_monthly_spend_binned_keeps_mean_and_variance() -> None:
    """Above MC_BINS rows per segment the bins are approximate, but the total's mean and variance are exact."""
    rng = np.random.default_rng(12)
    cost = rng.lognormal(-5, 1.8, 20000)
    strata = build_strata(np.array(["s"] * cost.size), {"s": 1.0}, min_cases=1)
    volume = 500
    sims = monthly_spend(cost, strata, volume=volume, months=20000, rng=rng)
    assert sims.mean() == pytest.approx(volume * cost.mean(), rel=0.01)
    assert sims.std() == pytest.approx(np.sqrt(volume) * cost.std(), rel=0.03)


def test_naive_vs_tail_ratio_above_one_on_long_tail(tmp_path) -> None:
    df = make_scores(3, configs=("alpha",))
    run = write_run(tmp_path, df)
    spec = ProjectionSpec(volume_per_month=50000, mix=MIX, resamples=100, naive_typical_cases=5)
    block = project_run(run, spec=spec, economics=EconomicsSpec(), threshold=0.8).projection["configs"]["alpha"]
    m = block["monthly_cost"]
    assert m["naive_source"] == "routine" and m["naive_cases"] == 5
    assert m["tail_to_naive_ratio"] > 1.0
    assert m["p95"] >= m["p50"] and m["p95_to_naive_ratio"] >= m["tail_to_naive_ratio"]
    # naive = mean of the 5 routine cases closest to the routine median cost, x volume
    routine = df.loc[df.segment == "routine", "cost_usd"].to_numpy()
    typical = routine[np.argsort(np.abs(routine - np.median(routine)))[:5]]
    assert m["naive"] == pytest.approx(typical.mean() * 50000)
    assert m["mean"] == pytest.approx(block["cost_per_case"]["mean"] * 50000)
    cpc = block["cost_per_case"]
    assert cpc["p50"] <= cpc["p90"] <= cpc["p95"] <= cpc["p99"] <= cpc["max"]
    assert cpc["cvar95"] >= cpc["p95"]


def test_naive_falls_back_when_segment_absent() -> None:
    cost = np.array([1.0, 2.0, 3.0, 100.0])
    out = naive_cost(cost, np.array(["x"] * 4), segment="routine", k=2)
    assert out["source"] == "all segments" and out["per_case"] == pytest.approx(2.5)


def test_naive_default_segment_is_the_most_common_one():
    cost = np.array([1.0, 1.0, 1.0, 50.0, 50.0])
    segments = np.array(["everyday", "everyday", "everyday", "rare", "rare"])
    out = naive_cost(cost, segments, segment=None, k=2)
    assert out["source"] == "everyday" and out["per_case"] == 1.0
