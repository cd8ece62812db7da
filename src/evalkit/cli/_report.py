"""CLI: `evalkit report RUN [RUN ...] [--baseline RUN] -o reports/NAME.html`.

`evalkit report A B` shows B against A (same as `evalkit report B --baseline A`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from evalkit.cli._common import ReportsOpt


def register(app: typer.Typer) -> None:
    """Add the report command to the app."""

    @app.command("report")
    def report(
        runs: Annotated[list[str], typer.Argument(
            help="Run ids under the reports dir, 'latest', or run folders. Two runs A B: B against A.")],
        baseline: Annotated[str | None, typer.Option("--baseline", "-b",
                                                        help="Reference run (id, 'latest' or path).")] = None,
        out: Annotated[Path | None, typer.Option("--out", "-o",
                                                    help="HTML file to write (default: RUN/report.html).")] = None,
        title: Annotated[str | None, typer.Option(help="Report title.")] = None,
        threshold_set: Annotated[str | None, typer.Option(
            "--threshold-set", help="Threshold set to show (default: the one the projection applied, else "
            "suite = thresholds.json).")] = None,
        max_prompts: Annotated[int, typer.Option(
            min=0, help="Drill-downs that also embed the full prompt (every flipped/failed case has one).")] = 50,
        reports: ReportsOpt = None,
    ) -> None:
        """Write one self-contained HTML report; with two runs A B, B against A config by config."""
        from evalkit.cli._common import cli_errors

        with cli_errors():
            from evalkit.cli._common import resolve_baseline_ref, resolve_run_ref
            from evalkit.report import build_report, describe_threshold_set

            dirs = [resolve_run_ref(r, reports) for r in runs]
            base = resolve_baseline_ref(baseline, dirs[-1], reports) if baseline else None
            target = out or dirs[-1] / "report.html"
            path = build_report(dirs, out=target, baseline=base, title=title, max_prompts=max_prompts,
                                threshold_set=threshold_set)
            from evalkit.cli._common import simulated_configs, simulated_line
            from evalkit.runs import RunFolder

            for d in [*([base] if base else []), *dirs]:
                line = simulated_line(simulated_configs(d, RunFolder(path=d).configs))
                if line:
                    typer.echo(f"{d.name}: {line}", err=True)
            for d in dirs:
                typer.echo(f"threshold set ({d.name}): {describe_threshold_set(d, threshold_set)}", err=True)
            typer.echo(str(path))
