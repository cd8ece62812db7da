"""CLI: ``evalkit runs list|query|history|rm|prune|bless``: every run under the reports folder.

A RUN argument is a run id, a unique prefix of one, ``latest``, or a run folder path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from evalkit.cli._common import ReportsOpt, add_group, cli_errors

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


def _root(reports: Path | None) -> Path:
    from evalkit._home import reports_dir

    return Path(reports) if reports is not None else reports_dir()


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def _finite(value: Any) -> Any:
    """``value`` with every NaN or infinite float (at any depth) as None: JSON has no NaN or Infinity."""
    import math

    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _kind(entry: Any) -> str:
    """The entry's kind ('copy', 'shard', ...), 'unreadable' when its manifest cannot be read."""
    return "unreadable" if entry.manifest is None else str(entry.kind)


def _kind_cell(entry: Any) -> str:
    """What sets the folder apart from an ordinary run, for the table: 'copy in folder blessed-g1', 'shard 1/3';
    '' for an ordinary run. A copy repeats its run's id, so its folder is named."""
    kind = _kind(entry)
    if kind == "shard" and entry.shard is not None:
        kind = f"shard {entry.shard[0]}/{entry.shard[1]}"
    if kind in ("run", "unreadable"):  # unreadable: the status says so
        kind = ""
    if entry.folder != entry.run_id:
        kind = f"copy in folder {entry.folder}" if kind == "copy" else f"{kind} (folder {entry.folder})".strip()
    return kind


def runs_list(reports: ReportsOpt = None, json_: JsonOpt = False,
              suite: Annotated[str | None, typer.Option(help="Only runs of this suite.")] = None) -> None:
    """List runs, newest first, with their full ids (any unique prefix works as RUN elsewhere)."""
    with cli_errors():
        from evalkit.history import list_run_entries

        entries = [e for e in list_run_entries(_root(reports)) if suite is None or e.suite == suite]
        if json_:
            _echo_json([e.to_json() for e in entries])
            return
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        if not entries:
            typer.echo(f"no runs under {_root(reports)}")
            return
        table = Table(box=None, pad_edge=False)
        # The id never wraps (the column is as wide as the longest); what sets a folder apart from an
        # ordinary run goes on a second line under it: a copy (a baseline blessed into the reports folder)
        # repeats its run's id, and the line names its folder.
        table.add_column("run id", overflow="fold", min_width=max(len(e.run_id) for e in entries))
        for col in ("status", "configs", "cases", "created"):
            table.add_column(col, overflow="fold")
        for e in entries:
            label = f"{len(e.configs)}" + (" sim" if e.simulated else "") + (" batch" if e.execution == "batch" else "")
            created = (e.created or "?").replace("T", " ")[:16]
            kind = _kind_cell(e)
            table.add_row(Text(e.run_id + (f"\n  {kind}" if kind else "")), e.status, label,
                          str(e.cases if e.cases is not None else "?"), created)
        console = Console()
        console.print(table)
        for e in entries:
            if e.problem:  # say why, so that the folder can be repaired or removed knowingly
                console.print(f"{e.run_id}: {e.problem}", markup=False, highlight=False)


def runs_query(
    sql: Annotated[str, typer.Argument(help="One read-only SQL statement (DuckDB: SELECT, WITH, FROM ...) over the "
                                            "views runs, run_configs, scores, results.")],
    reports: ReportsOpt = None, json_: JsonOpt = False,
) -> None:
    """Query every run with SQL (embedded DuckDB). Views: runs (one row per run, from manifests),
    run_configs (run x configuration), scores and results (every run's parquet tables; see docs/tables.md).
    Exactly one read-only statement: several, or one that writes (COPY, CREATE, ATTACH ...), exit 2.
    Values print as they are; --json writes NaN and infinities as null.

    Example: evalkit runs query "SELECT run_id, segment, avg(good::INT) FROM scores GROUP BY ALL"
    """
    with cli_errors():
        from evalkit.history import run_query

        warnings: list[str] = []
        columns, rows = run_query(_root(reports), sql, warnings=warnings)
        for line in warnings:
            typer.echo(f"warning: {line}", err=True)
        if json_:
            typer.echo(json.dumps([dict(zip(columns, _finite(row))) for row in rows], indent=2, default=str,
                                  allow_nan=False))
            return
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        # Values are data: Text cells are never read as markup ('[/bold]') nor emoji codes (':x:').
        table = Table(box=None)
        for col in columns:
            table.add_column(Text(col), overflow="fold")
        for row in rows:
            table.add_row(*(Text("" if v is None else str(v)) for v in row))
        Console(emoji=False, markup=False, highlight=False).print(table)
        typer.echo(f"({len(rows)} row{'s' if len(rows) != 1 else ''})", err=True)


