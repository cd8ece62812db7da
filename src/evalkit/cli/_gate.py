"""CLI: `evalkit gate RUN [--baseline RUN] [--suite FILE]` - re-evaluate gates on stored results.

Exit codes: 0 all gates pass, 1 a gate failed, 2 bad usage or configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def _gates_for(run_dir: Path, suite: Path | None) -> list:
    """Gates from --suite, else from the suite recorded in the run's manifest."""
    import json

    from evalkit.errors import ConfigError
    from evalkit.gate import load_gates_from_suite

    if suite is not None:
        return load_gates_from_suite(suite)
    from evalkit.gate import parse_gates

    manifest_path = run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    recorded = manifest.get("suite")
    spec = recorded.get("spec") if isinstance(recorded, dict) else None
    if isinstance(spec, dict) and spec.get("gates"):
        # The suite as it was when the run was made: gates cannot drift from the results.
        return parse_gates(spec["gates"], source=f"{manifest_path}: suite.spec.gates")
    recorded = recorded.get("path") if isinstance(recorded, dict) else recorded
    if recorded and Path(recorded).is_file():
        return load_gates_from_suite(Path(recorded))
    raise ConfigError(f"no gates: pass --suite FILE (the run's suite {recorded or '(not recorded)'} is not readable)")


def _baseline_for(run_dir: Path, baseline: str | None) -> Path | None:
    import json

    from evalkit.errors import NotFound
    from evalkit.gate._rundata import resolve_run_ref

    if baseline:
        return resolve_run_ref(baseline)
    manifest_path = run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    recorded = manifest.get("baseline_run_id") or manifest.get("baseline")
    if isinstance(recorded, dict):
        recorded = recorded.get("run_id") or recorded.get("path")
    if not recorded:
        return None
    for candidate in (str(recorded), str(run_dir.parent / str(recorded))):
        try:
            found = resolve_run_ref(candidate)
        except NotFound:
            continue
        if found.resolve() != run_dir.resolve():  # 'latest' may now name this very run
            return found
    typer.echo(f"warning: baseline {recorded} recorded in the manifest was not found; baseline comparisons are skipped",
               err=True)
    return None


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
        write: Annotated[bool, typer.Option(help="Write gates.json, junit.xml, summary.md into the run.")] = True,
    ) -> None:
        """Evaluate the suite's gates on a stored run; exit 1 when a gate fails."""
        import sys

        from evalkit.cli._common import cli_errors
        from evalkit.errors import EXIT_GATE_FAILED, EXIT_OK

        with cli_errors():
            from evalkit.gate import evaluate_gates, summary_markdown, write_gate_outputs
            from evalkit.gate._rundata import resolve_run_ref

            run_dir = resolve_run_ref(run)
            gates = _gates_for(run_dir, suite)
            base = _baseline_for(run_dir, baseline)
            report = evaluate_gates(run_dir, gates, baseline_dir=base, config=config)
            if write:
                paths = write_gate_outputs(report, run_dir)
                typer.echo(f"wrote {', '.join(str(p) for p in paths.values())}", err=True)
            typer.echo(summary_markdown(report))
        sys.exit(EXIT_OK if report.passed else EXIT_GATE_FAILED)
