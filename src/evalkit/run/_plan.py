"""Planning a run: pick the cases (stratified subsets), render each configuration's
prompt for each case, and turn them into PlannedCalls."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from evalkit.errors import ConfigError
from evalkit.providers import Message, ModelRequest
from evalkit.run._records import PlannedCall
from evalkit.suite import ConfigSpec, PromptTemplate


def stratified_subset(cases: Sequence[Any], *, limit: int | None, fraction: float | None, seed: int) -> list[Any]:
    """A seeded subset that keeps each segment's share (every segment keeps at least one case)."""
    if limit is None and fraction is None:
        return list(cases)
    by_segment: dict[str, list[Any]] = defaultdict(list)
    for case in cases:
        by_segment[case.segment].append(case)
    share = fraction if fraction is not None else min(1.0, limit / max(len(cases), 1))  # type: ignore[operator]
    rng = random.Random(seed)
    chosen: set[str] = set()
    for segment in sorted(by_segment):
        group = by_segment[segment]
        k = max(1, round(len(group) * share))
        chosen.update(c.case_id for c in rng.sample(group, min(k, len(group))))
    picked = [c for c in cases if c.case_id in chosen]
    if limit is not None and len(picked) > limit:
        picked = sorted(picked, key=lambda c: random.Random(f"{seed}|{c.case_id}").random())[:limit]
        keep = {c.case_id for c in picked}
        picked = [c for c in cases if c.case_id in keep]
    return picked


@dataclass(frozen=True, kw_only=True)
class CasePrompt:
    """Bookkeeping for one case under one configuration (goes into the scores table)."""

    history_turns_total: int
    history_turns_included: int
    history_tokens: int
    deciding_turn_from_end: int | None


def plan_config(config: ConfigSpec, template: PromptTemplate, cases: Sequence[Any], task: Any, *,
                response_schema: dict[str, Any] | None, endpoint: str | None, seed: int, seeded: bool = False,
                ) -> tuple[list[PlannedCall], dict[str, CasePrompt]]:
    """Every call of one configuration. ``seeded``: an offline provider whose answers depend on the run seed."""
    calls: list[PlannedCall] = []
    info: dict[str, CasePrompt] = {}
    params = dict(config.params)
    if seeded:
        params.setdefault("seed", seed)  # simulated answers depend on the recorded run seed
    for case in cases:
        ctx = task.prompt_context(case, max_history_turns=config.context.max_history_turns,
                                  max_history_tokens=config.context.max_history_tokens, clauses=None)
        try:
            rendered = template.render(ctx.variables)
        except ConfigError as exc:  # say which case made the template fail
            raise ConfigError(f"{exc} (configuration {config.name}, case {case.case_id})") from None
        messages = tuple(Message(**m) for m in rendered)
        est = sum(len(m.content) for m in messages) // 4 + 8
        info[case.case_id] = CasePrompt(history_turns_total=ctx.history_turns_total,
                                        history_turns_included=ctx.history_turns_included,
                                        history_tokens=int(ctx.extra.get("history_tokens", 0)),
                                        deciding_turn_from_end=ctx.deciding_turn_from_end)
        for k in range(config.samples):
            request = ModelRequest(provider=config.provider, model=config.model, messages=messages, params=params,
                                   response_schema=response_schema if config.structured_output else None,
                                   logprobs=config.confidence == "logprob", sample_index=k, endpoint=endpoint,
                                   template_version=template.version)
            calls.append(PlannedCall(config=config.name, case_id=case.case_id, segment=case.segment,
                                     sample_index=k, request=request, est_input_tokens=est,
                                     est_output_tokens=int(params.get("max_tokens", 400))))
    return calls, info


def render_case_prompt(template: PromptTemplate, config: ConfigSpec, case: Any, task: Any) -> list[dict[str, str]]:
    """Re-render one case's prompt exactly as the run did (for report drill-downs)."""
    ctx = task.prompt_context(case, max_history_turns=config.context.max_history_turns,
                              max_history_tokens=config.context.max_history_tokens, clauses=None)
    return template.render(ctx.variables)
