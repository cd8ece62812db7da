"""CLI: ``evalkit compare`` - paired comparison of two runs, or two configs of one run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from evalkit.cli._common import ReportsOpt, cli_errors


def _missing(x: Any) -> bool:
    from evalkit.formatting import missing

    return missing(x)


def _fmt_rate(rate: Any, lo: Any, hi: Any) -> str:
    from evalkit.formatting import rate_lines

    return rate_lines(rate, lo, hi)  # over its interval, on two lines: the table stays within 80 columns


def _fmt_diff(d: Any, lo: Any, hi: Any, mark: str = "") -> str:
    if _missing(d):
        return "-"
    return f"{d * 100:+.1f}{mark}\n[{lo * 100:+.1f},{hi * 100:+.1f}]"


def _fmt_p(p: Any) -> str:
    if _missing(p):
        return "-"
    return f"{p:.2g}" if p >= 0.001 else f"{p:.1e}"


def _print(comp: Any, max_flips: int) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from evalkit.score import ALL

    console = Console()
    console.print(
        f"[bold]base[/] {comp.base_run or ''} / {comp.base_config}   vs   "
        f"[bold]candidate[/] {comp.cand_run or ''} / {comp.cand_config}   "
        f"({comp.n_paired} paired cases)")
    for outcome in [comp.outcome] + [o for o in ("good", "correct") if o != comp.outcome]:
        rows = comp.rows(outcome)
        # Narrow on purpose: CI logs are 80 columns. Raw p-values are in --json.
        table = Table(title=f"{outcome} rate %, candidate - base", title_justify="left", box=box.SIMPLE_HEAD,
                      pad_edge=False, padding=(0, 0))
        for col, justify in (("segment", "left"), ("n", "right"), ("base", "right"), ("cand", "right"),
                             ("diff [95% CI]", "right"), ("b", "right"), ("c", "right"), ("p", "right")):
            table.add_column(col, justify=justify, no_wrap=True,
                             **({"overflow": "ellipsis", "max_width": 24} if col == "segment" else {}))
        for r in rows.itertuples(index=False):
            mark = ""
            if r.significant:
                mark = " [red]▼ sig[/]" if r.direction == "regressed" else " [green]▲ sig[/]"
            seg = f"[bold]{r.segment}[/]" if r.segment == ALL else str(r.segment)
            p_shown = _fmt_p(r.p_adjusted) if r.segment != ALL else _fmt_p(r.p_value)
            table.add_row(seg, str(r.n), _fmt_rate(r.base_rate, r.base_lo, r.base_hi),
                          _fmt_rate(r.cand_rate, r.cand_lo, r.cand_hi),
                          _fmt_diff(r.diff, r.diff_lo, r.diff_hi, mark), str(r.b), str(r.c), p_shown)
        console.print(table)
    console.print("base, cand: rate over its 95% CI (Wilson); diff: paired 95% CI (Newcombe); b/c: cases that got worse/better; "
                  "p: McNemar exact, Holm-adjusted across segments; ▼/▲ sig: significant at alpha=0.05")
    flips = comp.flips[comp.flips["outcome"] == comp.outcome]
    if len(flips):
        ft = Table(title=f"flipped cases ({comp.outcome}): {len(flips)} "
                         f"({int((flips['direction'] == 'regressed').sum())} regressed)"
                         + (f", first {max_flips} shown" if len(flips) > max_flips else ""),
                   title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        for col in ("case", "segment", "direction", "base", "candidate"):
            ft.add_column(col, overflow="fold")
        ordered = flips.sort_values(["direction", "segment", "case_id"], ascending=[False, True, True])
        for r in ordered.head(max_flips).itertuples(index=False):
            ft.add_row(str(r.case_id), str(r.segment), r.direction,
                       _side(r.base_status, r.base_action, r.base_reasons),
                       _side(r.cand_status, r.cand_action, r.cand_reasons))
        console.print(ft)
    else:
        console.print(f"no flipped cases on {comp.outcome}")
    for note in comp.notes:
        console.print(f"[yellow]note:[/] {note}")


def _side(status: Any, action: Any, reasons: Any) -> str:
    head = str(action) if status == "ok" else f"{status}"
    rs = [] if reasons is None else [str(x) for x in list(reasons)]
    return head + (": " + ", ".join(rs) if rs else "")


def register(app: typer.Typer) -> None:
    """Add ``evalkit compare``."""

    @app.command("compare")
    def compare_cmd(
        run_a: Annotated[str, typer.Argument(help="Base run: run id under reports/, a run folder, or 'latest'.")],
        run_b: Annotated[str | None, typer.Argument(
            help="Candidate run. Omit to compare --config-a and --config-b within RUN_A.")] = None,
        config_a: Annotated[str | None, typer.Option("--config-a", help=(
            "Base configuration name (default with two runs: every configuration they share, pair by pair)."))] = None,
        config_b: Annotated[str | None, typer.Option("--config-b", help="Candidate configuration name.")] = None,
        outcome: Annotated[str, typer.Option("--outcome", help="Primary outcome: good or correct.")] = "good",
        allow_dataset_mismatch: Annotated[bool, typer.Option(
            "--allow-dataset-mismatch", help="Compare runs on different dataset versions (shared cases only).")] = False,
        json_: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON on stdout instead.")] = False,
        json_out: Annotated[Path | None, typer.Option("--json-out", help="Also write the comparison as JSON here.")] = None,
        max_flips: Annotated[int, typer.Option("--max-flips", min=0, help="Flipped cases to print per pair.")] = 25,
        reports: ReportsOpt = None,
    ) -> None:
        """Paired comparison: per-segment differences in good/correct rates, McNemar exact test, flipped cases.

        Two runs: every configuration they share is compared with itself, pair by pair; --config-a/--config-b
        pick one pair. JSON: one comparison object, or {"pairs": [...], "simulated": any pair's} when several pairs
        were compared; each says which side is simulated.
        """
        with cli_errors():
            from evalkit import _io
            from evalkit.cli._common import resolve_run_ref
            from evalkit.cli._conventions import echo_json
            from evalkit.score import compare_run_pairs, compare_runs, comparison_to_dict

            dir_a = resolve_run_ref(run_a, reports)
            dir_b = resolve_run_ref(run_b, reports) if run_b is not None else None
            if dir_b is None:
                comps = [compare_runs(dir_a, None, config_a=config_a, config_b=config_b, outcome=outcome,
                                      allow_dataset_mismatch=allow_dataset_mismatch)]
            else:
                comps = compare_run_pairs(dir_a, dir_b, config_a=config_a, config_b=config_b, outcome=outcome,
                                          allow_dataset_mismatch=allow_dataset_mismatch)
            docs = [comparison_to_dict(c) for c in comps]
            doc = docs[0] if len(docs) == 1 else {"schema": 1, "simulated": any(d["simulated"] for d in docs),
                                                  "pairs": docs}
            if json_:
                echo_json(doc)
            else:
                for i, comp in enumerate(comps):
                    if len(comps) > 1:
                        typer.echo(f"\n== pair {i + 1} of {len(comps)}: {comp.base_config} vs {comp.cand_config}")
                    _print(comp, max_flips)
                if len(comps) > 1:
                    _print_overview(comps)
                _print_simulated(comps)
            if json_out is not None:
                _io.write_json(json_out, doc)
                typer.echo(f"wrote {json_out}", err=True)


def _print_simulated(comps: list[Any]) -> None:
    from evalkit.cli._common import simulated_line

    sims = list(dict.fromkeys(f"base {x.base_config}" for x in comps if x.base_simulated))
    sims += dict.fromkeys(f"candidate {x.cand_config}" for x in comps if x.cand_simulated)
    line = simulated_line(sims)
    if line:
        from rich.console import Console

        Console(highlight=False).print(line)  # wrapped to the terminal, like the tables


def _print_overview(comps: list[Any]) -> None:
    """One line per pair: the overall difference and the segments that moved significantly."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from evalkit.score import ALL


    table = Table(title=f"all pairs ({comps[0].outcome} rate %, candidate - base)", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("config", "n", "diff [95% CI]", "significant changes"):
        table.add_column(col, overflow="fold")
    for comp in comps:
        rows = comp.rows()
        overall = rows[rows["segment"] == ALL].iloc[0]
        moved = [f"▼ {s}" for s in comp.significant_segments(direction="regressed")] + \
                [f"▲ {s}" for s in comp.significant_segments(direction="improved")]
        name = comp.base_config if comp.base_config == comp.cand_config else f"{comp.base_config} vs {comp.cand_config}"
        table.add_row(name, str(comp.n_paired), _fmt_diff(overall["diff"], overall["diff_lo"], overall["diff_hi"]),
                      ", ".join(moved) or "none")
    Console().print(table)
