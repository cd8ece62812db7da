"""What ``evalkit run`` does around the run itself: print the summary, then the stages
the suite asks for (calibration, projection, gates), the report, and the exit code."""

from __future__ import annotations

from pathlib import Path

from evalkit.errors import EXIT_GATE_FAILED, EXIT_OK, NotFound
from evalkit.run._runner import RunOutcome, RunRequest, run_suite


def print_summary(outcome: RunOutcome) -> None:
    from rich.console import Console

    from evalkit.run._summary import print_run_summary

    print_run_summary(outcome.aggregates, outcome.manifest, Console(), resumed=outcome.resumed)


def run_and_evaluate(request: RunRequest) -> int:
    outcome = run_suite(request)
    if request.progress:
        print_summary(outcome)
    return EXIT_GATE_FAILED if post_run(outcome, baseline=request.baseline, verbose=request.progress) else EXIT_OK


def resolve_baseline(ref: str | None, outcome: RunOutcome) -> Path | None:
    """A run id, a run folder, or 'latest' = the newest earlier complete run of the same suite."""
    if ref is None:
        return None
    if ref == "latest":
        from evalkit.run._store import list_runs

        for m in list_runs(outcome.run_dir.parent):
            if m.get("run_id") != outcome.run_id and m.get("status") == "complete" \
                    and m.get("suite", {}).get("name") == outcome.manifest["suite"]["name"]:
                return Path(m["_dir"])
        raise NotFound(f"--baseline latest: no earlier complete run of suite {outcome.manifest['suite']['name']!r} "
                       f"in {outcome.run_dir.parent}")
    from evalkit.score import resolve_run_dir

    return resolve_run_dir(ref, reports=outcome.run_dir.parent)


def post_run(outcome: RunOutcome, *, baseline: str | None, verbose: bool) -> bool:
    """Calibrate, project and gate as the suite asks, then write the report. True when a gate failed."""
    from rich.console import Console

    from evalkit.suite import Suite

    console = Console(quiet=not verbose)
    suite = Suite.model_validate(outcome.manifest["suite"]["spec"])
    run_dir = outcome.run_dir
    baseline_dir = resolve_baseline(baseline, outcome)
    if suite.calibration is not None:
        from evalkit.calibrate import calibrate_run

        calibrate_run(run_dir, spec=suite.calibration, economics=suite.economics)
    if suite.projection is not None:
        from evalkit.project import project_run

        project_run(run_dir, spec=suite.projection, economics=suite.economics)
    failed = False
    if suite.gates:
        from evalkit.gate import evaluate_gates, write_gate_outputs

        report = evaluate_gates(run_dir, suite.gates, baseline_dir=baseline_dir)
        paths = write_gate_outputs(report, run_dir)
        failed = not report.passed
        marks = {"pass": "[green]PASS[/green]", "fail": "[red]FAIL[/red]", "skip": "[yellow]SKIP[/yellow]"}
        for result in report.results:
            mark = marks.get(result.status, result.status)
            console.print(f"{mark} {result.config}: {result.name}: {result.message}")
        console.print(f"gates: {'FAILED' if failed else 'passed'} (JUnit: {paths['junit.xml']}, summary: {paths['summary.md']})")
    from evalkit.report import build_report
    from evalkit.run._summary import print_stage_summary

    print_stage_summary(run_dir, console)
    out = build_report([run_dir], out=run_dir / "report.html", baseline=baseline_dir, title=suite.report.title)
    console.print(f"run folder: {run_dir}\nreport: {out}")
    return failed
