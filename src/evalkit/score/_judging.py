"""The optional LLM judge: which outputs it grades, and what its verdicts change.

The judge grades (1) every valid model decision of the run and (2) every historical
reply that carries a human label, so its agreement with humans (Cohen's kappa,
confusion matrix) tells users whether to trust it. The calls planned here go through the
run's executor like model calls (cached, journaled, resumable): ``evalkit.pipeline`` sends them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from evalkit.providers import Message, ModelRequest, estimate_input_tokens, output_cap
from evalkit.run import JUDGE, CallRecord, PlannedCall
from evalkit.score._judge import judge_agreement, judge_request_messages, parse_judge_verdict
from evalkit.score._parse import parse_decision

HISTORICAL = "historical"
JUDGE_OUTPUT_TOKENS = 80
"""The expected length of a verdict (a JSON object: good, and a one-sentence reason), in tokens."""


def judge_calls(spec: Any, task: Any, cases: Mapping[str, Any], records: Sequence[CallRecord], *,
                rubric_prefix: str, seed: int, seeded: bool = False,
                unanswered: Sequence[PlannedCall] = (), counted: bool = False, provider: Any = None,
                ) -> list[PlannedCall]:
    """The judge's calls: one per valid model decision in ``records`` (sample 0 of a configuration and
    case: an ok answer that parses) and one per historical reply with a human label.

    ``unanswered``: configuration calls whose answers are not known yet (the up-front budget estimate,
    before they are sent): one more call for each the judge would grade (sample 0), assumed to come
    back a valid decision. Such a call's prompt lacks the answer it will grade; its token estimate
    counts the answer's expected output instead. It is for estimating, never sent. ``counted``: prompt
    tokens at least at the tokenizer's count (a run under ``--max-cost``). ``provider``: the judge's, whose
    endpoint and request shape (options that change what is sent) are part of each call's cache key."""
    from evalkit.tasks import require_capability

    require_capability(task, "judge support", needed_by="the LLM judge (scoring.judge)")
    params = dict(spec.params)
    if seeded:
        params.setdefault("seed", seed)
    where = getattr(provider, "endpoint_for", None)
    endpoint = spec.endpoint or spec.options.get("base_url") or (where(spec.model) if where is not None else None)
    shape = dict(getattr(provider, "request_shape", None) or {})

    def planned(key: str, case: Any, text: str, extra_tokens: int = 0) -> PlannedCall:
        rubric, summary = task.judge_inputs(case)
        messages = judge_request_messages(f"{rubric_prefix}\n{rubric}".strip(), summary, text)
        request = ModelRequest(provider=spec.provider, model=spec.model,
                               messages=tuple(Message(**m) for m in messages), params=params,
                               endpoint=endpoint, request_shape=shape)
        est = estimate_input_tokens((m["content"] for m in messages), counted=counted) + extra_tokens
        return PlannedCall(config=JUDGE, case_id=key, segment=case.segment, sample_index=0, request=request,
                           est_input_tokens=est, est_output_tokens=JUDGE_OUTPUT_TOKENS,
                           max_output_tokens=output_cap(params))  # the budget's worst case: the judge's own cap

    calls = []
    for r in records:
        if r.sample_index == 0 and r.status == "ok" and r.response is not None:
            decision = parse_decision(r.response.text, task.decision_model).decision
            if decision is not None:
                calls.append(planned(f"{r.config}/{r.case_id}", cases[r.case_id],
                                     task.judged_text(decision, r.response.text)))
    for case in cases.values():
        if (review := task.human_review(case)) is not None:
            calls.append(planned(f"{HISTORICAL}/{case.case_id}", case, review[0]))
    estimated = [planned(f"{c.config}/{c.case_id}", cases[c.case_id], "", extra_tokens=c.est_output_tokens)
                 for c in unanswered if c.sample_index == 0]
    return calls + estimated


