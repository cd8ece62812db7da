"""CLI: `evalkit gate RUN [--baseline RUN] [--suite FILE]` - re-evaluate gates on stored results.

Exit codes: 0 all gates pass, 1 a gate failed, 2 bad usage or configuration (also a baseline run
with no configuration matching this run's).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from evalkit.cli._common import ReportsOpt


def _known_configs(folder: object) -> set[str]:
    """The run's configurations and those of the suite it was made from (a run made with --config has
    fewer): the names a gate's ``configs:`` may use."""
    manifest = folder.manifest  # type: ignore[attr-defined]
    recorded = manifest.suite.spec.get("configs") if manifest is not None else None
    names = {c.get("name") for c in recorded or () if isinstance(c, dict)}
    return {n for n in names if isinstance(n, str)} | set(folder.configs)  # type: ignore[attr-defined]


def _recorded_suite(run_dir: Path) -> str | None:
    """The suite file the run was made with (its manifest's ``suite.path``): the file ``::error`` lines name."""
    from evalkit.runs import RunFolder

    manifest = RunFolder(path=run_dir).manifest
    return manifest.suite.path if manifest is not None and manifest.suite.path else None


def _gates_for(run_dir: Path, suite: Path | None) -> list:
    """Gates from --suite, else from the suite recorded in the run's manifest. A gate naming a
    configuration neither the run nor its suite has is a typo: exit 2, saying where."""
    from evalkit.errors import ConfigError
    from evalkit.runs import RunFolder
    from evalkit.suite import check_gate_configs, load_gates_from_suite, parse_gates

    folder = RunFolder(path=run_dir)
    manifest = folder.manifest
    if suite is not None:
        return load_gates_from_suite(suite, known_configs=_known_configs(folder))
    spec = manifest.suite.spec if manifest is not None else {}
    if spec.get("gates"):
        # The suite as it was when the run was made: gates cannot drift from the results.
        source = f"{run_dir / 'manifest.json'}: suite.spec.gates"
        gates = parse_gates(spec["gates"], source=source)
        check_gate_configs(gates, _known_configs(folder), where=lambda i, j: f"{source}[{i}].configs[{j}]")
        return gates
    recorded = manifest.suite.path if manifest is not None else None
    if recorded and Path(recorded).is_file():
        return load_gates_from_suite(Path(recorded), known_configs=_known_configs(folder))
    raise ConfigError(f"no gates: pass --suite FILE (the run's suite {recorded or '(not recorded)'} is not readable)")


def _baseline_for(run_dir: Path, baseline: str | None, reports: Path | None = None) -> Path | None:
    """--baseline (``latest`` = the newest earlier complete run of the same suite), else the manifest's."""
    from evalkit.cli._common import resolve_baseline_ref
    from evalkit.errors import NotFound
    from evalkit.runs import RunFolder

    if baseline:
        return resolve_baseline_ref(baseline, run_dir, reports)
    manifest = RunFolder(path=run_dir).manifest
    recorded = manifest.baseline if manifest is not None else None
    if not recorded:
        return None
    try:
        return resolve_baseline_ref(recorded, run_dir, reports)
    except NotFound:
        typer.echo(f"warning: baseline {recorded} recorded in the manifest was not found; baseline comparisons "
                   "are skipped", err=True)
        return None


