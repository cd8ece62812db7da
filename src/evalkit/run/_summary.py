"""The console summary ``evalkit run`` prints: what an engineer reads in CI logs.

Kept narrow (CI logs are 80 columns): rates in percent as "76.1±1.6" (the half-width of
the 95% Wilson interval), n in the title, a * on every simulated configuration.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any


def _rate(row: Any, name: str) -> str:
    value = row[f"{name}_rate"] if f"{name}_rate" in row else row[name]  # "gap" has no _rate suffix
    lo, hi = row[f"{name}_lo"], row[f"{name}_hi"]
    if _missing(value):  # no cases
        return "–"
    return f"{100 * value:.1f}±{50 * (hi - lo):.1f}"


def _money(value: Any) -> str:
    if _missing(value):
        return "unknown"
    return "$0" if value == 0 else f"${value:,.4f}" if value < 1 else f"${value:,.0f}"


def print_run_summary(agg: Any, manifest: dict[str, Any], console: Any, *, resumed: bool = False) -> None:
    """``agg``: the run's evalkit.score.aggregate table (already computed for summary.json)."""
    from evalkit.score import ALL

    if resumed:
        console.print(f"resumed interrupted run {manifest['run_id']}: finished calls were not sent again")
    sim = {c["name"]: bool(c.get("simulated")) for c in manifest["configs"]}
    label = {c: c + ("*" if s else "") for c, s in sim.items()}
    n = int(agg[agg["segment"] == ALL]["n"].max())
    table = _table(f"{manifest['run_id']}: {n} cases per config, % with 95% interval")
    for col in ("config", "good %", "correct %", "gap %", "invalid %", "escalated %", "$/case"):
        table.add_column(col, justify="left" if col == "config" else "right", no_wrap=col == "config")
    for _, row in agg[agg["segment"] == ALL].iterrows():
        cost = row.get("cost_mean")
        table.add_row(label[row["config"]], _rate(row, "good"), _rate(row, "correct"), _rate(row, "gap"),
                      _rate(row, "invalid"), _rate(row, "deferred"), _money(cost))
    console.print(table)

    seg = _table("good/correct % by segment")
    seg.add_column("segment", no_wrap=True)
    configs = list(dict.fromkeys(agg["config"]))
    for c in configs:
        seg.add_column(label[c], justify="right", overflow="fold")
    for segment in [s for s in dict.fromkeys(agg["segment"]) if s != ALL]:
        cells = []
        for c in configs:
            r = agg[(agg["config"] == c) & (agg["segment"] == segment)]
            cells.append("–" if r.empty else f"{100 * r.iloc[0]['good_rate']:.0f}/{100 * r.iloc[0]['correct_rate']:.0f}")
        seg.add_row(f"{segment} {int(agg[agg['segment'] == segment]['n'].max())}", *cells)
    console.print(seg)
    if any(sim.values()):
        console.print("* simulated: numbers from the simulated provider, not a real model.")


def print_stage_summary(run_dir: Path, console: Any) -> None:
    """One line per configuration from thresholds.json and projection.json, and the judge's
    agreement with human labels, when present."""
    judge = _load(run_dir / "judge.json")
    if judge and (human := judge.get("judge_vs_human") or {}).get("kappa") is not None:
        lo, hi = human.get("kappa_interval") or (None, None)
        ci = f" [{lo:.2f}, {hi:.2f}]" if lo is not None else ""
        console.print(f"LLM judge vs human labels: kappa {human['kappa']:.2f}{ci}, n={human['n']}"
                      f"{'' if judge.get('judge_decides', True) else ' (advisory: not used for good)'}")
    thresholds = _load(run_dir / "thresholds.json")
    projection = _load(run_dir / "projection.json")
    if not thresholds and not projection:
        return

    table = _table("automation and cost: certified on the dataset; projected at the production mix")
    for col in ("config", "certified auto %", "projected auto % (naive)", "$/month p50 (naive)"):
        table.add_column(col, justify="left" if col == "config" else "right", no_wrap=col == "config")
    names = list((thresholds or projection or {}).get("configs", {}))
    for name in names:
        t = (thresholds or {}).get("configs", {}).get(name, {})
        p = (projection or {}).get("configs", {}).get(name, {})
        cov = t.get("coverage") or {}
        cert = f"{100 * cov['value']:.0f}±{50 * (cov['hi'] - cov['lo']):.0f}" if cov.get("value") is not None else "–"
        auto, naive = p.get("automation_rate") or {}, p.get("naive_automation_rate") or {}
        proj = (f"{100 * auto['value']:.0f}±{50 * (auto['hi'] - auto['lo']):.0f} ({100 * naive['value']:.0f})"
                if auto.get("value") is not None else "–")
        month = p.get("monthly_cost") or {}
        cost = f"{_money(month.get('p50'))} ({_money(month.get('naive'))})" if month else "–"
        table.add_row(name, cert, proj, cost)
    console.print(table)
    if thresholds:
        console.print(f"risk target: error rate among automated decisions <= {thresholds.get('alpha')} with "
                      f"probability >= {1 - float(thresholds.get('delta') or 0):.2f} ({thresholds.get('mode')}); "
                      "`evalkit calibrate RUN` for the full tables.")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _table(title: str) -> Any:
    from rich import box
    from rich.table import Table

    return Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 0))


def _load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None
