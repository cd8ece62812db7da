"""Running a suite: load it, plan every call, execute (cache, journal, retries), then
write the run folder: manifest, results and scores as parquet, summary.

``run_suite`` is the library entry point; ``evalkit run`` only parses options into a
RunRequest. Re-running an interrupted run (same suite and options) resumes it; so does
``RunRequest(resume=RUN_ID)``: journaled calls are never sent again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit import _io
from evalkit._home import datasets_dir, reports_dir
from evalkit.errors import ConfigError, RunFailed
from evalkit.pricing import ModelPrice, lookup_price
from evalkit.run._failures import failure_groups
from evalkit.run._ledger import spend_counts
from evalkit.run._lock import run_lock
from evalkit.run._records import CacheMode, ExecutionOptions
from evalkit.run._store import find_resumable, new_run_id, read_manifest, utc_now, write_manifest


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    suite_path: Path | None = None
    configs: tuple[str, ...] | None = None
    limit: int | None = None
    fraction: float | None = None
    sample_seed: int | None = None
    cache_mode: CacheMode = "read-write"
    max_cost_usd: float | None = None
    resume: str | None = None
    fresh: bool = False
    reports: Path | None = None
    datasets: Path | None = None
    progress: bool = True
    overrides: dict[str, Any] = field(default_factory=dict)
    baseline: str | None = None
    batch: bool = False
    """Send calls through the providers' batch APIs (as ``execution.mode: batch`` in the suite)."""
    shard: tuple[int, int] | None = None
    """(i, n): only the i-th of n segment-stratified parts of the cases (run/_select)."""
    case_ids: tuple[str, ...] | None = None
    """Exactly these cases, in this order (a sequential run grows this prefix)."""
    answers: Path | None = None
    """A blessed baseline's answer bundle: its answers are served like cache hits (run/_answers)."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run: the folder is kept (status stopped) and ``command`` resumes it."""

    def __init__(self, *, run_dir: Path, command: str) -> None:
        super().__init__(f"interrupted; resume with: {command}")
        self.run_dir = run_dir
        self.command = command


def resume_command(run_id: str, req: RunRequest) -> str:
    """The exact command that continues this run (folders given on the command line included)."""
    import shlex

    parts = ["evalkit", "run", "--resume", run_id]
    for flag, value, default in (("--reports", req.reports, reports_dir()), ("--datasets", req.datasets, datasets_dir())):
        if value is not None and Path(value).resolve() != Path(default).resolve():
            parts += [flag, str(value)]
    return shlex.join(parts)


def portable_path(path: Path) -> str:
    """A path as recorded in a run folder: relative to the working directory (the project root) when
    inside it, so a run or a committed baseline never carries the machine's absolute paths."""
    import os

    absolute = Path(path).resolve()
    try:
        return absolute.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return os.path.relpath(absolute) if not Path(path).is_absolute() else str(path)


def _journaled(run_dir: Path) -> bool:
    """Whether any call of this run reached the journal (whatever its file layout)."""
    return any(p.is_file() and p.stat().st_size > 0 for p in run_dir.glob("journal*"))


@dataclass(kw_only=True)
class RunOutcome:
    run_id: str
    run_dir: Path
    manifest: dict[str, Any]
    scores: Any
    summary: dict[str, Any]
    aggregates: Any = None
    """The per config x segment table behind ``summary`` (evalkit.score.aggregate)."""
    resumed: bool = False
    """True when this call continued an interrupted run instead of starting one."""


def _price_for(provider_name: str, model: str, override: Any, provider: Any) -> ModelPrice | None:
    """The suite's override, else the simulated profile's real-model price, else the bundled map."""
    if override is not None:
        return lookup_price(model, override.model_dump(exclude_none=True))
    if getattr(provider, "free", False):
        return ModelPrice(model=provider_name, input=0.0, output=0.0, source=f"{provider_name} (no model call)")
    price_model = getattr(provider, "price_model", None)
    if price_model is not None and getattr(provider, "simulated", False):
        real = price_model(model)
        price = lookup_price(real) if real else None
        if price is not None:
            return ModelPrice(model=price.model, input=price.input, output=price.output, cache_read=price.cache_read,
                              cache_write=price.cache_write, tiers=price.tiers,
                              source=f"simulated (priced as {real}, {price.source})")
        return None
    return lookup_price(model)


