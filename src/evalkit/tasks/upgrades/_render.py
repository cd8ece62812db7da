"""What a prompt template sees: the policy clauses, the catalogue, the fact sheet (also
as a table, JSON, prose and plain data), the request, the history chosen by the
configuration's context policy (truncated or summarised) and retrieved passages.

The reviewed decision is never exposed to templates.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from evalkit._tokens import count_tokens
from evalkit.tasks._task import PromptContext, PromptVariable
from evalkit.tasks.upgrades._catalogue import Catalogue, shipped_catalogue
from evalkit.tasks.upgrades._model import Case, decision_schema


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
    if not r.structured:
        return "Requested change: not recorded in the desk tool; see the customer's message."
    return (f"Requested plan: {r.target_plan}\nRequested seats: {r.target_seats}\n"
            f"Requested billing cycle: {r.target_cycle}")


def account_record(case: Case) -> dict[str, Any]:
    """The account and request as plain data, for templates that lay facts out their own way
    (``{{ account | tojson }}``, a table, prose)."""
    a = case.account.model_dump(mode="json", exclude={"account_id", "company"})
    a = {"account_id": case.account.account_id, "company": case.account.company, "today": str(case.request.received),
         **a}
    if case.request.structured:
        a["request"] = {"target_plan": case.request.target_plan, "target_seats": case.request.target_seats,
                        "target_cycle": case.request.target_cycle}
    return a


def fact_layouts(case: Case) -> dict[str, str]:
    """The fact sheet in other layouts: a markdown table, JSON and prose (same facts)."""
    sheet = fact_sheet(case) + "\n" + request_sheet(case)
    pairs = [line.split(": ", 1) for line in sheet.splitlines() if ": " in line]
    table = "| fact | value |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in pairs)
    a, r = case.account, case.request
    prose = (f"Today is {r.received}. The account {a.account_id} ({a.company}) is on the {a.plan} plan with {a.seats} "
             f"seats, billed {a.billing_cycle}, and pays ${a.recurring_price} per "
             f"{'month' if a.billing_cycle == 'monthly' else 'year'}. The current billing period runs from "
             f"{a.period_start} to {a.period_end}. ")
    if a.pricing_cohort != "current":
        prose += f"It is in the {a.pricing_cohort} pricing cohort. "
    prose += f"Customer since {a.customer_since}. "
    rest = [f"{k}: {v}" for k, v in pairs if k in ("Promotion", "Contract", "Account flags", "Account manager",
                                                    "Account notes")]
    prose += " ".join(f"{line}." for line in rest)
    if r.structured:
        prose += (f" The customer requests the {r.target_plan} plan with {r.target_seats} seats, billed "
                  f"{r.target_cycle}.")
    return {"facts_table": table, "facts_json": json.dumps(account_record(case), indent=1), "facts_prose": prose}


def format_turn(turn: Any) -> str:
    return f"[{turn.at:%Y-%m-%d %H:%M}] {turn.author}: {turn.text}"


def history_window(case: Case, *, max_turns: int | None, max_tokens: int | None) -> tuple[list[str], int]:
    """The most recent turns that fit the policy, oldest first, and their token count."""
    lines = [format_turn(t) for t in case.history]
    if max_turns is not None:
        lines = lines[len(lines) - max_turns:] if max_turns > 0 else []
    if max_tokens is None:
        return lines, count_tokens("\n".join(lines)) if lines else 0
    return newest_within(lines, max_tokens)


def newest_within(lines: list[str], budget: int) -> tuple[list[str], int]:
    """The most recent lines whose tokens (one per line break included) fit ``budget``, oldest first."""
    kept: list[str] = []
    tokens = 0
    for line in reversed(lines):
        n = count_tokens(line) + 1
        if tokens + n > budget:
            break
        kept.append(line)
        tokens += n
    kept.reverse()
    return kept, tokens


@lru_cache(maxsize=8)
def _schema_text(plans: tuple[str, ...]) -> str:
    return json.dumps(decision_schema(plans)["properties"], separators=(",", ":"))


def _memory(case: Case, context: Any, lines: list[str]) -> tuple[list[str], int, bool]:
    """History lines under the memory policy: raw (as given) or older turns summarised."""
    if context is None or getattr(context, "memory", "raw") == "raw":
        return lines, count_tokens("\n".join(lines)) if lines else 0, False
    from evalkit.tasks.upgrades._context import summarise

    recent = context.recent_turns if context.recent_turns is not None else 5
    turns = case.history
    cut = max(len(turns) - recent, 0)
    older = [(f"{t.at:%Y-%m-%d %H:%M}", t.author, t.text) for t in turns[:cut]]
    kept = summarise(older, budget=context.summary_tokens) + [format_turn(t) for t in turns[cut:]]
    return kept, count_tokens("\n".join(kept)) if kept else 0, True


def prompt_context(case: Case, *, max_history_turns: int | None = None, max_history_tokens: int | None = None,
                   clauses: Sequence[str] | None = None, context: Any = None, resources: Any = None,
                   catalogue: Catalogue | None = None) -> PromptContext:
    """Template variables for ``case`` under a context policy (truncation, memory, retrieval);
    the clauses and the catalogue are ``catalogue``'s (the shipped one by default)."""
    cat = catalogue or shipped_catalogue()
    summarised = False
    if context is not None and getattr(context, "memory", "raw") == "summary":
        turns, history_tokens, summarised = _memory(case, context, [])
    else:
        turns, history_tokens = history_window(case, max_turns=max_history_turns, max_tokens=max_history_tokens)
    retrieved, retrieved_ids, retrieved_tokens = [], [], 0
    if context is not None and getattr(context, "retrieval", None) is not None:
        from evalkit.tasks.upgrades._context import retrieve

        retrieved, retrieved_ids, retrieved_tokens = retrieve(case, [t.text for t in case.history], resources,
                                                              context.retrieval)
    deciding = case.history_facts.deciding_turn
    total = len(case.history)
    selected = [cat.clause(c) for c in clauses] if clauses is not None else cat.of_kind("written")
    variables = {
        "clauses": {c.id: c for c in cat.clauses},
        "written": cat.of_kind("written"),
        "practice": cat.of_kind("practice"),
        "guidance": cat.of_kind("guidance"),
        "policy": selected,
        "catalogue": "\n".join(cat.lines()),
        "facts": fact_sheet(case),
        **fact_layouts(case),
        "account": account_record(case),
        "request": request_sheet(case),
        "message": case.request.message,
        "history": turns,
        "history_text": "\n".join(turns),
        "history_omitted": 0 if summarised else total - len(turns),
        "history_summarised": summarised,
        "retrieved": retrieved,
        "retrieved_text": "\n".join(f"- {r}" for r in retrieved),
        "today": str(case.request.received),
        "schema": _schema_text(cat.plans),
    }
    return PromptContext(
        variables=variables, history_turns_total=total,
        history_turns_included=total if summarised else len(turns),
        deciding_turn_from_end=(total - deciding) if deciding is not None else None,
        extra={"history_tokens": history_tokens, "retrieved_tokens": retrieved_tokens,
               "retrieved_ids": retrieved_ids},
    )


