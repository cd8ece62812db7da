"""Planning a run: pick the cases (stratified subsets), render each configuration's
prompt for each case, and turn them into PlannedCalls."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evalkit.errors import ConfigError
from evalkit.providers import Message, ModelRequest, estimate_input_tokens, output_cap
from evalkit.run._records import PlannedCall
from evalkit.suite import ConfigSpec, PromptTemplate


def allocate(sizes: dict[str, int], total: int) -> dict[str, int]:
    """Split ``total`` across strata in proportion to ``sizes`` by largest remainder (Hamilton).

    The counts sum to exactly ``min(total, sum(sizes))``; ties go to the larger stratum, then by
    name. When ``total`` allows it every stratum gets at least one, taken from the stratum
    furthest above its exact quota.
    """
    n = sum(sizes.values())
    total = max(0, min(total, n))
    if n == 0 or total == 0:
        return {s: 0 for s in sizes}
    quota = {s: size * total / n for s, size in sizes.items()}
    alloc = {s: int(q) for s, q in quota.items()}
    by_remainder = sorted(sizes, key=lambda s: (-(quota[s] - alloc[s]), -sizes[s], s))
    for s in by_remainder[: total - sum(alloc.values())]:
        alloc[s] += 1
    if total >= len(sizes):
        for s in sorted(s for s in sizes if alloc[s] == 0 and sizes[s] > 0):
            donor = max((d for d in sizes if alloc[d] > 1), key=lambda d: (alloc[d] - quota[d], d))
            alloc[donor] -= 1
            alloc[s] += 1
    return alloc


def stratified_subset(cases: Sequence[Any], *, limit: int | None, fraction: float | None, seed: int) -> list[Any]:
    """A seeded subset of exactly ``limit`` cases (or ``round(fraction * N)``, at least one) that keeps
    each segment's share, rounded by largest remainder; every segment keeps a case when there is room."""
    if limit is None and fraction is None:
        return list(cases)
    by_segment: dict[str, list[Any]] = defaultdict(list)
    for case in cases:
        by_segment[case.segment].append(case)
    target = limit if limit is not None else max(1, round(len(cases) * fraction))  # type: ignore[operator]
    counts = allocate({seg: len(group) for seg, group in by_segment.items()}, target)
    rng = random.Random(seed)
    chosen: set[str] = set()
    for segment in sorted(by_segment):
        chosen.update(c.case_id for c in rng.sample(by_segment[segment], counts[segment]))
    return [c for c in cases if c.case_id in chosen]


@dataclass(frozen=True, kw_only=True)
class CasePrompt:
    """Bookkeeping for one case under one configuration (goes into the scores table)."""

    history_turns_total: int
    history_turns_included: int
    history_tokens: int
    deciding_turn_from_end: int | None
    retrieved_tokens: int = 0
    retrieved_ids: tuple[str, ...] = ()


def context_resources(task: Any, dataset: Any, configs: Sequence[ConfigSpec]) -> Any:
    """What the task loads from the dataset version for retrieval (only when a configuration retrieves)."""
    if not any(c.context.retrieval is not None for c in configs) or not hasattr(task, "context_resources"):
        return None
    resources = task.context_resources(dataset)
    if resources is None:
        from evalkit.errors import ConfigError

        raise ConfigError(f"a configuration uses context.retrieval but dataset {dataset.ref} ships no retrieval "
                          "corpus (use a dataset version that ships corpus.jsonl)")
    return resources


def context_kwargs(config: ConfigSpec, resources: Any) -> dict[str, Any]:
    """The context-policy arguments of ``task.prompt_context`` beyond truncation (memory, retrieval)."""
    c = config.context
    if c.memory == "raw" and c.retrieval is None:
        return {}
    return {"context": c, "resources": resources}


