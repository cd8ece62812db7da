"""The whole evaluation, stage after stage: what ``evalkit run`` does.

    dataset -> run -> score -> calibrate -> project -> gate -> report

``run_suite``: ``evalkit.run`` executes the calls (and the LLM judge's), ``evalkit.score`` scores
them (scores.parquet, judge.json, summary.json), then the run completes its folder (results,
manifest, sealed journal). ``run_and_evaluate`` then runs the stages the suite asks for
(calibration, projection, gates) on that folder, writes the report, prints the console summaries
and returns the exit code. Stages only read and write run-folder files through ``evalkit.runs``;
none of them calls a later one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from evalkit._io import release_freed_memory
from evalkit.errors import EXIT_GATE_FAILED, EXIT_OK, NotFound
from evalkit.run import RunOutcome, RunRequest


def run_suite(req: RunRequest, *, evaluating: bool = False) -> RunOutcome:
    """Run a suite: execute its calls, score them, complete the run folder. Re-running an interrupted
    run (same suite and options) resumes it, as does ``RunRequest(resume=RUN_ID)``: journaled calls are
    never sent again; Ctrl-C while judging or scoring leaves a folder that resumes.

    ``evaluating``: the caller writes more files (``evaluate_run``), so the run stays ``evaluating``
    (resumable) until they are all written."""
    from evalkit.run import execute_suite

    with execute_suite(req, judge_planner=_expected_judge_calls) as ex:  # it forks its sender processes first
        from evalkit.score import score_run

        judge_records, judge_simulated = _run_judge(ex) if ex.suite.scoring.judge is not None else ([], False)
        errors = ex.errors()
        scored = score_run(
            ex.run_dir, run_id=ex.run_id, task=ex.plan.task, cases=ex.plan.cases, records=ex.records,
            prompts=ex.plan.prompts, confidence_source={c.name: c.confidence for c in ex.plan.configs},
            simulated={c.name: bool(getattr(ex.plan.providers[c.name], "simulated", False)) for c in ex.plan.configs},
            judge_records=judge_records, judge_simulated=judge_simulated, errors=errors,
            judge_decides=ex.manifest["suite"]["spec"].get("scoring", {}).get("judge_decides", True))
        ex.plan.release_cases()
        release_freed_memory()  # scoring's scratch and the parsed cases, before the journal is sealed
        manifest = ex.complete(errors=errors, evaluating=evaluating)
    return RunOutcome(run_id=ex.run_id, run_dir=ex.run_dir, manifest=manifest, scores=scored.scores,
                      summary=scored.summary, aggregates=scored.aggregates, resumed=ex.resumed)


def _run_judge(ex: Any) -> tuple[list[Any], bool]:
    """The LLM judge's calls (evalkit.score plans them), sent through the run's executor: their records, and
    whether the judge's provider is simulated."""
    from evalkit.run import JUDGE, price_for
    from evalkit.score import judge_calls

    spec = ex.suite.scoring.judge
    provider, prefix = _judge(ex.loaded, ex.plan.task)
    calls = judge_calls(spec, ex.plan.task, {c.case_id: c for c in ex.plan.cases}, ex.records, rubric_prefix=prefix,
                        seed=ex.suite.seed, seeded=bool(getattr(provider, "offline", False)),
                        counted=ex.options.max_cost_usd is not None, provider=provider)
    records = ex.execute(calls, {JUDGE: provider}, {JUDGE: price_for(spec.provider, spec.model, None, provider)})
    return records, bool(getattr(provider, "simulated", False))


def _expected_judge_calls(loaded: Any, plan: Any, answered: list[Any], unanswered: list[Any]) -> list[Any]:
    """The judge's calls as planned before the configurations' calls are sent, for the run's up-front
    budget estimate: exact for the answers already known, one estimated call per answer still to come."""
    from evalkit.score import judge_calls

    provider, prefix = _judge(loaded, plan.task, reading=False)
    return judge_calls(loaded.suite.scoring.judge, plan.task, {c.case_id: c for c in plan.cases}, answered,
                       rubric_prefix=prefix, seed=loaded.suite.seed, seeded=bool(getattr(provider, "offline", False)),
                       unanswered=unanswered, counted=True, provider=provider)  # only asked under --max-cost


