"""``evalkit run --sequential``: send cases in a seeded, segment-stratified random order,
in batches; after each batch settle what the gates can settle with anytime-valid tests
(evalkit.gate sequential verdicts), and stop as soon as the run's verdict is known - a
gate failed, or every gate passed - or the cases run out.

Each batch is an ordinary ``run_suite`` call on a growing prefix of the order, resuming
the same run folder, so journaled calls are never sent twice and an interrupted
sequential run resumes like any other. The run folder ends up holding exactly the cases
that were sent; its manifest, gates.json, summary and report say how many calls and
dollars the early stop saved against the full run. Method and assumptions: docs/statistics.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from evalkit._io import write_json
from evalkit.errors import EXIT_GATE_FAILED, EXIT_OK, ConfigError
from evalkit.pipeline import run_suite
from evalkit.run import RunOutcome, RunRequest


@dataclass(frozen=True, kw_only=True)
class SequentialOptions:
    batch: int | None = None
    """Cases per look (default: 2.5% of the cases, at least 20)."""
    seed: int | None = None
    """Seed of the case order (default: the suite's seed)."""
    pass_margin: float | None = None
    """Settle a drop gate as passed early when every segment's drop is shown to be below
    max_drop + pass_margin (default: a drop gate passes only at the end of the data)."""

    def __post_init__(self) -> None:
        if self.batch is not None and self.batch < 1:
            raise ConfigError(f"--look-every must be at least 1 case per look, got {self.batch}")


def _cases_and_suite(request: RunRequest) -> tuple[list[Any], Any]:
    """The cases a full run of this request would send (after --limit/--sample/--shard)."""
    from evalkit._home import datasets_dir
    from evalkit.dataset import load_dataset
    from evalkit.run import select_cases, stratified_subset
    from evalkit.suite import load_suite
    from evalkit.tasks import get_task

    loaded = load_suite(request.suite_path, overrides=request.overrides)  # type: ignore[arg-type]
    suite = loaded.suite
    ref = suite.dataset if "@" in suite.dataset else (loaded.root / suite.dataset).resolve()
    dataset = load_dataset(ref, task=get_task(suite.task),
                           store=request.datasets or datasets_dir())
    cases = stratified_subset(dataset.index, limit=request.limit or suite.sample.limit,
                              fraction=request.fraction or suite.sample.fraction,
                              seed=request.sample_seed if request.sample_seed is not None else suite.sample.seed)
    return select_cases(cases, shard=request.shard, case_ids=None, seed=suite.seed), suite


def _baseline_dir(ref: str | None, reports: Path | None, suite_name: str) -> Path | None:
    if ref is None:
        return None
    if ref == "latest":  # the one rule (evalkit.runs): the newest complete run of the suite
        from evalkit._home import reports_dir
        from evalkit.runs import latest_run

        return latest_run(Path(reports or reports_dir()), suite=suite_name)
    from evalkit.runs import open_run

    return open_run(ref, reports=reports).path


def _savings(outcome: RunOutcome, done: int, total: int) -> dict[str, Any]:
    """Calls and dollars of this run against the full run. Calls a full run makes are this
    run's sent calls per case scaled to every case (exact when each configuration is
    either all sent or all answered from the cache, as in CI); dollars likewise, estimated."""
    import pandas as pd

    results = pd.read_parquet(outcome.run_dir / "results.parquet", columns=["config", "cache_hit", "cost_usd"])
    sent = results[~results["cache_hit"].astype(bool)]
    calls_made = len(sent)
    scale = total / max(done, 1)
    calls_full = max(calls_made, round(calls_made * scale))
    spent = None if results["cost_usd"].isna().any() else float(results["cost_usd"].sum())
    full_usd = None if spent is None else spent * scale
    return {"calls_made": calls_made, "calls_full": calls_full, "calls_saved": calls_full - calls_made,
            "share_of_full": calls_made / calls_full if calls_full else 1.0, "spent_usd": spent,
            "full_usd_estimated": full_usd, "saved_usd": None if spent is None else full_usd - spent}  # type: ignore[operator]


def run_sequential(request: RunRequest, options: SequentialOptions) -> int:
    """Run ``request`` sequentially; returns the exit code (0 pass, 1 a gate failed)."""
    import pandas as pd

    from evalkit.gate import apply_sequential, overall_state, sequential_verdicts
    from evalkit.pipeline import post_run, print_summary
    from evalkit.run import stratified_order
    from evalkit.runs import load_run

    cases, suite = _cases_and_suite(request)
    seed = options.seed if options.seed is not None else suite.seed
    order = stratified_order(cases, seed=seed)
    total = len(order)
    counts = pd.Series([str(c.segment) for c in cases]).value_counts()
    weights = {str(k): int(v) / total for k, v in counts.items()}
    batch = options.batch or max(20, math.ceil(total * 0.025))
    baseline_dir = _baseline_dir(request.baseline, request.reports, suite.name)
    base_scores = None
    if baseline_dir is not None:  # paired as `evalkit compare` and the gates pair: checked before any call
        from evalkit.score import config_pairs

        base = load_run(baseline_dir)
        names = [c.name for c in suite.configs if not request.configs or c.name in request.configs]
        base_scores = {cand: base.config_scores(b) for b, cand in config_pairs(list(base.configs), names)}
    say = print if request.progress else (lambda *a, **k: None)

    done, looks, run_dir = 0, 0, None
    verdicts: list[Any] = []
    state = "open"
    outcome: RunOutcome | None = None
    while done < total:
        done = min(total, done + batch)
        looks += 1
        step = replace(request, case_ids=tuple(order[:done]), resume=str(run_dir) if run_dir else None,
                       fresh=run_dir is None and request.fresh)
        outcome = run_suite(step, evaluating=True)
        run_dir = outcome.run_dir
        verdicts = sequential_verdicts(suite.gates, outcome.scores, base_scores, order[:done], weights,
                                       pass_margin=options.pass_margin)
        state = overall_state(verdicts)
        settled = sum(v.state != "open" for v in verdicts)
        say(f"look {looks}: {done}/{total} cases, {settled}/{len(verdicts)} gate(s) settled"
            + (f" -> {state.upper()}" if state != "open" else ""))
        if state != "open":
            break
    assert outcome is not None and run_dir is not None
    reason = {"fail": "a gate failed", "pass": "every gate passed"}.get(state, "all cases sent")
    info = {"method": "betting e-processes (Waudby-Smith & Ramdas 2024), Holm across segments",
            "seed": seed, "batch": batch, "looks": looks, "cases_done": done, "cases_total": total,
            "stop_reason": reason, "pass_margin": options.pass_margin, **_savings(outcome, done, total),
            "verdicts": [v.to_dict() for v in verdicts]}
    manifest = outcome.manifest
    manifest["sequential"] = {k: v for k, v in info.items() if k != "verdicts"}
    manifest.setdefault("dataset", {})["sampled_rows"] = done
    write_json(run_dir / "manifest.json", manifest)
    if request.progress:
        print_summary(outcome)
    exhausted = done >= total

    def adjust(report: Any) -> Any:
        return apply_sequential(report, verdicts, exhausted=exhausted, info=manifest["sequential"])

    failed = post_run(outcome, baseline=str(baseline_dir) if baseline_dir else None, verbose=request.progress,
                      adjust_gates=adjust, request=request)
    return EXIT_GATE_FAILED if failed else EXIT_OK
