"""The console summaries ``evalkit run`` prints (evalkit.pipeline): what an engineer reads in CI logs.

Kept narrow (CI logs are 80 columns): every rate in percent over the bounds of its 95% interval
(two lines: ``evalkit.formatting.rate_lines``), n in the title or beside the segment, a * on every
simulated configuration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evalkit.formatting import money, rate_lines
from evalkit.stats import ALL

if TYPE_CHECKING:
    from evalkit.runs import Manifest, RunFolder


def _rate(row: Any, name: str) -> str:
    value = row[f"{name}_rate"] if f"{name}_rate" in row else row[name]  # "gap" has no _rate suffix
    return rate_lines(value, row[f"{name}_lo"], row[f"{name}_hi"])


def print_run_summary(agg: Any, manifest: Manifest, console: Any, *, resumed: bool = False) -> None:
    """``agg``: the run's evalkit.score.aggregate table (already computed for summary.json)."""
    if resumed:
        console.print(f"resumed run {manifest.run_id}: answered calls were not sent again (the failed calls of "
                      "a run that stopped are tried again, their earlier attempts kept)")
    partial = manifest.partial or {}
    if partial:
        shards = ", ".join(str(s) for s in partial.get("shards") or [])
        console.print(f"[yellow]partial merge:[/] shards {shards} of {partial.get('of')} only (--allow-partial): "
                      "every number below covers those shards' cases, not the suite's")
    sim = {c.name: c.simulated for c in manifest.configs}
    label = {c: c + ("*" if s else "") for c, s in sim.items()}
    n = int(agg[agg["segment"] == ALL]["n"].max())
    table = _table(f"{manifest.run_id}: {n} cases per config, % over its 95% interval")
    for col in ("config", "good %", "correct %", "gap %", "invalid %", "escalated %", "$/case"):
        table.add_column(col, justify="left" if col == "config" else "right", no_wrap=col == "config")
    for _, row in agg[agg["segment"] == ALL].iterrows():
        cost = row.get("cost_mean")
        table.add_row(label[row["config"]], _rate(row, "good"), _rate(row, "correct"), _rate(row, "gap"),
                      _rate(row, "invalid"), _rate(row, "deferred"), money(cost))
    console.print(table)
    overall = agg[agg["segment"] == ALL]
    if "failed_k" in overall and int(overall["failed_k"].sum()):
        console.print("invalid %: invalid outputs and failed calls (a max_invalid_share gate counts failed calls "
                      "only with include_failed: true)")

    seg = _table("good/correct % by segment (n); below: good's 95% interval, then correct's")
    seg.add_column("segment", no_wrap=True)
    configs = list(dict.fromkeys(agg["config"]))
    for c in configs:
        seg.add_column(label[c], justify="right", overflow="fold")
    for segment in [s for s in dict.fromkeys(agg["segment"]) if s != ALL]:
        cells = []
        for c in configs:
            r = agg[(agg["config"] == c) & (agg["segment"] == segment)]
            cells.append("–" if r.empty else _good_correct(r.iloc[0]))
        seg.add_row(f"{segment} {int(agg[agg['segment'] == segment]['n'].max())}", *cells)
    console.print(seg)
    if any(sim.values()):
        console.print("* simulated: numbers from the simulated provider, not a real model.")
    print_failures(manifest, console)


def _good_correct(row: Any) -> str:
    """'79/94' over the good rate's interval and the correct rate's: three lines, five columns wide."""
    good = rate_lines(row["good_rate"], row["good_lo"], row["good_hi"], 0).split("\n")
    correct = rate_lines(row["correct_rate"], row["correct_lo"], row["correct_hi"], 0).split("\n")
    return "\n".join([f"{good[0]}/{correct[0]}", *good[1:], *correct[1:]])


def print_failures(manifest: Manifest, console: Any) -> None:
    """Failed calls by error class and configuration, and spend that is not known exactly."""
    from rich.markup import escape

    counts, errors = manifest.counts, manifest.errors
    if errors:
        total = sum(g.count for g in errors)
        calls = counts.calls if counts else "?"
        console.print(f"failed calls: {total} of {calls} (counted as not good and not correct)")
        for g in errors[:8]:
            console.print(f"  {g.error_class} x{g.count} in {escape(g.config)}: {escape(str(g.first_message)[:200])}",
                          soft_wrap=True)
        if len(errors) > 8:
            console.print(f"  ... {len(errors) - 8} more group(s): see summary.json")
    possibly = counts.possibly_billed_attempts if counts else 0
    if possibly:
        usd = counts.possibly_billed_usd
        bound = "an unknown amount (no price)" if usd is None else f"up to {money(usd)}"
        console.print(f"spend: {money(counts.recorded_usd)} recorded + {bound} possibly billed, unrecorded "
                      f"({possibly} attempt(s) ended without usage: timeout, dropped connection or a killed run)")


