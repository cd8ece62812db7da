"""Turning a loaded suite into work: the sampled cases, one provider, price and template per
configuration, and every planned call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evalkit._home import datasets_dir
from evalkit._io import release_freed_memory
from evalkit.errors import ConfigError
from evalkit.pricing import ModelPrice, lookup_price


@dataclass(kw_only=True)
class Planned:
    """Everything ``plan_run`` produced for one run."""

    configs: list[Any]
    task: Any
    dataset: Any
    cases: list[Any]
    providers: dict[str, Any] = field(default_factory=dict)
    prices: dict[str, ModelPrice | None] = field(default_factory=dict)
    templates: dict[str, Any] = field(default_factory=dict)
    calls: list[Any] = field(default_factory=list)
    prompts: dict[str, Any] = field(default_factory=dict)
    case_count: int = 0
    """How many cases were sampled (still known once ``release_cases`` dropped them)."""
    tokenizer: str = ""
    """The tokenizer planning counted with (still known once ``release_tokenizer`` let it go)."""

    def release_tokenizer(self, judge_provider: str | None) -> None:
        """A large run whose models are all real lets go of the tokenizer once it has planned (~45 MB
        while it sends, scores and reports): nothing in this process counts tokens again but the
        report's drill-down prompts, which it re-renders in a forked child. Offline providers (the
        simulated model, the rules baseline) count tokens in every answer, and a small run would
        spend more time loading it again than the memory is worth. Without fork (one core) the
        report would load it here again: it is kept."""
        from evalkit._forked import can_fork
        from evalkit._tokens import release_encoder
        from evalkit.providers import provider_class
        from evalkit.run._plan import plans_on_every_core

        judge = [provider_class(judge_provider)] if judge_provider else []
        if can_fork() and plans_on_every_core(self.case_count, len(self.configs)) and \
                not any(getattr(p, "offline", False) for p in [*self.providers.values(), *judge]):
            release_encoder()

    def count_prompts(self, response_schema: dict[str, Any] | None) -> None:
        """Re-estimate every call's prompt at least at the tokenizer's count: a run resumed without
        ``--max-cost`` whose manifest records a budget was planned with the rule of thumb, and the
        budget must be guarded as when it was started (``estimate_input_tokens(counted=True)``)."""
        from dataclasses import replace

        from evalkit.providers import estimate_input_tokens

        structured = {c.name: c.structured_output for c in self.configs}
        self.calls = [replace(call, est_input_tokens=estimate_input_tokens(
            (m.content for m in call.request.messages),
            response_schema if structured.get(call.config) else None, counted=True)) for call in self.calls]

    def release_calls(self) -> None:
        """Every call is answered and journaled: the rendered prompts go (a run's largest text, with
        the UTF-8 copies sending them made), before the answers are scored; so do the token counts
        remembered for their long texts."""
        from evalkit._tokens import forget_repeated_counts

        self.calls = []
        forget_repeated_counts()

    def release_cases(self) -> None:
        """The answers are scored: the parsed cases go before the run folder is completed (the report
        reads what it shows from the folder and the dataset)."""
        self.cases = []
        self.dataset.forget_parsed()


def price_for(provider_name: str, model: str, override: Any, provider: Any) -> ModelPrice | None:
    """The suite's override, else the simulated profile's real-model price, else the bundled map."""
    if override is not None:
        return lookup_price(model, override.model_dump(exclude_none=True))
    if getattr(provider, "free", False):
        return ModelPrice(model=provider_name, input=0.0, output=0.0, source=f"{provider_name} (no model call)")
    price_model = getattr(provider, "price_model", None)
    if price_model is not None and getattr(provider, "simulated", False):
        real = price_model(model)
        price = lookup_price(real) if real else None
        if price is not None:  # the real model's price in full (tiers, cache tiers), labelled simulated
            from dataclasses import replace

            return replace(price, source=f"simulated (priced as {real}, {price.source})")
        return None
    return lookup_price(model)


def task_options(provider_name: str, options: dict[str, Any], task: Any, *, where: str) -> dict[str, Any]:
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


def model_limits(configs: list[Any]) -> dict[str, tuple[float | None, float | None]]:
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


def _pick_cases(loaded: Any, req: Any) -> tuple[Any, list[Any]]:
    """The dataset and the cases this run samples (limit/fraction, then shard or explicit ids)."""
    from evalkit.dataset import load_dataset
    from evalkit.run._plan import stratified_subset
    from evalkit.tasks import get_task

    suite = loaded.suite
    dataset = load_dataset(loaded.dataset_ref, task=get_task(suite.task),
                           store=req.datasets or datasets_dir(), catalogue=loaded.catalogue_path)
    sample = suite.sample
    limit = req.limit or sample.limit
    if limit is not None and limit > len(dataset.index):
        import sys

        named = "--limit" if req.limit else "sample.limit"
        print(f"warning: {named} {limit} is more than the {len(dataset.index):,} cases of {dataset.ref}: the run "
              f"takes all {len(dataset.index):,}", file=sys.stderr, flush=True)
    picked = stratified_subset(dataset.index, limit=limit, fraction=req.fraction or sample.fraction,
                               seed=req.sample_seed if req.sample_seed is not None else sample.seed)
    cases = list(dataset.select(c.case_id for c in picked))  # parse only the sampled cases
    release_freed_memory()  # the sampled cases' JSON text is gone; the models stay
    if req.shard is not None or req.case_ids is not None:
        from evalkit.run._select import select_cases

        cases = select_cases(cases, shard=req.shard, case_ids=req.case_ids, seed=suite.seed)
    return dataset, cases


def _selected_configs(loaded: Any, req: Any) -> list[Any]:
    suite = loaded.suite
    unknown = set(req.configs or ()) - {c.name for c in suite.configs}
    if unknown:
        raise ConfigError(f"--config: no configuration named {', '.join(sorted(unknown))} in {loaded.path}; "
                          f"known: {', '.join(c.name for c in suite.configs)}")
    return [c for c in suite.configs if not req.configs or c.name in req.configs]


def _provider(config: Any, task: Any, where: str) -> tuple[Any, dict[str, Any]]:
    from evalkit.providers import create_provider

    try:
        options = task_options(config.provider, config.options, task, where=where)
        provider = create_provider(config.provider, **options)
        if (check_model := getattr(provider, "check_model", None)) is not None:
            check_model(config.model)  # e.g. a simulated model the task has no profile for
        return provider, options
    except ConfigError as exc:  # the provider knows what is wrong; the user needs to know where
        text = str(exc)
        raise ConfigError(text if text.startswith(where) else f"{where} (provider {config.provider}): {text}") \
            from None


def _unset_key(provider: Any) -> str | None:
    """The key variable a network provider needs to send but finds unset (offline providers need none)."""
    return None if getattr(provider, "offline", False) else getattr(provider, "missing_key", lambda: None)()


def _key_error(where: str, provider: str, env: str, whose: str) -> ConfigError:
    return ConfigError(f"{where} (provider {provider}): environment variable {env} is not set; it holds the key "
                       f"{whose} calls are sent with (options.api_key_env). Set it, or use --replay to answer from "
                       "cached answers only; nothing was sent")


def _key_problem(provider: Any) -> str | None:
    """Why a network provider's key cannot be sent at all (a character no HTTP header carries)."""
    return None if getattr(provider, "offline", False) else getattr(provider, "key_problem", lambda: None)()