def apply_verdicts(scores: pd.DataFrame, records: Sequence[CallRecord], cases: Mapping[str, Any], *,
                   task: Any, decides: bool = True) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Merge judge verdicts into the scores table; return it and the agreement report."""
    verdicts: dict[str, tuple[bool | None, str]] = {}
    for r in records:
        verdicts[r.case_id] = parse_judge_verdict(r.response.text) if r.response is not None else (
            None, f"failed:{r.error_class}")
    keys = scores["config"] + "/" + scores["case_id"]
    judged = keys.map(lambda k: verdicts.get(k, (None, None)))
    scores = scores.copy()
    scores["judge_good"] = pd.array([v[0] for v in judged], dtype="boolean")
    scores["judge_reason"] = [v[1] for v in judged]
    rejected = scores["judge_good"].eq(False).fillna(False).to_numpy()
    rubric_good = scores["good"].to_numpy().copy()
    if decides:
        scores["good"] = scores["good"] & ~rejected
        scores["reasons"] = [list(r) + ([f"judge:{why}"] if bad else []) for r, bad, why in
                             zip(scores["reasons"], rejected, scores["judge_reason"])]
    reviews = {c.case_id: review for c in cases.values() if (review := task.human_review(c)) is not None}
    human_ids = list(reviews)
    human = [reviews[i][1] for i in human_ids]
    judge = [verdicts.get(f"{HISTORICAL}/{i}", (None, ""))[0] for i in human_ids]
    with_rubric = scores[scores["status"] == "ok"]
    report = _report(judge_agreement(human, judge), judge_agreement(list(rubric_good[with_rubric.index]),
                                                                    list(with_rubric["judge_good"])),
                     decides=decides, judged=int(scores["judge_good"].notna().sum()), rejected=int(rejected.sum()))
    return scores, report


def _report(human: Any, rubric: Any, *, decides: bool, judged: int, rejected: int) -> dict[str, Any]:
    """judge.json's agreement part (``score_run`` adds what is simulated)."""
    return {
        "judge_vs_human": human.to_dict(),
        "judge_vs_rubric": rubric.to_dict(),
        "judge_decides": decides,
        "n_model_decisions_judged": judged,
        "n_rejected_by_judge": rejected,
        "note": "judge_vs_human is measured on historical replies with a senior reviewer's label; "
                "judge_vs_rubric compares the judge with evalkit's deterministic checks on this run's decisions.",
    }


def pooled_judge_report(reports: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The agreement report (``apply_verdicts``'s) of the runs whose reports these are, made at once: the
    shards of one run (``evalkit merge``). The shards' cases are disjoint, so the whole run's pairs are the
    shards' pairs together; each agreement is computed again on the pooled pairs (kappa, its interval
    and the raw agreement depend on them only through the 2x2 table), never averaged. The rubric side
    cannot be read back from a scores table once the judge decided (``good`` is then the rubric's and the
    judge's), which is why the shards' tables are pooled. None when no run has a report."""
    if not reports:
        return None
    decides = {bool(r.get("judge_decides", True)) for r in reports}
    if len(decides) != 1:
        raise ValueError("judge reports of runs that differ in judge_decides cannot be pooled")

    def pooled(side: str) -> Any:
        human: list[bool | None] = []
        judge: list[bool | None] = []
        for r in reports:
            a = r.get(side) or {}
            for h, row in zip((False, True), a.get("confusion") or [[0, 0], [0, 0]], strict=True):
                for j, count in zip((False, True), row, strict=True):
                    human += [h] * int(count)
                    judge += [j] * int(count)
            dropped = int(a.get("n_dropped") or 0)
            human += [None] * dropped  # a pair without one of its labels: counted as dropped again
            judge += [None] * dropped
        return judge_agreement(human, judge)

    return _report(pooled("judge_vs_human"), pooled("judge_vs_rubric"), decides=decides.pop(),
                   judged=sum(int(r.get("n_model_decisions_judged") or 0) for r in reports),
                   rejected=sum(int(r.get("n_rejected_by_judge") or 0) for r in reports))