def print_stage_summary(run: RunFolder, console: Any) -> None:
    """One line per configuration from thresholds.json and projection.json, and the judge's
    agreement with human labels, when present."""
    judge = run.judge
    human = judge.judge_vs_human if judge is not None else None
    if human is not None and human.kappa is not None:
        lo, hi = human.kappa_interval or (None, None)
        ci = f" [{lo:.2f}, {hi:.2f}]" if lo is not None and hi is not None else ""
        console.print(f"LLM judge vs human labels: kappa {human.kappa:.2f}{ci}, n={human.n}"
                      f"{'' if judge.judge_decides else ' (advisory: not used for good)'}")
    thresholds, projection = run.thresholds, run.projection
    if thresholds is None and projection is None:
        return

    names = list((thresholds or projection).configs)  # type: ignore[union-attr]
    rows = [(name, thresholds.configs.get(name) if thresholds is not None else None,
             projection.configs.get(name) if projection is not None else None) for name in names]
    sizes = {r.n for _, t, p in rows for r in (t.coverage if t is not None else None,
                                                p.automation_rate if p is not None else None) if r is not None}
    one_n = next(iter(sizes)) if len(sizes) == 1 else None  # else each certified cell names its n
    table = _table("automation and cost: certified on the dataset"
                   + (f" (n={one_n:,} cases per config)" if one_n else "") + "; projected at the production mix")
    for col in ("config", "certified auto %", "projected auto % (naive)", "$/month p50 (naive)"):
        table.add_column(col, justify="left" if col == "config" else "right", no_wrap=col == "config")
    for name, t, p in rows:
        cov = t.coverage if t is not None else None
        cert = rate_lines(cov.value, cov.lo, cov.hi) if cov is not None and cov.value is not None else "–"
        if cov is not None and cov.value is not None and not one_n:
            cert = cert.replace("\n", f" n={cov.n or 0:,}\n", 1) if "\n" in cert else f"{cert} n={cov.n or 0:,}"
        auto, naive = (p.automation_rate, p.naive_automation_rate) if p is not None else (None, None)
        proj = "–"
        if auto is not None and auto.value is not None and naive is not None and naive.value is not None:
            rate, *bounds = rate_lines(auto.value, auto.lo, auto.hi).split("\n")
            naive_rate, *naive_bounds = rate_lines(naive.value, naive.lo, naive.hi).split("\n")
            proj = f"{rate} ({naive_rate})"
            if bounds or naive_bounds:  # each rate over its own interval, the naive one in brackets too
                proj += f"\n{(bounds or ['–'])[0]} ({(naive_bounds or ['–'])[0]})"
        month = p.monthly_cost if p is not None else None
        cost = f"{money(month.p50)} ({money(month.naive)})" if month is not None else "–"
        table.add_row(name + ("*" if run.simulated(name) else ""), cert, proj, cost)
    console.print(table)
    if any(run.simulated(n) for n in names):
        console.print("* simulated: numbers from the simulated provider, not a real model.")
    _print_projection_warnings(projection.warnings if projection is not None else [], console)
    if thresholds is not None:
        console.print(f"risk target: error rate among automated decisions <= {thresholds.alpha} with "
                      f"probability >= {1 - float(thresholds.delta or 0):.2f} ({thresholds.mode}); "
                      "`evalkit calibrate RUN` for the full tables.")


def _print_projection_warnings(warnings: list[str], console: Any, shown: int = 6) -> None:
    """What the projection says a reader must not miss (volume with no cases, flagged segments, unknown
    costs, a mix that leaves segments out): the run's console printed none of it before."""
    from rich.markup import escape

    for warning in warnings[:shown]:
        console.print(f"[yellow]projection:[/] {escape(warning)}")
    if len(warnings) > shown:
        console.print(f"[yellow]projection:[/] {len(warnings) - shown} more warning(s) in projection.json")


def _table(title: str) -> Any:
    from rich import box
    from rich.table import Table

    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0))