def _require_keys(plan: Planned, req: Any, *, where: str) -> None:
    """Exit 2 before anything is sent when a configuration whose calls must be sent lacks its key
    variable, or holds a key no HTTP header can carry. Calls answered without a request need no key:
    every call under ``--replay``, and a call whose answer the response cache or the ``--answers``
    bundle holds."""
    if req.cache_mode == "replay":
        return
    for name, provider in plan.providers.items():
        if (problem := _key_problem(provider)) is not None:
            config = next(c for c in plan.configs if c.name == name)
            raise ConfigError(f"{where}[{name}] (provider {config.provider}): {problem}; nothing was sent")
    missing = {name: env for name, p in plan.providers.items() if (env := _unset_key(p))}
    if not missing:
        return
    from evalkit.run._cache import ResponseCache

    cache = None if req.cache_mode == "off" else ResponseCache()
    bundled: set[str] | None = None
    for call in plan.calls:
        if call.config not in missing:
            continue
        key = call.request.cache_key()
        if cache is not None and cache.contains(key):
            continue
        if cache is not None and req.answers is not None:
            if bundled is None:
                from evalkit.run._answers import read_bundle

                bundled = {entry.get("key") for entry in read_bundle(req.answers)}
            if key in bundled:
                continue
        config = next(c for c in plan.configs if c.name == call.config)
        raise _key_error(f"{where}[{call.config}]", config.provider, missing[call.config], "this configuration's")