def plan_config(config: ConfigSpec, template: PromptTemplate, cases: Sequence[Any], task: Any, *,
                response_schema: dict[str, Any] | None, endpoint: str | None, seed: int, seeded: bool = False,
                request_shape: dict[str, Any] | None = None,
                resources: Any = None, contexts: SharedContexts | None = None, counted: bool = False,
                ) -> tuple[list[PlannedCall], dict[str, CasePrompt]]:
    """Every call of one configuration. ``seeded``: an offline provider whose answers depend on the run seed.
    ``contexts``: prompt contexts shared with the run's other configurations of the same context policy.
    ``counted``: prompt tokens estimated at least at the tokenizer's count (a run under ``--max-cost``)."""
    calls: list[PlannedCall] = []
    info: dict[str, CasePrompt] = {}
    params = dict(config.params)
    if seeded:
        params.setdefault("seed", seed)  # simulated answers depend on the recorded run seed
    contexts = contexts or SharedContexts([config])
    for case in cases:
        ctx = contexts.get(config, case, lambda case=case: task.prompt_context(
            case, max_history_turns=config.context.max_history_turns,
            max_history_tokens=config.context.max_history_tokens, clauses=None,
            **context_kwargs(config, resources)))
        try:
            rendered = template.render(ctx.variables)
        except ConfigError as exc:  # say which case made the template fail
            raise ConfigError(f"{exc} (configuration {config.name}, case {case.case_id})") from None
        messages = tuple(Message(**{**m, "content": contexts.text(m["content"])}) for m in rendered)
        est = estimate_input_tokens((m.content for m in messages),
                                    response_schema if config.structured_output else None, counted=counted)
        info[case.case_id] = CasePrompt(history_turns_total=ctx.history_turns_total,
                                        history_turns_included=ctx.history_turns_included,
                                        history_tokens=int(ctx.extra.get("history_tokens", 0)),
                                        deciding_turn_from_end=ctx.deciding_turn_from_end,
                                        retrieved_tokens=int(ctx.extra.get("retrieved_tokens", 0)),
                                        retrieved_ids=tuple(ctx.extra.get("retrieved_ids", ())))
        for k in range(config.samples):
            request = ModelRequest(provider=config.provider, model=config.model, messages=messages, params=params,
                                   response_schema=response_schema if config.structured_output else None,
                                   logprobs=config.confidence == "logprob", sample_index=k, endpoint=endpoint,
                                   request_shape=request_shape or {},
                                   template_version=template.version)
            calls.append(PlannedCall(config=config.name, case_id=case.case_id, segment=case.segment,
                                     sample_index=k, request=request, est_input_tokens=est,
                                     est_output_tokens=int(params.get("max_tokens", 400)),
                                     max_output_tokens=output_cap(params)))
    contexts.done(config)
    return calls, info


PARALLEL_MIN_CALLS = 400
"""From this many calls, planning is shared with forked workers (rendering a long history is
~0.5 ms of pure Python per case and configuration)."""


def plans_on_every_core(cases: int, configs: int) -> bool:
    """Whether a run this size is planned with forked workers (on a machine that can fork)."""
    return cases * configs >= PARALLEL_MIN_CALLS and cases >= 2


@dataclass(frozen=True, kw_only=True)
class ConfigPlan:
    """One configuration to plan, with what ``plan_config`` needs beyond the cases."""

    config: ConfigSpec
    template: PromptTemplate
    endpoint: str | None
    seeded: bool
    request_shape: dict[str, Any] = field(default_factory=dict)
    """The provider's options that change what is sent (``ModelRequest.request_shape``)."""


Planning = list[tuple[list[PlannedCall], dict[str, CasePrompt]]]
"""Per configuration (in order): its calls and its cases' prompt bookkeeping."""


def plan_configs(jobs: Sequence[ConfigPlan], cases: Sequence[Any], task: Any, *,
                 response_schema: dict[str, Any] | None, seed: int, resources: Any = None,
                 counted: bool = False) -> Planning:
    """Every configuration's calls, case by case in the cases' order. Many calls are shared with
    forked workers (every core renders), after the first case is planned here so that what each
    case needs (tokenizer, catalogue, compiled templates) is loaded once and inherited; the calls
    are the same as one process plans."""
    from evalkit._forked import can_fork, forked_map

    state = (tuple(jobs), tuple(cases), task, response_schema, seed, resources, counted)
    if not plans_on_every_core(len(cases), len(jobs)) or not can_fork():
        return _plan_cases(state, slice(None))
    import os

    head = _plan_cases(state, slice(0, 1))
    # Interleaved, so every worker gets its share of each segment (long histories cluster in the
    # stored order); slices of the inherited cases, so that no case is pickled to a worker.
    parts = max(2, os.cpu_count() or 1)
    chunks = forked_map(_plan_cases, [slice(1 + k, None, parts) for k in range(parts)], state=state)
    return [_merge(cases, [head[j], *(chunk[j] for chunk in chunks)]) for j in range(len(jobs))]