def _judge(loaded: Any, task: Any, *, reading: bool = True) -> tuple[Any, str]:
    """The judge's provider and rubric prefix (its prompt file or inline template). ``reading=False``: an
    unreadable prompt file is an empty prefix (an estimate; the judge stage says what is wrong with it)."""
    from evalkit.providers import create_provider
    from evalkit.run import task_options

    spec = loaded.suite.scoring.judge
    prefix = ""
    if spec.prompt is not None:
        try:
            prefix = (loaded.root / spec.prompt).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            if reading:
                raise
    elif spec.template is not None:
        prefix = spec.template
    provider = create_provider(spec.provider, **task_options(spec.provider, spec.options, task,
                                                             where=f"{loaded.path}: scoring.judge"))
    return provider, prefix


def merge_runs(run_dirs: list[Path], *, reports: Path | None = None, allow_partial: bool = False,
               evaluating: bool = False) -> RunOutcome:
    """Join shard runs into one run folder (``evalkit merge``): the run merges the calls and tables,
    the score stage re-aggregates the joined scores. ``evaluating``: the caller writes more files
    (``post_run``); a merge killed before they are written is redone by merging again. The LLM judge's
    agreement (judge.json) is computed on the shards' pooled pairs, as the unsharded run's would be."""
    from evalkit.run import merge_shards
    from evalkit.score import pooled_judge_report, summarize, write_judge, write_scores

    merged = merge_shards(run_dirs, reports=reports, allow_partial=allow_partial)
    if (agreement := pooled_judge_report(merged.judge_reports)) is not None:
        write_judge(merged.run_dir, merged.scores, agreement,
                    judge_simulated=any(r.get("judge_simulated") for r in merged.judge_reports),
                    configs=[c["name"] for c in merged.manifest.get("configs") or []])
    write_scores(merged.run_dir, task=merged.task, scores=merged.scores)
    aggregates, summary = summarize(merged.run_dir, merged.scores, errors=merged.errors, truncated=merged.truncated)
    manifest = merged.complete(evaluating=evaluating)
    return RunOutcome(run_id=merged.run_id, run_dir=merged.run_dir, manifest=manifest, scores=merged.scores,
                      summary=summary, aggregates=aggregates)


def run_and_evaluate(request: RunRequest, *, sequential: Any = None, gates: bool = True) -> int:
    """Run, then calibrate/project/gate/report; the exit code. A baseline folder's answer
    bundle (run/_answers) serves unchanged configurations; ``sequential``
    (SequentialOptions) stops as soon as the gates' verdict is known."""
    from dataclasses import replace

    from evalkit.run import bundle_of

    if request.answers is None and request.baseline and Path(request.baseline).is_dir():
        request = replace(request, answers=bundle_of(request.baseline))
    check_baseline(request, gates=gates)  # before any call is paid for
    from evalkit.report import chart_worker

    with chart_worker():  # matplotlib loads on another core while the run works
        if sequential is not None:
            from evalkit.sequential import run_sequential

            return run_sequential(request, sequential)
        outcome = run_suite(request, evaluating=True)
        if request.progress:
            print_summary(outcome)
        failed = post_run(outcome, baseline=request.baseline, verbose=request.progress, gates=gates,
                          request=request)
    return EXIT_GATE_FAILED if failed else EXIT_OK


def check_baseline(request: RunRequest, *, gates: bool = True) -> None:
    """Fail now (exit 2), not after the run has been paid for, when ``--baseline`` names nothing, or
    a run whose configurations the suite's baseline gates could not pair with (``evalkit.gate``)."""
    ref = request.baseline
    if ref is None:
        return
    from evalkit._home import reports_dir

    root = Path(request.reports or reports_dir())
    if ref != "latest":
        from evalkit.runs import resolve_run

        found = resolve_run(ref, reports=root)
        if gates and request.suite_path is not None and not request.resume:
            from evalkit.gate import check_baseline_pairs
            from evalkit.suite import load_suite

            suite = load_suite(request.suite_path, overrides=request.overrides).suite
            configs = [c.name for c in suite.configs if not request.configs or c.name in request.configs]
            check_baseline_pairs(suite.gates, configs, found)
        return
    if request.suite_path is None or request.resume:
        return  # the suite's name is only known from the resumed run; checked after the run
    from evalkit.runs import latest_run
    from evalkit.suite import load_suite

    name = load_suite(request.suite_path, overrides=request.overrides).suite.name
    try:
        latest_run(root, suite=name)  # the rule --baseline latest applies after the run (evalkit.runs)
    except NotFound:
        raise NotFound(f"--baseline latest: no complete run of suite {name!r} in {root} yet; "
                       "run once without --baseline, or name a baseline folder") from None