def _check_judge(loaded: Any, task: Any, req: Any) -> None:
    """The LLM judge's provider, its options and its key, checked before the run's first call: its own
    calls come after every configuration's, so a bad option or an unset key found then would have
    let the whole run be paid for first. Its calls are planned from the answers, so whether the cache
    holds them is not known yet: without --replay its key must be set."""
    spec = loaded.suite.scoring.judge
    if spec is None:
        return
    provider = judge_provider(loaded, task)  # options are checked where the provider is created
    if req.cache_mode == "replay":
        return
    if (problem := _key_problem(provider)) is not None:
        raise ConfigError(f"{loaded.path}: scoring.judge (provider {spec.provider}): {problem}; nothing was sent")
    env = _unset_key(provider)
    if env:
        raise _key_error(f"{loaded.path}: scoring.judge", spec.provider, env, "the judge's")


def judge_provider(loaded: Any, task: Any) -> Any:
    """The suite's LLM judge's provider (``scoring.judge``), its options checked."""
    spec = loaded.suite.scoring.judge
    return _provider(spec, task, f"{loaded.path}: scoring.judge")[0]


def plan_run(loaded: Any, req: Any) -> Planned:
    """Check the selected configurations, sample the cases and plan every call."""
    from evalkit.run._plan import ConfigPlan, context_resources, plan_configs
    from evalkit.suite import load_template

    suite = loaded.suite
    configs = _selected_configs(loaded, req)
    dataset, cases = _pick_cases(loaded, req)
    task = dataset.bound_task  # under the catalogue that applies (the suite's, else the dataset's)
    out = Planned(configs=configs, task=task, dataset=dataset, cases=cases, case_count=len(cases))
    jobs = []
    for config in configs:
        provider, options = _provider(config, task, f"{loaded.path}: configs[{config.name}]")
        out.providers[config.name] = provider
        out.prices[config.name] = price_for(config.provider, config.model, config.price, provider)
        out.templates[config.name] = load_template(loaded.prompt_path(config.prompt))
        where = getattr(provider, "endpoint_for", None)  # base_url, else the SDK's variable for it
        endpoint = where(config.model) if where is not None else options.get("base_url")
        jobs.append(ConfigPlan(config=config, template=out.templates[config.name], endpoint=endpoint,
                               seeded=bool(getattr(provider, "offline", False)),
                               request_shape=dict(getattr(provider, "request_shape", {}))))
    planned = plan_configs(jobs, cases, task, response_schema=task.decision_json_schema(), seed=suite.seed,
                           resources=context_resources(task, dataset, configs),
                           counted=getattr(req, "max_cost_usd", None) is not None)
    for config, (calls, info) in zip(configs, planned):
        out.calls.extend(calls)
        out.prompts[config.name] = info
    _require_keys(out, req, where=f"{loaded.path}: configs")
    _check_judge(loaded, task, req)
    from evalkit._tokens import tokenizer_name

    out.tokenizer = tokenizer_name()
    return out


def input_versions(loaded: Any, plan: Planned) -> list[str]:
    """What the files a suite names hold: each prompt template's version (its includes too), and the
    sha256 of the judge's rubric and of the catalogue. A run's identity (``fingerprint``) covers them,
    so editing one starts a new run rather than resuming an unfinished one made with the old files."""
    from evalkit._checksums import file_sha256

    out = sorted(t.version for t in plan.templates.values())
    judge = loaded.suite.scoring.judge
    named = [loaded.root / judge.prompt] if judge is not None and judge.prompt is not None else []
    named += [loaded.catalogue_path] if loaded.catalogue_path is not None else []
    for path in named:
        try:
            out.append(file_sha256(path))
        except OSError:
            out.append(f"{path.name}: unreadable")  # the judge stage says what is wrong with it
    return out