def _fingerprint(suite_sha: str, req: RunRequest) -> str:
    from evalkit.run._select import case_ids_digest

    parts: list[Any] = [suite_sha, sorted(req.configs or ()), req.limit, req.fraction, req.sample_seed,
                        sorted(req.overrides.items())]
    if req.shard is not None or req.case_ids is not None:
        parts += [req.shard, case_ids_digest(req.case_ids)]
    if req.batch:
        parts.append("batch")
    blob = json.dumps(parts, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _dataset_ref(ref: str, suite_root: Path) -> str | Path:
    return ref if "@" in ref else (suite_root / ref).resolve()


def _copy_inputs(run_dir: Path, loaded: Any, templates: dict[str, Any]) -> None:
    prompts = run_dir / "prompts"
    prompts.mkdir(parents=True, exist_ok=True)
    raw = json.loads(json.dumps(loaded.raw, default=str))
    for config in raw.get("configs", []):
        if config.get("name") in templates:
            _io.write_text(prompts / f"{config['name']}.j2", templates[config["name"]].source)
            config["prompt"] = f"prompts/{config['name']}.j2"
        elif config.get("prompt") and loaded.prompt_path(config["prompt"]).is_file():  # not run: resumable still
            _io.write_text(prompts / f"{config['name']}.j2", loaded.prompt_path(config["prompt"]).read_text())
            config["prompt"] = f"prompts/{config['name']}.j2"
    if loaded.catalogue_path is not None:  # the run keeps the catalogue it used (resume, report re-render)
        _io.write_bytes(run_dir / "catalogue.yaml", loaded.catalogue_path.read_bytes())
        raw["catalogue"] = "catalogue.yaml"
    import yaml

    _io.write_text(run_dir / "suite.yaml", yaml.safe_dump(raw, sort_keys=False))


def run_suite(req: RunRequest) -> RunOutcome:
    from evalkit.dataset import load_dataset
    from evalkit.providers import create_provider
    from evalkit.run._plan import context_resources, plan_config, stratified_subset
    from evalkit.suite import load_suite, load_template
    from evalkit.tasks import get_task

    root = Path(req.reports or reports_dir())
    resumed_dir: Path | None = None
    if req.resume:
        resumed_dir = Path(req.resume) if Path(req.resume).is_dir() else root / req.resume
        old = read_manifest(resumed_dir)
        opts = old.get("request", {})
        req = RunRequest(suite_path=resumed_dir / "suite.yaml", configs=tuple(opts["configs"]) if opts.get("configs") else None,
                         limit=opts.get("limit"), fraction=opts.get("fraction"), sample_seed=opts.get("sample_seed"),
                         cache_mode=req.cache_mode, reports=root,
                         max_cost_usd=req.max_cost_usd if req.max_cost_usd is not None else opts.get("max_cost_usd"),
                         datasets=req.datasets, progress=req.progress, baseline=req.baseline or old.get("baseline"),
                         batch=bool(opts.get("batch")),
                         shard=tuple(opts["shard"]) if opts.get("shard") else None,  # type: ignore[arg-type]
                         case_ids=req.case_ids, answers=req.answers)
        loaded = load_suite(req.suite_path)  # type: ignore[arg-type]  # the run's own copy, prompts included
    else:
        if req.suite_path is None:
            raise ConfigError("a suite file is required (or --resume RUN_ID)")
        loaded = load_suite(req.suite_path, overrides=req.overrides)
    suite = loaded.suite
    fingerprint = _fingerprint(loaded.sha256, req)
    if resumed_dir is None and not req.fresh:
        resumed_dir = find_resumable(root, loaded.sha256, fingerprint)

    configs = [c for c in suite.configs if not req.configs or c.name in req.configs]
    unknown = set(req.configs or ()) - {c.name for c in suite.configs}
    if unknown:
        raise ConfigError(f"--config: no configuration named {', '.join(sorted(unknown))} in {loaded.path}; "
                          f"known: {', '.join(c.name for c in suite.configs)}")
    dataset = load_dataset(_dataset_ref(suite.dataset, loaded.root), task=get_task(suite.task),
                           store=req.datasets or datasets_dir(), catalogue=loaded.catalogue_path)
    task = dataset.bound_task  # under the catalogue that applies (the suite's, else the dataset's)
    sample = suite.sample
    picked = stratified_subset(dataset.index, limit=req.limit or sample.limit, fraction=req.fraction or sample.fraction,
                               seed=req.sample_seed if req.sample_seed is not None else sample.seed)
    cases = list(dataset.select(c.case_id for c in picked))  # parse only the sampled cases
    if req.shard is not None or req.case_ids is not None:
        from evalkit.run._select import select_cases

        cases = select_cases(cases, shard=req.shard, case_ids=req.case_ids, seed=suite.seed)

    providers: dict[str, Any] = {}
    prices: dict[str, ModelPrice | None] = {}
    templates: dict[str, Any] = {}
    calls, prompts = [], {}
    schema = task.decision_json_schema()
    resources = context_resources(task, dataset, configs)
    for config in configs:
        where = f"{loaded.path}: configs[{config.name}]"
        try:
            options = _task_options(config.provider, config.options, task, where=where)
            provider = create_provider(config.provider, **options)
        except ConfigError as exc:  # the provider knows what is wrong; the user needs to know where
            text = str(exc)
            raise ConfigError(text if text.startswith(where) else f"{where} (provider {config.provider}): {text}") \
                from None
        providers[config.name] = provider
        prices[config.name] = _price_for(config.provider, config.model, config.price, provider)
        templates[config.name] = load_template(loaded.prompt_path(config.prompt))
        planned, info = plan_config(config, templates[config.name], cases, task, response_schema=schema,
                                    endpoint=options.get("base_url"), seed=suite.seed,
                                    seeded=bool(getattr(provider, "offline", False)), resources=resources)
        calls.extend(planned)
        prompts[config.name] = info

    run_dir = resumed_dir or root / new_run_id(suite.name, fingerprint)
    run_dir.mkdir(parents=True, exist_ok=True)
    with run_lock(run_dir):
        outcome = _run_locked(req=req, run_dir=run_dir, resumed_dir=resumed_dir, loaded=loaded, dataset=dataset,
                              cases=cases, configs=configs, providers=providers, prices=prices, templates=templates,
                              calls=calls, prompts=prompts, task=task, fingerprint=fingerprint)
    outcome.resumed = resumed_dir is not None
    return outcome


def _run_locked(*, req, run_dir, resumed_dir, loaded, dataset, cases, configs, providers, prices,  # type: ignore[no-untyped-def]
                templates, calls, prompts, task, fingerprint) -> RunOutcome:
    suite = loaded.suite
    run_id = run_dir.name
    manifest = read_manifest(resumed_dir) if resumed_dir else _initial_manifest(
        run_id, loaded, dataset, cases, configs, providers, prices, templates, req, fingerprint)
    retry_failed = resumed_dir is not None and manifest.get("status") == "stopped"
    manifest["status"] = "running"
    batch_mode = req.batch or suite.execution.mode == "batch"
    manifest.setdefault("execution", {"mode": "batch" if batch_mode else "direct"})
    request = manifest.setdefault("request", {})
    budget = req.max_cost_usd if req.max_cost_usd is not None else request.get("max_cost_usd")
    request["max_cost_usd"] = budget  # per run: a resumed run keeps (and counts against) its budget
    request["batch"] = batch_mode
    if not resumed_dir:
        _copy_inputs(run_dir, loaded, templates)
    write_manifest(run_dir, manifest)

    if req.answers is not None and req.cache_mode != "off":
        from evalkit.run._answers import restore_answers

        restore_answers(req.answers)
    exe = suite.execution
    options = ExecutionOptions(concurrency=exe.concurrency, requests_per_minute=exe.requests_per_minute,
                               tokens_per_minute=exe.tokens_per_minute, model_limits=_model_limits(configs),
                               max_attempts=exe.max_attempts,
                               timeout_s=exe.timeout_s, max_error_share=exe.max_error_share,
                               max_cost_usd=budget, cache_mode=req.cache_mode, progress=req.progress)
    try:
        if batch_mode:
            from evalkit.run._batch import run_batched

            records = run_batched(calls, providers, prices, options, run_dir, suite, manifest)
        else:
            records = asyncio.run(_execute(calls, providers, prices, options, run_dir, suite.seed,
                                           retry_failed=retry_failed))
    except RunFailed as exc:
        if resumed_dir is None and not _journaled(run_dir):  # refused before any call: leave nothing behind
            shutil.rmtree(run_dir, ignore_errors=True)
            raise RunFailed(f"{exc}\nnothing was run and no run folder was kept") from None
        finished = getattr(exc, "records", None) or []
        manifest.update(status="stopped", finished=utc_now(), message=str(exc),
                        errors=[g.as_json() for g in failure_groups(finished)])
        write_manifest(run_dir, manifest)
        raise RunFailed(f"{exc}\nrun folder: {run_dir} (resume with: {resume_command(run_id, req)})") from None
    except KeyboardInterrupt:
        manifest.update(status="stopped", finished=utc_now(), message="interrupted")
        write_manifest(run_dir, manifest)
        raise RunInterrupted(run_dir=run_dir, command=resume_command(run_id, req)) from None
    judge_records: list[Any] = []
    try:
        if suite.scoring.judge is not None:
            judge_records = _run_judge(suite, loaded, task, cases, records, options, run_dir)
        outcome = _finish(run_dir, manifest, task, cases, records, prompts, configs, providers, judge_records, prices)
    except KeyboardInterrupt:  # every call is journaled: resuming only redoes the judge and the scoring
        raise RunInterrupted(run_dir=run_dir, command=resume_command(run_id, req)) from None
    outcome.resumed = resumed_dir is not None
    return outcome


def _run_judge(suite, loaded, task, cases, records, options, run_dir) -> list[Any]:  # type: ignore[no-untyped-def]
    from evalkit.providers import create_provider
    from evalkit.run._judging import JUDGE, judge_calls

    spec = suite.scoring.judge
    prefix = ""
    if spec.prompt is not None:
        prefix = (loaded.root / spec.prompt).read_text(encoding="utf-8")
    elif spec.template is not None:
        prefix = spec.template
    opts = _task_options(spec.provider, spec.options, task, where=f"{loaded.path}: scoring.judge")
    provider = create_provider(spec.provider, **opts)
    calls = judge_calls(spec, task, {c.case_id: c for c in cases}, records, rubric_prefix=prefix, seed=suite.seed,
                        seeded=bool(getattr(provider, "offline", False)))
    price = _price_for(spec.provider, spec.model, None, provider)
    return asyncio.run(_execute(calls, {JUDGE: provider}, {JUDGE: price}, options, run_dir, suite.seed))


def _task_options(provider_name: str, options: dict[str, Any], task: Any, *, where: str) -> dict[str, Any]:
    """A provider that needs a task capability (a simulated model, a rules baseline) gets the suite's task."""
    from evalkit.providers import provider_class
    from evalkit.tasks import require_capability

    out = dict(options)
    needs = getattr(provider_class(provider_name), "requires_task", None)
    if needs:
        try:
            require_capability(task, needs, needed_by=f"provider {provider_name}")
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        out.setdefault("task", task)  # the object: it may be bound to the run's catalogue
    return out


def _model_limits(configs: list[Any]) -> dict[str, tuple[float | None, float | None]]:
    """Per provider/model limits from the configurations; the stricter one wins on a clash."""
    out: dict[str, tuple[float | None, float | None]] = {}
    for c in configs:
        if c.rate_limits is None:
            continue
        key = f"{c.provider}/{c.model}"
        old_rpm, old_tpm = out.get(key, (None, None))
        new = (c.rate_limits.requests_per_minute, c.rate_limits.tokens_per_minute)
        out[key] = tuple(min(v for v in (a, b) if v is not None) if (a or b) else None  # type: ignore[assignment]
                         for a, b in zip((old_rpm, old_tpm), new))
    return out


async def _execute(calls, providers, prices, options, run_dir, seed, retry_failed=False):  # type: ignore[no-untyped-def]
    from evalkit.run._executor import execute

    try:
        return await execute(calls, providers=providers, prices=prices, options=options, run_dir=run_dir, seed=seed,
                             retry_failed=retry_failed)
    finally:
        for provider in providers.values():
            await provider.aclose()


def _initial_manifest(run_id, loaded, dataset, cases, configs, providers, prices, templates, req,  # type: ignore[no-untyped-def]
                      fingerprint) -> dict[str, Any]:
    from importlib.metadata import version

    from evalkit._tokens import tokenizer_name
    from evalkit.providers import redact

    def price_json(p: ModelPrice | None) -> dict[str, Any] | None:
        return None if p is None else {"input": p.input, "output": p.output, "cache_read": p.cache_read,
                                       "cache_write": p.cache_write, "source": p.source, "model": p.model}

    return {
        "schema": 1, "run_id": run_id, "created": utc_now(), "status": "running",
        "evalkit_version": version("evalkit"), "seed": loaded.suite.seed, "fingerprint": fingerprint,
        "suite": {"name": loaded.suite.name, "path": portable_path(loaded.path), "sha256": loaded.sha256,
                  "spec": loaded.suite.model_dump(mode="json")},
        "dataset": {"ref": dataset.ref, "name": dataset.manifest.name, "version": dataset.manifest.version,
                    "sha256": dataset.manifest.sha256, "rows": dataset.manifest.row_count, "sampled_rows": len(cases)},
        "request": {"configs": list(req.configs or ()), "limit": req.limit, "fraction": req.fraction,
                    "sample_seed": req.sample_seed, "overrides": {k: str(v) for k, v in req.overrides.items()},
                    "shard": list(req.shard) if req.shard else None},
        "tokenizer": tokenizer_name(), "baseline": req.baseline,
        "configs": [{
            "name": c.name, "provider": c.provider, "model": c.model, "params": c.params, "prompt": c.prompt,
            "prompt_version": templates[c.name].version, "context": c.context.model_dump(),
            "confidence": c.confidence, "samples": c.samples, "simulated": bool(getattr(providers[c.name], "simulated", False)),
            "price": price_json(prices[c.name]), "options": redact(c.options), "description": c.description,
        } for c in configs],
    }


def _finish(run_dir, manifest, task, cases, records, prompts, configs, providers,  # type: ignore[no-untyped-def]
            judge_records=(), prices=None) -> RunOutcome:
    from evalkit.run._tables import results_table, scores_table, write_tables
    from evalkit.runs import Judge, Summary, write_file
    from evalkit.score import aggregate, summary_dict

    run_id = manifest["run_id"]
    case_map = {c.case_id: c for c in cases}
    results = results_table(run_id, records)
    scores = scores_table(run_id=run_id, task=task, cases=case_map, records=records, prompts=prompts,
                          confidence_source={c.name: c.confidence for c in configs},
                          simulated={c.name: bool(getattr(providers[c.name], "simulated", False)) for c in configs})
    if judge_records:
        from evalkit.run._judging import apply_verdicts

        decides = manifest["suite"]["spec"].get("scoring", {}).get("judge_decides", True)
        scores, agreement = apply_verdicts(scores, judge_records, case_map, task=task, decides=decides)
        write_file(run_dir, agreement, Judge)
    write_tables(run_dir, task=task, results=results, scores=scores)
    aggregates = aggregate(scores)
    summary = summary_dict(aggregates)
    errors = [g.as_json() for g in failure_groups(records)]
    summary["errors"] = errors
    write_file(run_dir, summary, Summary)
    for c in manifest["configs"]:  # what answered: failed calls have no model version (never a NaN)
        c["model_versions"] = sorted({r.response.model_version for r in records
                                      if r.config == c["name"] and r.response is not None and r.response.model_version})
    manifest.update(status="complete", finished=utc_now(), errors=errors, counts={
        "calls": len(records), "failed_calls": int((results["status"] != "ok").sum()),
        "cache_hits": int(results["cache_hit"].sum()), "cases": len(cases),
        "spent_usd": _known_sum(results["cost_usd"]), "nominal_usd": _known_sum(results["nominal_cost_usd"]),
        **spend_counts(records, prices),
    })
    write_manifest(run_dir, manifest)
    from evalkit.run._journal import JOURNAL_NAME, seal_journal

    seal_journal(run_dir / JOURNAL_NAME)  # complete: the journal is a record now, compressed (raw outputs: results)
    return RunOutcome(run_id=run_id, run_dir=run_dir, manifest=manifest, scores=scores, summary=summary,
                      aggregates=aggregates)


def _known_sum(series: Any) -> float | None:
    return None if series.isna().any() else float(series.sum())


BASELINE_FILES = ("manifest.json", "scores.parquet", "results.parquet", "summary.json", "thresholds.json",
                  "projection.json", "judge.json", "suite.yaml")


def bless_baseline(run_dir: Path, dest: Path) -> list[Path]:
    """Copy what a baseline needs (not the journal) to ``dest``, e.g. a folder committed for CI.

    Refuses an unfinished run; replaces ``dest`` atomically so CI never sees half a baseline.
    """
    manifest = read_manifest(run_dir)
    if manifest.get("status") != "complete":
        raise ConfigError(f"{run_dir}: run status is {manifest.get('status')!r}; only a complete run can be a baseline")
    from evalkit.run._answers import check_blessable

    check_blessable(run_dir, manifest)
    dest = Path(dest)
    staging = dest.with_name(f".{dest.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in BASELINE_FILES:
        if (run_dir / name).exists():
            shutil.copy2(run_dir / name, staging / name)
    if (run_dir / "prompts").is_dir():
        shutil.copytree(run_dir / "prompts", staging / "prompts")
    from evalkit.run._answers import write_bundle

    write_bundle(run_dir, staging)  # the answers it was scored on, so CI never buys them again
    old = dest.with_name(f".{dest.name}.old")
    if dest.exists():
        dest.rename(old)
    staging.rename(dest)
    shutil.rmtree(old, ignore_errors=True)
    return sorted(dest.rglob("*"))
