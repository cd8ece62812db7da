"""CLI: ``evalkit run``, ``evalkit suite schema|validate`` (``evalkit runs ...`` lives in _runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from evalkit.cli._common import ReportsOpt, add_group, cli_errors, fraction_in_unit, positive


def _parse_sets(values: list[str]) -> dict[str, object]:
    from evalkit import _yaml

    out: dict[str, object] = {}
    for item in values:
        if "=" not in item:
            raise typer.BadParameter(f"--set expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = _yaml.load_config(value, source=f"--set {key.strip()}")
    return out


def run(
    suite: Annotated[Path | None, typer.Argument(help="Suite YAML file.")] = None,
    config: Annotated[list[str] | None, typer.Option("--config", "-c", help="Run only these configurations.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most N cases, stratified by segment (N >= 1).")] = None,
    sample: Annotated[float | None, typer.Option(
        "--sample", "--fraction", callback=fraction_in_unit, help="A stratified fraction of the cases, in (0, 1].")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for --limit/--sample.")] = None,
    replay: Annotated[bool, typer.Option(help="Cache only: a cache miss is an error (CI without keys).")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")] = False,
    max_cost: Annotated[float | None, typer.Option(
        callback=positive, help="Budget in USD: refuse to start or stop before crossing it.")] = None,
    resume: Annotated[str | None, typer.Option(help="Continue an interrupted run (run id or folder).")] = None,
    fresh: Annotated[bool, typer.Option(help="Start a new run even if an interrupted one matches.")] = False,
    baseline: Annotated[str | None, typer.Option(help="Baseline run for gates and the report: RUN id, 'latest' or a path.")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override a suite value: configs.NAME.prompt=FILE.")] = None,
    reports: ReportsOpt = None,
    datasets: Annotated[Path | None, typer.Option(help="Dataset store (default ./datasets).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display (verdicts still go to stderr).")] = False,
    batch: Annotated[bool, typer.Option("--batch", help="Send calls through the providers' batch APIs at batch "
                                                        "prices (OpenAI, Anthropic); as execution.mode: batch.")] = False,
    shard: Annotated[str | None, typer.Option(help="Run only part I of N of the cases (segment-stratified), e.g. 2/3; "
                                                   "join the parts with `evalkit merge`.")] = None,
    sequential: Annotated[bool, typer.Option(help="Send cases in a seeded stratified order and stop as soon as the "
                                                  "gates' verdict is settled (anytime-valid).")] = False,
    look_every: Annotated[int | None, typer.Option(
        min=1, help="--sequential: cases per look (default 2.5% of the cases).")] = None,
    pass_margin: Annotated[float | None, typer.Option(help="--sequential: settle a drop gate as passed once every "
                                                           "segment's drop is shown below max_drop + this.")] = None,
    gates: Annotated[bool, typer.Option("--gates/--no-gates", help="Evaluate the suite's gates (--no-gates: e.g. a "
                                                                  "shard whose merge gates all cases).")] = True,
) -> None:
    """Run a suite: replay the dataset through each configuration, score, and write reports/<run-id>/.

    Exit codes: 0 all gates pass, 1 a gate failed, 2 bad usage or configuration, 3 the run itself failed.
    """
    with cli_errors():
        from evalkit.pipeline import run_and_evaluate
        from evalkit.run import RunRequest, parse_shard
        from evalkit.sequential import SequentialOptions

        request = RunRequest(
            suite_path=suite, configs=tuple(config) if config else None, limit=limit, fraction=sample,
            sample_seed=seed, cache_mode="replay" if replay else "off" if no_cache else "read-write",
            max_cost_usd=max_cost, resume=resume, fresh=fresh, reports=reports, datasets=datasets,
            progress=not quiet, overrides=_parse_sets(set_ or []), baseline=baseline,
            batch=batch, shard=parse_shard(shard) if shard else None)
        options = SequentialOptions(batch=look_every, pass_margin=pass_margin) if sequential else None
        code = _interruptible(lambda r: run_and_evaluate(r, sequential=options, gates=gates), request)
    raise typer.Exit(code)


def merge(
    runs: Annotated[list[str], typer.Argument(help="The shard runs (ids, folders), e.g. the 1/3, 2/3 and 3/3 runs.")],
    baseline: Annotated[str | None, typer.Option(help="Baseline run for gates and the report: RUN id or a path.")] = None,
    reports: ReportsOpt = None,
    allow_partial: Annotated[bool, typer.Option(help="Merge even when some shards are missing.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only verdicts (on stderr).")] = False,
) -> None:
    """Join shard runs into one run folder, then score, gate and report it as if run at once.

    Exit codes: 0 all gates pass, 1 a gate failed, 2 bad usage (shards that do not belong together).
    """
    with cli_errors():
        from evalkit.errors import EXIT_GATE_FAILED, EXIT_OK
        from evalkit.pipeline import merge_runs, post_run, print_summary
        from evalkit.runs import open_run

        outcome = merge_runs([open_run(r, reports=reports).path for r in runs], reports=reports,
                             allow_partial=allow_partial, evaluating=True)
        if not quiet:
            print_summary(outcome)
        code = EXIT_GATE_FAILED if post_run(outcome, baseline=baseline, verbose=not quiet) else EXIT_OK
    raise typer.Exit(code)


def _interruptible(fn, request) -> int:  # type: ignore[no-untyped-def]
    """Run FN(REQUEST); on Ctrl-C print the exact command that resumes the run, and exit 130. SIGTERM
    (``kill``, a CI timeout, a container stop) unwinds the same way (journal flushed, run marked
    stopped, lock released, the resume command printed) and exits 143."""
    from evalkit._signals import sigterm_raises
    from evalkit.run import RunInterrupted

    with sigterm_raises() as term:
        try:
            return fn(request)
        except RunInterrupted as exc:
            how = "terminated" if term.signum is not None else "interrupted"
            typer.echo(f"\n{how}: every finished call is saved in {exc.run_dir}\nresume with: {exc.command}",
                       err=True)
        except KeyboardInterrupt:
            typer.echo("\nterminated" if term.signum is not None else "\ninterrupted", err=True)
    raise typer.Exit(term.exit_code or 130)


def suite_schema(
    out: Annotated[Path | None, typer.Option("-o", help="Write the JSON Schema here instead of stdout.")] = None,
) -> None:
    """Print the suite JSON Schema (for editor validation via yaml-language-server)."""
    import json

    from evalkit.suite import suite_json_schema

    text = json.dumps(suite_json_schema(), indent=2)
    if out:
        from evalkit import _io

        _io.write_text(out, text + "\n")
    else:
        typer.echo(text)


def suite_validate(
    suite: Annotated[Path, typer.Argument(help="Suite YAML file.")],
    datasets: Annotated[Path | None, typer.Option(
        "--datasets", help="Dataset store (default ./datasets).")] = None,
    replay: Annotated[bool, typer.Option(help="Check as `evalkit run --replay` would: no key variable is "
                                              "needed (answers come from the cache).")] = False,
) -> None:
    """Validate a suite file, its prompt templates, its catalogue and its dataset's cases under that
    catalogue (what `evalkit run` checks before its first call), without running anything."""
    with cli_errors():
        from evalkit.run import RunRequest, preflight
        from evalkit.suite import load_suite

        loaded = load_suite(suite)
        # the very checks `evalkit run` makes before its first call: every case, each configuration's
        # provider and model, every prompt rendered (an undefined template variable), keys, the judge
        plan = preflight(loaded, RunRequest(suite_path=suite, datasets=datasets, progress=False,
                                            cache_mode="replay" if replay else "read-write"))
        dataset = plan.dataset
        cases = plan.case_count  # every case, under the suite's catalogue when it names one
        catalogue = f", catalogue {loaded.suite.catalogue}" if loaded.suite.catalogue else ""
        typer.echo(f"{suite}: ok ({len(loaded.suite.configs)} configurations, dataset {dataset.ref}: "
                   f"{cases:,} cases valid{catalogue}, {len(plan.calls):,} prompts rendered)")


def suite_vars(
    task: Annotated[str | None, typer.Argument(help="Task name [default: the built-in task].")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List every variable a prompt template can use for TASK, with its type, meaning and an example."""
    with cli_errors():
        from evalkit.tasks import DEFAULT_TASK, get_task

        name = task or DEFAULT_TASK
        variables = get_task(name).prompt_variables()
        if as_json:
            import dataclasses
            import json

            typer.echo(json.dumps([dataclasses.asdict(v) for v in variables], indent=2))
            return
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=f"prompt variables of task {name!r} (Jinja2: {{{{ name }}}})")
        for header in ("variable", "type", "meaning", "example"):
            table.add_column(header, overflow="fold")
        for v in variables:
            table.add_row(*(escape(x) for x in (v.name, v.type, v.description, v.example)))
        Console(highlight=False).print(table)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("merge")(merge)
    add_group(app, "suite", "Suite files.", {"schema": suite_schema, "validate": suite_validate, "vars": suite_vars})
