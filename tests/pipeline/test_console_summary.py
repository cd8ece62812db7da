"""The automation table `evalkit run` prints in CI logs shows every rate with its n and interval."""

from __future__ import annotations


def test_the_stage_summary_names_the_n_its_automation_rates_rest_on(demo_run):
    from rich.console import Console

    from evalkit._console import print_stage_summary
    from evalkit.runs import RunFolder

    run = RunFolder(path=demo_run.run_dir)
    console = Console(record=True, width=200)
    print_stage_summary(run, console)
    text = console.export_text()
    sizes = {c.coverage.n for c in run.thresholds.configs.values() if c.coverage is not None}
    assert len(sizes) == 1, sizes
    assert f"(n={sizes.pop():,} cases per config)" in text
    for name, entry in run.thresholds.configs.items():
        lines = text.splitlines()
        at = next(i for i, row in enumerate(lines) if row.lstrip().startswith(name))
        cov = entry.coverage
        assert lines[at].split()[1] == f"{100 * cov.value:.1f}"  # the certified rate, its bounds below
        assert lines[at + 1].split()[0] == f"{100 * cov.lo:.1f}–{100 * cov.hi:.1f}"
        naive = run.projection.configs[name].naive_automation_rate  # the naive rate carries its interval too
        assert f"({100 * naive.lo:.1f}–{100 * naive.hi:.1f})" in lines[at + 1]


def test_the_run_summary_shows_every_rate_over_its_interval_within_80_columns(demo_run):
    """Each rate of the run summary sits over the bounds of its own 95% interval (no '±': a Wilson
    interval is not symmetric), per configuration and per segment, and the tables fit 80 columns."""
    import pandas as pd
    from rich.console import Console
    from statsmodels.stats.proportion import proportion_confint  # an independent reference

    from evalkit._console import print_run_summary
    from evalkit.runs import RunFolder
    from evalkit.score import aggregate

    run = RunFolder(path=demo_run.run_dir)
    scores = pd.read_parquet(demo_run.run_dir / "scores.parquet")
    agg = aggregate(scores)
    console = Console(record=True, width=80)
    print_run_summary(agg, run.manifest, console)
    lines = console.export_text().splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80 and "±" not in "\n".join(lines)

    def bounds(k: int, n: int) -> str:
        lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
        return f"{100 * lo:.1f}–{100 * hi:.1f}"

    checked = 0
    for config, group in scores.groupby("config"):
        at = next(i for i, line in enumerate(lines) if line.split()[:1] and line.split()[0].rstrip("*") == config)
        n = len(group)
        for column, outcome in ((1, "good"), (2, "correct")):
            k = int(group[outcome].sum())
            assert lines[at].split()[column] == f"{100 * k / n:.1f}"
            assert lines[at + 1].split()[column - 1] == bounds(k, n)
            checked += 1
    assert checked == 2 * scores["config"].nunique() >= 6
    segment = scores["segment"].iloc[0]
    at = next(i for i, line in enumerate(lines) if line.split()[:1] == [segment])
    first = min(scores["config"].unique(), key=list(agg["config"]).index)
    group = scores[(scores["config"] == first) & (scores["segment"] == segment)]
    good, correct = int(group["good"].sum()), int(group["correct"].sum())
    cell = [lines[at].split()[2], lines[at + 1].split()[0], lines[at + 2].split()[0]]
    n = len(group)
    lo_g, hi_g = proportion_confint(good, n, alpha=0.05, method="wilson")
    lo_c, hi_c = proportion_confint(correct, n, alpha=0.05, method="wilson")
    assert cell == [f"{100 * good / n:.0f}/{100 * correct / n:.0f}", f"{100 * lo_g:.0f}–{100 * hi_g:.0f}",
                    f"{100 * lo_c:.0f}–{100 * hi_c:.0f}"]


def test_the_run_summary_says_its_invalid_share_includes_failed_calls(demo_run):
    """The table's invalid % counts failed calls; the max_invalid_share gate does not by default: the
    same name gave two numbers for one run. The table now says what it counts when calls failed."""
    import pandas as pd
    from rich.console import Console

    from evalkit._console import print_run_summary
    from evalkit.runs import RunFolder
    from evalkit.score import aggregate

    run = RunFolder(path=demo_run.run_dir)
    scores = pd.read_parquet(demo_run.run_dir / "scores.parquet")
    note = "invalid %: invalid outputs and failed calls"
    console = Console(record=True, width=80)
    print_run_summary(aggregate(scores), run.manifest, console)
    assert note not in console.export_text()  # no failed call: nothing to explain
    scores.loc[scores.index[:5], "status"] = "failed"
    console = Console(record=True, width=200)
    print_run_summary(aggregate(scores), run.manifest, console)
    assert note in console.export_text()