def _sequential_verdict(run_dir: Path, *, baseline: str | None, suite: Path | None, config: str | None,
                        reports: Path | None = None) -> object:
    """A sequential run's stored gate verdict (gates.json), or None for any other run. A sequential run
    stopped once its anytime-valid tests settled the verdict; fixed-sample tests on the cases it stopped
    at are not valid (optional stopping), so `evalkit gate` never re-evaluates it: it prints the stored
    verdict and rewrites nothing. Asking for other gates or another baseline than the one it was run
    against is refused (exit 2)."""
    from evalkit.errors import ConfigError
    from evalkit.gate import stored_report
    from evalkit.runs import RunFolder

    folder = RunFolder(path=run_dir)
    manifest = folder.manifest
    seq = manifest.sequential if manifest is not None else None
    if not seq:
        return None
    why = (f"{run_dir} is a sequential run (evalkit run --sequential) that stopped at {seq.get('cases_done')} of "
           f"{seq.get('cases_total')} cases ({seq.get('stop_reason')}): its verdict comes from the anytime-valid "
           "tests it was run with, and fixed-sample tests on the cases it stopped at would not be valid (optional "
           "stopping)")
    report = stored_report(folder)
    if baseline is not None and report is not None:
        from evalkit.runs import RunFolder as Folder

        same = Folder(path=_baseline_for(run_dir, baseline, reports)).manifest  # type: ignore[arg-type]
        baseline = None if same is not None and same.run_id == report.baseline_run_id else baseline
    if suite is not None or baseline is not None:
        raise ConfigError(f"{why}, so it is not re-evaluated with --suite or --baseline. Re-run the suite "
                          "(evalkit run SUITE --sequential --baseline RUN) to gate it against other gates or "
                          "another baseline")
    if report is None:
        raise ConfigError(f"{why}, and its gates.json is missing: re-run it (evalkit run SUITE --sequential)")
    if config is not None:
        from dataclasses import replace

        if config not in {r.config for r in report.results}:
            raise ConfigError(f"configuration {config!r} has no gate results in run {report.run_id}")
        report = replace(report, results=tuple(r for r in report.results if r.config == config))
    typer.echo(f"{why}, so it is not re-evaluated; gates.json, junit.xml and summary.md are left as they are. "
               "Its stored verdict:", err=True)
    return report


def register(app: typer.Typer) -> None:
    """Add the gate command to the app."""

    @app.command("gate")
    def gate(
        run: Annotated[str, typer.Argument(help="Run id under the reports dir, 'latest', or a run folder.")],
        baseline: Annotated[str | None, typer.Option("--baseline", "-b", help=(
            "Baseline run (id, 'latest' or path); default: the baseline recorded in the run's manifest."))] = None,
        suite: Annotated[Path | None, typer.Option("--suite", "-s", help=(
            "Suite YAML whose `gates:` to apply; default: the suite recorded in the manifest."))] = None,
        config: Annotated[str | None, typer.Option("--config", "-c", help="Only this configuration.")] = None,
        # --no-write leaves the run folder alone; $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY are still written
        # (docs/ci.md).
        write: Annotated[bool, typer.Option(help="Write gates.json, junit.xml, summary.md into the run.")] = True,
        json_: Annotated[bool, typer.Option("--json", help="Print the gate results (gates.json) on stdout.")] = False,
        reports: ReportsOpt = None,
    ) -> None:
        """Evaluate the suite's gates on a stored run; exit 1 when a gate fails, 2 when the suite declares none."""
        import sys

        from evalkit.cli._common import cli_errors
        from evalkit.errors import EXIT_GATE_FAILED, EXIT_OK

        with cli_errors():
            from evalkit.cli._common import resolve_run_ref
            from evalkit.gate import (
                announce,
                evaluate_gates,
                summary_markdown,
                write_ci_outputs,
                write_gate_outputs,
            )

            run_dir = resolve_run_ref(run, reports)
            report = _sequential_verdict(run_dir, baseline=baseline, suite=suite, config=config, reports=reports)
            if report is None:
                gates = _gates_for(run_dir, suite)
                if not gates:
                    from evalkit.errors import ConfigError

                    raise ConfigError(f"no gates to evaluate: {suite or 'the suite recorded in ' + str(run_dir)} "
                                      "declares none; add a `gates:` section to the suite (see docs/ci.md) or pass "
                                      "--suite FILE")
                base = _baseline_for(run_dir, baseline, reports)
                report = evaluate_gates(run_dir, gates, baseline_dir=base, config=config)
                if write:
                    paths = write_gate_outputs(report, run_dir)
                    typer.echo(f"wrote {', '.join(p.name for p in paths.values())} in {run_dir}", err=True)
                else:  # the run folder stays as it was; the CI job's own files are still written
                    write_ci_outputs(report, run_dir)
            else:  # a sequential run's stored verdict: nothing in the run folder is rewritten
                write = False
                write_ci_outputs(report, run_dir)
            if json_:
                from evalkit.cli._conventions import echo_json

                echo_json(report.to_dict())
            elif sys.stdout.isatty():  # a terminal: the table wrapped to its width
                from rich.console import Console

                from evalkit.gate import print_summary

                print_summary(report, Console())
            else:  # piped: Markdown, as a pull-request comment takes it
                typer.echo(summary_markdown(report))
            announce(report, verbose=False, suite_path=str(suite) if suite else _recorded_suite(run_dir), summary=write)
        sys.exit(EXIT_OK if report.passed else EXIT_GATE_FAILED)