VARIABLE_DOCS = {
    "clauses": "Every policy clause of the catalogue file by id (written, practice, guidance); "
               "`{{ clauses['<id>'].text }}`.",
    "written": "The written policy clauses, in order (each has `id`, `title`, `text`).",
    "practice": "Unwritten practice: exceptions reviewers apply (each has `id`, `title`, `text`).",
    "guidance": "Operational guidance: when to hand a case to a team (each has `id`, `title`, `text`).",
    "policy": "The clauses this prompt applies (the written policy unless a clause list is given).",
    "catalogue": "The plan catalogue (the suite's or dataset's catalogue file, else the shipped one): plans, "
                 "seat prices, billing cycles, as text lines.",
    "facts": "The account's fact sheet, one `Label: value` line per fact.",
    "facts_table": "The same facts (and the request) as a markdown table.",
    "facts_json": "The same facts (and the request) as JSON with the case's field names.",
    "facts_prose": "The same facts written as sentences.",
    "account": "The account and structured request as plain data (`{{ account | tojson }}`, `{{ account.plan }}`).",
    "request": "The upgrade request: target plan, seats, billing cycle (or a note that it is only in the message).",
    "message": "The customer's message, verbatim (untrusted text).",
    "history": "The conversation turns the context policy keeps, oldest first, one string each.",
    "history_text": "The same turns joined by newlines.",
    "history_omitted": "How many earlier turns the context policy left out.",
    "history_summarised": "True when the memory policy summarised older turns (one line each) before the recent ones.",
    "retrieved": "Passages a retrieval context policy added (memos, precedents), best first; empty without one.",
    "retrieved_text": "The same passages as '- ' lines.",
    "today": "The date the request was received (the decision's 'today').",
    "schema": "The JSON the decision must follow, as text.",
}


def prompt_variables() -> list[PromptVariable]:
    """Every template variable with type and an example, taken from a generated case."""
    from types import SimpleNamespace

    from evalkit.tasks import describe_prompt_variables as describe
    from evalkit.tasks.upgrades._context import Resources
    from evalkit.tasks.upgrades._corpus import build_corpus
    from evalkit.tasks.upgrades._generator import generate_cases

    case = next(c for c in generate_cases(40, 1) if c.history)
    retrieval = SimpleNamespace(k=2, sources=["memos", "precedents"], max_tokens=None)  # to show an example
    context = SimpleNamespace(memory="raw", retrieval=retrieval)
    return describe(prompt_context(case, context=context, resources=Resources(corpus=build_corpus(seed=1, precedents=20))
                                   ).variables, VARIABLE_DOCS)
