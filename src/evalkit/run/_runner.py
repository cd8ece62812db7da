"""Executing a suite: load it, plan every call (``_setup``), execute (cache, journal, retries);
the caller scores the answers, then completes the run folder (``_finish``: results, manifest).

``execute_suite`` is the run stage's entry point; ``evalkit.pipeline.run_suite`` scores between
it and ``Executed.complete``. Re-running an interrupted run (same suite and options) resumes it;
so does ``RunRequest(resume=RUN_ID)``: journaled calls are never sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit._checksums import verify_run
from evalkit._home import reports_dir
from evalkit._io import release_freed_memory
from evalkit.errors import ConfigError, EvalkitError, RunFailed
from evalkit.run._failures import failure_groups
from evalkit.run._lock import run_lock
from evalkit.run._records import CallRecord, ExecutionOptions, PlannedCall
from evalkit.run._request import RunInterrupted, RunRequest, fingerprint, resume_command, resumed_request
from evalkit.run._senders import sender_processes
from evalkit.run._setup import Planned, input_versions, model_limits, plan_run
from evalkit.run._store import find_resumable, new_run_id, read_manifest, utc_now, write_manifest

JudgePlanner = Callable[[Any, Planned, list[CallRecord], list[PlannedCall]], list[PlannedCall]]
"""(loaded suite, plan, configuration answers already known, configuration calls not answered yet) -> the
LLM judge's expected calls (``evalkit.score.judge_calls`` with ``unanswered``): the judge's calls are
planned by the score stage, which the run stage does not import."""


def _journaled(run_dir: Path) -> bool:
    """Whether any call of this run reached the journal (whatever its file layout)."""
    return any(p.is_file() and p.stat().st_size > 0 for p in run_dir.glob("journal*"))


def _load(req: RunRequest, root: Path) -> tuple[RunRequest, Any, Path | None]:
    """The request to run (a resumed run's own options), its loaded suite and the folder it resumes."""
    from evalkit.suite import load_suite

    if req.resume:
        resumed_dir = Path(req.resume) if Path(req.resume).is_dir() else root / req.resume
        req = resumed_request(req, resumed_dir, read_manifest(resumed_dir), root)
        return req, load_suite(req.suite_path), resumed_dir  # type: ignore[arg-type]  # its own copy, prompts included
    if req.suite_path is None:
        raise ConfigError("a suite file is required (or --resume RUN_ID)")
    return req, load_suite(req.suite_path, overrides=req.overrides), None


@dataclass(kw_only=True)
class Executed:
    """A run whose planned calls have all been answered (or failed for good) and journaled: what
    scoring needs, and the run's completion (``complete``) once the scores are written."""

    req: RunRequest
    run_dir: Path
    loaded: Any
    """The loaded suite (evalkit.suite.LoadedSuite)."""
    plan: Planned
    manifest: dict[str, Any]
    records: list[CallRecord]
    options: ExecutionOptions
    resumed: bool = False
    extra_records: list[CallRecord] = field(default_factory=list)
    """The LLM judge's records (``execute``): counted in the run's spend, not in its results table."""
    extra_prices: dict[str, Any] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return self.run_dir.name

    @property
    def suite(self) -> Any:
        return self.loaded.suite

    def execute(self, calls: list[PlannedCall], providers: dict[str, Any], prices: dict[str, Any]) -> list[CallRecord]:
        """More calls (the LLM judge's) through the same executor: cached, journaled, resumable. Its ledger
        prices every configuration's journaled calls too, so the budget and the progress line count what
        the run already spent; the records count in the run's spend (``complete``)."""
        from evalkit.run._ledger import simulated_configs

        self.extra_prices.update(prices)
        records = asyncio.run(_execute(calls, providers, {**self.plan.prices, **self.extra_prices}, self.options,
                                       self.run_dir, self.suite.seed,
                                       simulated=simulated_configs(self.plan.providers)))
        self.extra_records.extend(records)
        return records

    def errors(self) -> list[dict[str, Any]]:
        """The run's failed calls, grouped by error class and configuration (JSON)."""
        return [g.as_json() for g in failure_groups(self.records)]

    def complete(self, *, errors: list[dict[str, Any]], evaluating: bool = False) -> dict[str, Any]:
        """Write results.parquet, seal the journal, mark the manifest complete (counts, model versions);
        ``evaluating``: later stages still write files, ``mark_complete`` ends the run."""
        from evalkit.run._finish import complete_run

        return complete_run(self.run_dir, self.manifest, self.records, self.plan.case_count,
                            {**self.plan.prices, **self.extra_prices}, errors=errors, evaluating=evaluating,
                            judge_records=self.extra_records)


@contextmanager
def execute_suite(req: RunRequest, *, judge_planner: JudgePlanner | None = None) -> Iterator[Executed]:
    """Plan and send every call of a suite (resuming a journaled run), holding the run folder's lock
    while the caller scores the answers and calls ``Executed.complete``. Ctrl-C inside the block
    leaves a folder that resumes: every call is journaled, resuming redoes only the judge and scoring.

    ``judge_planner``: how the suite's LLM judge plans its calls, so that ``--max-cost`` refuses a run
    whose configurations' and judge's calls together would pass it, before the first call."""
    root = Path(req.reports or reports_dir())
    req, loaded, resumed_dir = _load(req, root)
    with contextlib.ExitStack() as held:  # the run folder's lock, held until the answers are scored
        # Started before planning: the senders import their SDKs on the other cores meanwhile.
        with sender_processes(loaded.suite.configs,
                              enabled=not (req.batch or loaded.suite.execution.mode == "batch")) as senders:
            plan = preflight(loaded, req)
            judge = loaded.suite.scoring.judge
            plan.release_tokenizer(judge.provider if judge is not None else None)
            release_freed_memory()  # the tokenizer (if let go) and the planning workers' scratch
            fp = fingerprint(loaded.sha256, req, inputs=input_versions(loaded, plan))
            if resumed_dir is None and not req.fresh:
                resumed_dir = find_resumable(root, loaded.sha256, fp)
            run_dir = resumed_dir or root / new_run_id(loaded.suite.name, fp)
            made_root = not root.exists()  # a refused run removes the reports folder only if it made it
            run_dir.mkdir(parents=True, exist_ok=True)
            held.enter_context(run_lock(run_dir))
            was_stopped = resumed_dir is not None and read_manifest(resumed_dir).get("status") == "stopped"
            manifest = _open_manifest(req, run_dir, resumed_dir, loaded, plan, fp)
            if req.answers is not None and req.cache_mode != "off":
                from evalkit.run._answers import restore_answers

                restore_answers(req.answers)
            options = _options(loaded.suite, plan.configs, req, manifest["request"]["max_cost_usd"])
            if options.max_cost_usd is not None and req.max_cost_usd is None:  # the recorded budget goes on
                plan.count_prompts(plan.task.decision_json_schema())
            records = _calls(req, run_dir, resumed_dir, manifest, loaded, plan, options,
                             retry_failed=was_stopped, senders=senders, judge_planner=judge_planner,
                             made_root=made_root)
            plan.release_calls()
            release_freed_memory()
        try:
            yield Executed(req=req, run_dir=run_dir, loaded=loaded, plan=plan, manifest=manifest, records=records,
                           options=options, resumed=resumed_dir is not None)
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM while judging or scoring: stopped, as during the calls
            if manifest.get("status") == "running":  # (not once the run is completing its folder)
                _mark_interrupted(run_dir, manifest)
            raise RunInterrupted(run_dir=run_dir, command=resume_command(run_dir.name, req)) from None
        except RunFailed as exc:  # the judge's calls stopped (budget, errors): stopped, as the calls would be
            if manifest.get("status") != "running":
                raise
            manifest.update(status="stopped", finished=utc_now(), message=str(exc))
            write_manifest(run_dir, manifest)
            raise RunFailed(f"{exc}\nrun folder: {run_dir} (resume with: {resume_command(run_dir.name, req)})") \
                from None


def _mark_interrupted(run_dir: Path, manifest: dict[str, Any]) -> None:
    """The run was interrupted (Ctrl-C, SIGTERM): its manifest says so (status stopped), not 'running'."""
    manifest.update(status="stopped", finished=utc_now(), message="interrupted")
    write_manifest(run_dir, manifest)


def preflight(loaded: Any, req: RunRequest) -> Planned:
    """What ``evalkit run`` checks before its first call, and ``evalkit suite validate`` checks without
    one: the selected configurations, every sampled case, each configuration's provider (its options,
    its model) and template, every prompt rendered, the keys calls must be sent with, the judge, the
    inputs the run keeps byte for byte (none may hold what redaction would remove); prompts
    longer than their model's context window, and segments the suite names that the dataset lacks (a
    typo in projection.mix, economics.error_cost_by_segment, a gate), are warned about (stderr, also
    with --quiet)."""
    import sys

    from evalkit.run._manifest import check_input_copies
    from evalkit.suite import segment_warnings

    plan = plan_run(loaded, req)
    check_input_copies(loaded, plan.templates)  # a copy that would not read back: refused before any folder
    _warn_oversized(plan)
    dataset = plan.dataset
    for warning in segment_warnings(loaded, {str(c.segment) for c in dataset.index}, dataset=dataset.ref):
        print(f"warning: {warning}", file=sys.stderr, flush=True)
    return plan


def _warn_oversized(plan: Planned) -> None:
    """Prompts longer than their model's context window, said before anything is sent (stderr, also
    with --quiet: a CI log must show it)."""
    import sys

    from evalkit.pricing import context_window
    from evalkit.run._plan import oversized_prompts

    windows = {}
    for config in plan.configs:
        price = plan.prices.get(config.name)
        model = price.model if price is not None else config.model  # a simulated model: the one it is priced as
        windows[config.name] = (model, context_window(model))
    for warning in oversized_prompts(plan.calls, windows):
        print(f"warning: {warning}", file=sys.stderr, flush=True)


def _open_manifest(req: RunRequest, run_dir: Path, resumed_dir: Path | None, loaded: Any, plan: Planned,
                   fingerprint: str) -> dict[str, Any]:
    """The run's manifest, status running, with its per-run budget and execution mode; a new run's
    inputs are copied first."""
    from evalkit.run._manifest import copy_inputs, initial_manifest

    manifest = read_manifest(resumed_dir) if resumed_dir else initial_manifest(
        run_dir.name, loaded, plan, req, fingerprint)
    if manifest.get("checksums"):  # a complete run continued (a sequential look): check, then rewrite
        verify_run(run_dir)
        del manifest["checksums"]  # its files change now; "complete" records them again at the end
    manifest["status"] = "running"
    manifest.pop("message", None)  # why an earlier session stopped no longer describes the run
    batch_mode = req.batch or loaded.suite.execution.mode == "batch"
    manifest.setdefault("execution", {"mode": "batch" if batch_mode else "direct"})
    request = manifest.setdefault("request", {})
    budget = req.max_cost_usd if req.max_cost_usd is not None else request.get("max_cost_usd")
    request["max_cost_usd"] = budget  # per run: a resumed run keeps (and counts against) its budget
    request["cache_mode"] = req.cache_mode  # resumed_request keeps it: `--resume ID` alone continues as started
    request["batch"] = batch_mode
    if not resumed_dir:
        copy_inputs(run_dir, loaded, plan.templates)
    write_manifest(run_dir, manifest)
    return manifest


def _options(suite: Any, configs: list[Any], req: RunRequest, budget: float | None) -> ExecutionOptions:
    exe = suite.execution
    return ExecutionOptions(concurrency=exe.concurrency, requests_per_minute=exe.requests_per_minute,
                            tokens_per_minute=exe.tokens_per_minute, model_limits=model_limits(configs),
                            max_attempts=exe.max_attempts,
                            timeout_s=exe.timeout_s, max_error_share=exe.max_error_share,
                            max_cost_usd=budget, cache_mode=req.cache_mode, progress=req.progress)


def _calls(req: RunRequest, run_dir: Path, resumed_dir: Path | None, manifest: dict[str, Any], loaded: Any,
           plan: Planned, options: ExecutionOptions, *, retry_failed: bool, senders: Any = None,
           judge_planner: JudgePlanner | None = None, made_root: bool = False) -> list[Any]:
    """Every planned call's record; a stop (error share, budget) or Ctrl-C marks the run stopped.
    ``made_root``: this run created the reports folder (a refused run removes it again if empty)."""
    run_id = run_dir.name
    suite = loaded.suite
    try:
        _check_budget_with_judge(loaded, plan, req, run_dir, options, retry_failed=retry_failed,
                                 judge_planner=judge_planner)
        if manifest["request"]["batch"]:
            from evalkit.run._batch import run_batched

            return run_batched(plan.calls, plan.providers, plan.prices, options, run_dir, suite, manifest)
        return asyncio.run(_execute(plan.calls, plan.providers, plan.prices, options, run_dir, suite.seed,
                                    retry_failed=retry_failed, senders=senders))
    except EvalkitError as exc:
        if resumed_dir is None and not _journaled(run_dir):  # refused before any call: leave nothing behind
            shutil.rmtree(run_dir, ignore_errors=True)
            if made_root:
                with contextlib.suppress(OSError):
                    run_dir.parent.rmdir()  # the reports folder this run made, if nothing else is in it
            exc.args = (f"{exc}\nnothing was run and no run folder was kept",)
            raise exc from None
        if not isinstance(exc, RunFailed):
            raise
        finished = getattr(exc, "records", None) or []
        manifest.update(status="stopped", finished=utc_now(), message=str(exc),
                        errors=[g.as_json() for g in failure_groups(finished)])
        write_manifest(run_dir, manifest)
        command = resume_command(run_id, req)
        if getattr(exc, "at_budget", False):  # the resumed run keeps this budget unless given a larger one
            command = (f"{command} --max-cost USD, with USD above ${options.max_cost_usd:.4f} (the budget is "
                       "per run and includes what this run already spent)")
        raise RunFailed(f"{exc}\nrun folder: {run_dir} (resume with: {command})") from None
    except KeyboardInterrupt:
        _mark_interrupted(run_dir, manifest)
        raise RunInterrupted(run_dir=run_dir, command=resume_command(run_id, req)) from None


def _check_budget_with_judge(loaded: Any, plan: Planned, req: RunRequest, run_dir: Path, options: ExecutionOptions,
                             *, retry_failed: bool, judge_planner: JudgePlanner | None) -> None:
    """``--max-cost`` with an LLM judge: refuse before the first call when what this run already spent,
    the configurations' calls still to pay for and the judge's expected calls (one per answer it grades,
    at the judge model's price) pass the budget. The executor's own guard sees only the calls it is
    given, and the judge's calls are given to it after every configuration's call is paid for.

    Counted as the executor counts: a journaled call is not sent again (its spend is prior spend), a
    cached answer is free; a judge call is free too when its answer is journaled or cached, which is
    known for the answers already there (the journal, the cache). An unknown price of a network model
    (a configuration's or the judge's) cannot be guarded: refused, never counted as $0."""
    spec = loaded.suite.scoring.judge
    max_cost = options.max_cost_usd
    if spec is None or max_cost is None or judge_planner is None:
        return
    from evalkit.errors import RunFailed
    from evalkit.pricing import batch_price
    from evalkit.providers import batch_api_for
    from evalkit.run._cache import ResponseCache
    from evalkit.run._journal import JOURNAL_NAME, read_journal_state
    from evalkit.run._ledger import Forecast, SpendLedger, UnpricedCall, expected_spend, simulated_configs
    from evalkit.run._records import JUDGE
    from evalkit.run._setup import judge_provider, price_for

    provider = judge_provider(loaded, plan.task)
    judge_price = price_for(spec.provider, spec.model, None, provider)
    offline = {name: bool(getattr(p, "offline", False)) for name, p in plan.providers.items()}
    offline[JUDGE] = bool(getattr(provider, "offline", False))
    prices = dict(plan.prices)
    if req.batch or loaded.suite.execution.mode == "batch":  # batchable calls are billed at batch prices
        prices.update({name: batch_price(prices.get(name)) for name, p in plan.providers.items()
                       if batch_api_for(p) is not None and req.cache_mode != "replay"})
    journal_path = run_dir / JOURNAL_NAME
    state = read_journal_state(journal_path) if journal_path.exists() else None
    journaled = state.records if state is not None else {}
    cache = None if req.cache_mode == "off" else ResponseCache()
    answered, unanswered = _answered_so_far(plan.calls, journaled, cache, offline, retry_failed=retry_failed)
    judge_calls = [c for c in judge_planner(loaded, plan, answered, unanswered)
                   if not _judge_answer_known(c, journaled, cache, offline[JUDGE])]
    ledger = SpendLedger(prices={**prices, JUDGE: judge_price},
                         simulated=simulated_configs({**plan.providers, JUDGE: provider}))
    if state is not None:
        ledger.add_prior(state.records.values(),
                         [(k[0], a.worst_usd) for k, starts in state.orphans.items() for a in starts])
    try:
        configs = expected_spend(ledger, unanswered, offline=offline)
    except UnpricedCall as exc:
        raise RunFailed(f"cannot enforce max_cost_usd ${max_cost:.4f}: configuration {exc.call.config!r} "
                        f"(model {exc.call.request.model!r}) has no known price; add a price override to the "
                        "suite") from None
    try:
        judge = expected_spend(ledger, judge_calls, offline=offline).get(JUDGE, 0.0)
    except UnpricedCall:
        raise RunFailed(f"cannot enforce max_cost_usd ${max_cost:.4f}: the LLM judge (scoring.judge: provider "
                        f"{spec.provider}, model {spec.model!r}) has no known price, and {len(judge_calls)} judge "
                        "call(s) are expected (one per answer it grades): their cost is unknown, not $0. Use a "
                        "judge model with a known price, or run without --max-cost") from None
    refusal = Forecast(prior=ledger.committed, configs=configs, judge=judge,
                       judge_calls=len(judge_calls), judge_model=_priced_as(spec.model, judge_price)).refusal(max_cost)
    if refusal is not None:
        raise RunFailed(refusal)


def _answered_so_far(calls: Sequence[PlannedCall], journaled: Mapping[Any, CallRecord], cache: Any,
                     offline: Mapping[str, bool], *, retry_failed: bool) -> tuple[list[CallRecord], list[PlannedCall]]:
    """(the answers already known: journaled, or in the response cache; the calls still to pay for), as the
    executor will count them: a journaled call is not sent again (a failed one is when ``retry_failed``)."""
    from evalkit.run._cache import CorruptCacheEntry

    answered: list[CallRecord] = []
    unanswered: list[PlannedCall] = []
    for call in calls:
        key = call.request.cache_key()
        rec = journaled.get(call.key)
        if rec is not None and rec.cache_key == key and (rec.status == "ok" or not retry_failed):
            answered.append(rec)
            continue
        response = None
        if cache is not None and not offline[call.config]:
            try:
                response = cache.get(key) if cache.contains(key) else None
            except CorruptCacheEntry:
                response = None  # the executor reports it before anything is sent
        if response is None:
            unanswered.append(call)
        else:
            answered.append(CallRecord(config=call.config, case_id=call.case_id, sample_index=call.sample_index,
                                       cache_key=key, status="ok", response=response, cache_hit=True))
    return answered, unanswered


def _priced_as(model: str, price: Any) -> str:
    """The judge's model as the estimate prices it (a simulated judge is priced as a real model)."""
    return model if price is None or price.model in (None, "", model) else f"{model}, priced as {price.model}"


def _judge_answer_known(call: PlannedCall, journaled: dict[Any, CallRecord], cache: Any, offline: bool) -> bool:
    """A judge call the journal already holds (the judge's executor returns it as is, ok or failed) or
    whose answer the response cache holds: free."""
    key = call.request.cache_key()
    rec = journaled.get(call.key)
    if rec is not None and rec.cache_key == key:
        return True
    return cache is not None and not offline and cache.contains(key)


async def _execute(calls, providers, prices, options, run_dir, seed, retry_failed=False,  # type: ignore[no-untyped-def]
                   senders=None, simulated=frozenset()):
    from evalkit.run._executor import execute

    try:
        return await execute(calls, providers=providers, prices=prices, options=options, run_dir=run_dir, seed=seed,
                             retry_failed=retry_failed, senders=senders, simulated=simulated)
    finally:
        for provider in providers.values():
            await provider.aclose()