def _plan_cases(state: tuple[Any, ...], which: slice) -> Planning:
    jobs, all_cases, task, response_schema, seed, resources, counted = state
    cases = all_cases[which]
    contexts = SharedContexts([j.config for j in jobs])  # one prompt context per case and context policy
    return [plan_config(j.config, j.template, cases, task, response_schema=response_schema, endpoint=j.endpoint,
                        request_shape=j.request_shape,
                        seed=seed, seeded=j.seeded, resources=resources, contexts=contexts, counted=counted)
            for j in jobs]


def _merge(cases: Sequence[Any], parts: Sequence[tuple[list[PlannedCall], dict[str, CasePrompt]]],
           ) -> tuple[list[PlannedCall], dict[str, CasePrompt]]:
    """One configuration's parts back in the cases' order (a case's samples stay together)."""
    by_case: dict[str, list[PlannedCall]] = {}
    info: dict[str, CasePrompt] = {}
    for calls, part_info in parts:
        for call in calls:
            by_case.setdefault(call.case_id, []).append(call)
        info.update(part_info)
    return ([call for case in cases for call in by_case.get(case.case_id, ())],
            {case.case_id: info[case.case_id] for case in cases if case.case_id in info})


class SharedContexts:
    """Prompt contexts of the configurations still to plan that share a context policy: built once
    per case, kept only while another configuration will use them (a context is several times its
    prompt's size, so keeping every one would cost more memory than the prompts themselves)."""

    def __init__(self, configs: Sequence[ConfigSpec]) -> None:
        from collections import Counter

        self._users = Counter(self._policy(c) for c in configs)
        self._kept: dict[tuple[str, str], Any] = {}
        self._texts: dict[str, str] = {}

    def text(self, content: str) -> str:
        """One string object per distinct message text: a configuration's system prompt is the same
        on each of its calls, and configurations sharing a template send the same case text (the
        demo's rendered prompts: 3x less memory)."""
        return self._texts.setdefault(content, content)

    @staticmethod
    def _policy(config: ConfigSpec) -> str:
        return config.context.model_dump_json()

    def get(self, config: ConfigSpec, case: Any, build: Any) -> Any:
        policy = self._policy(config)
        key = (policy, case.case_id)
        ctx = self._kept.get(key)
        if ctx is None:
            ctx = build()
            if self._users[policy] > 1:
                self._kept[key] = ctx
        return ctx

    def done(self, config: ConfigSpec) -> None:
        """``config`` is planned: its policy has one user fewer (none left: its contexts go)."""
        policy = self._policy(config)
        self._users[policy] -= 1
        if self._users[policy] <= 0:
            self._kept = {k: v for k, v in self._kept.items() if k[0] != policy}


def oversized_prompts(calls: Sequence[PlannedCall], windows: dict[str, tuple[str, int | None]]) -> list[str]:
    """One warning per configuration whose prompts (estimated at ~4 characters a token) exceed its
    model's context window: a real provider refuses them, so production would escalate or fail them,
    and a simulated model's answer to them says nothing. ``windows``: config -> (model, tokens)."""
    over: dict[str, list[PlannedCall]] = {}
    for call in calls:
        model, window = windows.get(call.config, ("", None))
        if window is not None and call.est_input_tokens > window:
            over.setdefault(call.config, []).append(call)
    out = []
    for config, found in over.items():
        model, window = windows[config]
        worst = max(found, key=lambda c: c.est_input_tokens)
        out.append(f"configuration {config}: {len(found)} prompt(s) exceed {model}'s context window of {window:,} "
                   f"tokens by estimate (largest: about {worst.est_input_tokens:,}, case {worst.case_id}); a real "
                   "provider refuses them: cap context.max_history_tokens, or count them as escalations")
    return out


def render_case_prompt(template: PromptTemplate, config: ConfigSpec, case: Any, task: Any,
                       resources: Any = None) -> list[dict[str, str]]:
    """Re-render one case's prompt exactly as the run did (for report drill-downs)."""
    ctx = task.prompt_context(case, max_history_turns=config.context.max_history_turns,
                              max_history_tokens=config.context.max_history_tokens, clauses=None,
                              **context_kwargs(config, resources))
    return template.render(ctx.variables)