def runs_history(
    config: Annotated[str, typer.Option("--config", "-c", help="Configuration to follow across runs.")],
    suite: Annotated[str | None, typer.Option(help="Suite name (default: the newest run's with this config).")] = None,
    last: Annotated[int | None, typer.Option(min=1, help="Only the N most recent runs.")] = None,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="HTML page (default REPORTS/history-SUITE-CONFIG.html).")] = None,
    all_runs: Annotated[bool, typer.Option("--all-runs", help=(
        "Also plot shards of sharded runs and copies of runs in the reports folder (blessed baselines), "
        "marked; left out by default: the merged run stands for its shards."))] = False,
    reports: ReportsOpt = None, json_: JsonOpt = False,
) -> None:
    """Good rate, automation and cost per segment across runs of one suite, with 95% intervals:
    a table here and a chart in an HTML page. A sequential run that stopped early is marked (its numbers
    cover only the cases it sent); shards and blessed copies are left out unless --all-runs."""
    with cli_errors():
        import re

        from evalkit.history import (
            excluded_lines,
            fmt_cost,
            fmt_rate,
            run_history,
            run_label,
            segments_of,
            write_history_page,
        )

        root = _root(reports)
        history = run_history(root, config=config, suite=suite, last=last, include_all=all_runs)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{history.suite}-{history.config}")
        page = write_history_page(history, out or root / f"history-{safe}.html")
        if json_:
            _echo_json({**history.to_json(), "page": str(page)})
            return
        from rich.console import Console
        from rich.table import Table

        for warning in history.warnings:  # a trend that mixes datasets: said whatever else is printed
            typer.echo(f"warning: {warning}", err=True)
        console = Console()
        for i in range(len(history.runs)):
            console.print(run_label(history, i), markup=False, highlight=False)
        for line in excluded_lines(history):
            console.print(line, markup=False, highlight=False)
        cells = {(p.segment, p.folder): p for p in history.points}
        for title, pick, fmt in (("good rate", lambda p: p.good, fmt_rate),
                                 ("automation (calibrated thresholds)", lambda p: p.automation, fmt_rate),
                                 ("cost per case (USD)", lambda p: p.cost, fmt_cost)):
            table = Table(title=title, box=None, title_justify="left")
            table.add_column("segment", no_wrap=True)
            for i in range(len(history.runs)):
                table.add_column(f"#{i + 1}" + ("*" if history.note(history.runs[i]) else ""), overflow="fold")
            for segment in segments_of(history):
                row = [fmt(pick(cells[(segment, r.folder)])) if (segment, r.folder) in cells else "–"
                       for r in history.runs]
                table.add_row(segment, *row)
            console.print(table)
        if any(p.simulated for p in history.points):
            console.print("numbers are simulated (simulated provider)", highlight=False)
        console.print(f"page: {page}", markup=False, highlight=False)


def runs_rm(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run id, unique prefix, 'latest' or folder.")],
    force: Annotated[bool, typer.Option(help="Also remove a run whose manifest still says running "
                                            "(its process was killed). A locked run is never removed.")] = False,
    reports: ReportsOpt = None, json_: JsonOpt = False,
) -> None:
    """Remove one run folder. Refuses a run that is still running."""
    with cli_errors():
        from evalkit.history import remove_run
        from evalkit.runs import resolve_run

        entry = remove_run(resolve_run(run_ref, reports=_root(reports)), force=force)
        if json_:
            _echo_json({"removed": [entry.to_json()]})
        else:
            typer.echo(f"removed {entry.run_id} ({entry.path})")


def runs_prune(
    keep: Annotated[int, typer.Option(help="Runs to keep per suite (the newest).", min=0)],
    suite: Annotated[str | None, typer.Option(help="Only prune runs of this suite.")] = None,
    dry_run: Annotated[bool, typer.Option(help="Say what would go; remove nothing.")] = False,
    reports: ReportsOpt = None, json_: JsonOpt = False,
) -> None:
    """Remove all but the KEEP newest runs of each suite. Never removed: running or evaluating runs, runs
    whose manifest cannot be read, and a run that a kept run names as its baseline (listed as kept, with why)."""
    with cli_errors():
        from evalkit.history import plan_prune, prune_runs

        plan = plan_prune(_root(reports), keep=keep, suite=suite)
        removed = plan.remove if dry_run else prune_runs(plan)
        if json_:
            _echo_json({"dry_run": dry_run, "removed": [e.to_json() for e in removed],
                        "kept": [e.run_id for e in plan.keep],
                        "skipped": [{"run_id": e.run_id, "folder": e.folder, "kind": _kind(e), "reason": why}
                                    for e, why in plan.skipped]})
            return
        verb = "would remove" if dry_run else "removed"
        for e in removed:
            typer.echo(f"{verb} {e.run_id}")
        alone = {id(e) for e, _ in plan.left_alone}
        for e, why in plan.skipped:
            if id(e) in alone:  # a copy repeats its run's id: named by its folder
                typer.echo(f"left alone {e.folder}: {why}")
            else:
                typer.echo(f"kept {e.run_id}: {why}")
        typer.echo(plan.tally(verb, len(removed)))


def runs_bless(
    run_ref: Annotated[str, typer.Argument(metavar="RUN", help="Run id, unique prefix, 'latest' or a run folder.")],
    dest: Annotated[Path, typer.Argument(help="Folder to hold the baseline (e.g. suites/baselines/upgrades-ci).")],
    reports: ReportsOpt = None,
) -> None:
    """Bless a complete run as a baseline: copy its results (no journal) to DEST, e.g. to commit for CI.

    DEST must be new, empty or an earlier baseline (which is replaced atomically); any other folder -
    your own files, the reports folder, a run folder - is refused and left untouched."""
    with cli_errors():
        from evalkit.run import bless_baseline
        from evalkit.runs import resolve_run

        root = _root(reports)
        files = bless_baseline(resolve_run(run_ref, reports=root), dest, reports=root)
        typer.echo(f"baseline written to {dest} ({len(files)} files)")


def register(app: typer.Typer) -> None:
    add_group(app, "runs", "Past runs: list, query with SQL, history across runs, remove, prune, bless.",
              {"list": runs_list, "query": runs_query, "history": runs_history, "rm": runs_rm, "prune": runs_prune,
               "bless": runs_bless})