def print_summary(outcome: RunOutcome) -> None:
    from rich.console import Console

    from evalkit._console import print_run_summary
    from evalkit.run import truncation_warnings
    from evalkit.runs import Manifest

    manifest = Manifest.model_validate(outcome.manifest)  # the dict the run wrote, typed for reading
    console = Console()
    print_run_summary(outcome.aggregates, manifest, console, resumed=outcome.resumed)
    for line in truncation_warnings((outcome.summary or {}).get("truncated") or {}):
        console.print(f"[yellow]warning:[/] {line}", highlight=False)


def resolve_baseline(ref: str | None, run_dir: Path) -> Path | None:
    """The baseline folder for ``run_dir`` (``latest``: the newest earlier complete run of the same suite)."""
    from evalkit.runs import resolve_baseline as resolve

    return None if ref is None else resolve(ref, run_dir)


def post_run(outcome: RunOutcome, *, baseline: str | None, verbose: bool,
             adjust_gates: Callable[[Any], Any] | None = None, gates: bool = True,
             request: RunRequest | None = None) -> bool:
    """Calibrate, project and gate as the suite asks, then write the report, holding the run's lock;
    the run is complete only once all of it is written. True when a gate failed.

    ``adjust_gates`` may replace the gate report before it is written (a sequential run
    puts its anytime-valid verdicts there); ``gates=False`` skips the gates (a shard). Ctrl-C
    here leaves an ``evaluating`` run that ``request``'s resume command finishes."""
    from evalkit.run import RunInterrupted, mark_complete, resume_command, run_lock

    try:
        with run_lock(outcome.run_dir):
            failed = evaluate_run(outcome.run_dir, baseline=baseline, verbose=verbose, adjust_gates=adjust_gates,
                                  gates=gates)
            mark_complete(outcome.run_dir)
    except KeyboardInterrupt:
        if request is None:
            raise
        raise RunInterrupted(run_dir=outcome.run_dir, command=resume_command(outcome.run_id, request)) from None
    return failed


def evaluate_run(run_dir: Path, *, baseline: str | None = None, verbose: bool = False,
                 adjust_gates: Callable[[Any], Any] | None = None, gates: bool = True) -> bool:
    """The stages after scoring, on a stored run folder. True when a gate failed."""
    from rich.console import Console

    from evalkit.runs import RunFolder
    from evalkit.suite import Suite

    release_freed_memory()  # what the run held (cases, prompts, answers) before the report reads the folder

    console = Console(quiet=not verbose)
    run_dir = Path(run_dir)
    suite = Suite.model_validate(RunFolder(path=run_dir).suite_spec)
    baseline_dir = resolve_baseline(baseline, run_dir)
    stage = _stage_line if verbose else (lambda _text: None)
    if suite.calibration is not None:
        from evalkit.calibrate import calibrate_run

        stage("calibrating confidence and certifying thresholds")
        calibrate_run(run_dir, spec=suite.calibration, economics=suite.economics)
    if suite.projection is not None:
        from evalkit.project import project_run

        stage("projecting automation and cost at the production mix")
        project_run(run_dir, spec=suite.projection, economics=suite.economics)
    failed = False
    if suite.gates and gates:
        from evalkit.gate import announce, evaluate_gates, write_gate_outputs

        report = evaluate_gates(run_dir, suite.gates, baseline_dir=baseline_dir)
        if adjust_gates is not None:
            report = adjust_gates(report)
        write_gate_outputs(report, run_dir)
        failed = not report.passed
        manifest = RunFolder(path=run_dir).manifest
        announce(report, verbose=verbose, suite_path=manifest.suite.path if manifest else None)
    from evalkit._console import print_stage_summary
    from evalkit.report import build_report

    print_stage_summary(RunFolder(path=run_dir), console)
    stage("writing the report")
    # post_run marks the run complete once this last file is written: the report shows that status
    out = build_report([run_dir], out=run_dir / "report.html", baseline=baseline_dir, title=suite.report.title,
                       completes_run=True)
    console.print(f"run folder: {run_dir}\nreport: {out}")
    return failed


def _stage_line(text: str) -> None:
    """One line per stage on stderr, in a piped or CI log (a terminal has the progress bar)."""
    import sys

    if not sys.stderr.isatty():
        print(f"{text} ...", file=sys.stderr, flush=True)
