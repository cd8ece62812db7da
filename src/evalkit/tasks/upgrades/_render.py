"""What a prompt template sees: the policy clauses, the catalogue, the fact sheet, the
request, and the history window chosen by the configuration's context policy.

The fact sheet uses ``Label: value`` lines; the simulated model reads facts only in
this form (see _read.py), so a template that drops a line hides that fact from it.
The reviewed decision is never exposed to templates.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from evalkit._tokens import count_tokens
from evalkit.tasks._task import PromptContext, PromptVariable
from evalkit.tasks.upgrades._model import Case, Decision
from evalkit.tasks.upgrades._policy import CLAUSE_BY_ID, CLAUSES, catalogue_lines


def fact_sheet(case: Case) -> str:
    a, r = case.account, case.request
    lines = [
        f"Today: {r.received}",
        f"Account: {a.account_id} ({a.company})",
        f"Current plan: {a.plan}",
        f"Billing cycle: {a.billing_cycle}",
        f"Seats: {a.seats}",
        f"Current recurring price: ${a.recurring_price} per {'month' if a.billing_cycle == 'monthly' else 'year'}",
        f"Current billing period: {a.period_start} to {a.period_end}",
        f"Pricing cohort: {a.pricing_cohort}",
        f"Customer since: {a.customer_since}",
    ]
    if a.promotion:
        p = a.promotion
        lines.append(f"Promotion: {p.code}, {p.percent_off}% off {', '.join(p.eligible_plans)}, "
                     f"from {p.starts} to {p.ends}")
    else:
        lines.append("Promotion: none")
    if a.contract:
        c = a.contract
        parts = [f"{c.contract_id} on {c.plan}, negotiated ${c.negotiated_seat_price} per seat per month"]
        parts.append(f"price lock until {c.price_lock_until}" if c.price_lock_until else "no price lock")
        if c.min_seats:
            parts.append(f"minimum {c.min_seats} seats")
        if c.changes_need_am_approval:
            parts.append("changes need account-manager approval")
        lines.append("Contract: " + "; ".join(parts))
    else:
        lines.append("Contract: none")
    flags = [name for name, on in (("open billing dispute", a.flags.open_billing_dispute),
                                   ("failed payment", a.flags.failed_payment),
                                   ("renewal negotiation in progress", a.flags.renewal_negotiation)) if on]
    lines.append(f"Account flags: {', '.join(flags) if flags else 'none'}")
    lines.append(f"Account manager: {a.account_manager or 'none'}")
    tags = []
    if a.migrated_from:
        tags.append(f"migrated from {a.migrated_from} on {a.migration_date}")
    if a.nonprofit_verified:
        tags.append("verified nonprofit")
    lines.append(f"Account notes: {'; '.join(tags) if tags else 'none'}")
    return "\n".join(lines)


def request_sheet(case: Case) -> str:
    r = case.request
    return (f"Requested plan: {r.target_plan}\nRequested seats: {r.target_seats}\n"
            f"Requested billing cycle: {r.target_cycle}")


def format_turn(turn: Any) -> str:
    return f"[{turn.at:%Y-%m-%d %H:%M}] {turn.author}: {turn.text}"


def history_window(case: Case, *, max_turns: int | None, max_tokens: int | None) -> tuple[list[str], int]:
    """The most recent turns that fit the policy, oldest first, and their token count."""
    lines = [format_turn(t) for t in case.history]
    if max_turns is not None:
        lines = lines[len(lines) - max_turns:] if max_turns > 0 else []
    if max_tokens is None:
        return lines, count_tokens("\n".join(lines)) if lines else 0
    kept: list[str] = []
    tokens = 0
    for line in reversed(lines):
        n = count_tokens(line) + 1
        if tokens + n > max_tokens:
            break
        kept.append(line)
        tokens += n
    kept.reverse()
    return kept, tokens


@lru_cache(maxsize=1)
def _schema_text() -> str:
    return json.dumps(Decision.model_json_schema()["properties"], separators=(",", ":"))


def prompt_context(case: Case, *, max_history_turns: int | None = None, max_history_tokens: int | None = None,
                   clauses: Sequence[str] | None = None) -> PromptContext:
    turns, history_tokens = history_window(case, max_turns=max_history_turns, max_tokens=max_history_tokens)
    deciding = case.history_facts.deciding_turn
    total = len(case.history)
    selected = [CLAUSE_BY_ID[c] for c in clauses] if clauses is not None else [c for c in CLAUSES if c.kind == "written"]
    variables = {
        "clauses": {c.id: c for c in CLAUSES},
        "written": [c for c in CLAUSES if c.kind == "written"],
        "practice": [c for c in CLAUSES if c.kind == "practice"],
        "guidance": [c for c in CLAUSES if c.kind == "guidance"],
        "policy": selected,
        "catalogue": "\n".join(catalogue_lines()),
        "facts": fact_sheet(case),
        "request": request_sheet(case),
        "message": case.request.message,
        "history": turns,
        "history_text": "\n".join(turns),
        "history_omitted": total - len(turns),
        "today": str(case.request.received),
        "schema": _schema_text(),
    }
    return PromptContext(
        variables=variables, history_turns_total=total, history_turns_included=len(turns),
        deciding_turn_from_end=(total - deciding) if deciding is not None else None,
        extra={"history_tokens": history_tokens},
    )


VARIABLE_DOCS = {
    "clauses": "Every policy clause by id (written, practice, guidance); `{{ clauses['<id>'].text }}`.",
    "written": "The written policy clauses, in order (each has `id`, `title`, `text`).",
    "practice": "Unwritten practice: exceptions reviewers apply (each has `id`, `title`, `text`).",
    "guidance": "Operational guidance: when to hand a case to a team (each has `id`, `title`, `text`).",
    "policy": "The clauses this prompt applies (the written policy unless a clause list is given).",
    "catalogue": "The plan catalogue: plans, seat prices, billing cycles, as text lines.",
    "facts": "The account's fact sheet, one `Label: value` line per fact.",
    "request": "The upgrade request: target plan, seats, billing cycle, date received.",
    "message": "The customer's message, verbatim (untrusted text).",
    "history": "The conversation turns the context policy keeps, oldest first, one string each.",
    "history_text": "The same turns joined by newlines.",
    "history_omitted": "How many earlier turns the context policy left out.",
    "today": "The date the request was received (the decision's 'today').",
    "schema": "The JSON the decision must follow, as text.",
}


def prompt_variables() -> list[PromptVariable]:
    """Every template variable with type and an example, taken from a generated case."""
    from evalkit.tasks import describe_prompt_variables as describe
    from evalkit.tasks.upgrades._generator import generate_cases

    case = next(c for c in generate_cases(40, 1) if c.history)
    return describe(prompt_context(case).variables, VARIABLE_DOCS)
