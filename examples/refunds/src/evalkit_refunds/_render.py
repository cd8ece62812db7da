"""What a prompt template sees, and reading a rendered prompt back (the rules baseline and
the simulated model read only the prompt, as a real model would)."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

from evalkit.tasks import PromptContext, PromptVariable
from evalkit.tasks import describe_prompt_variables as describe
from evalkit_refunds._model import RefundCase, RefundDecision
from evalkit_refunds._policy import CLAUSES, Facts, days_since


def fact_sheet(case: RefundCase) -> str:
    o, c, r = case.order, case.customer, case.request
    return "\n".join([
        f"Today: {r.received}",
        f"Order: {o.order_id} ({o.product})",
        f"Category: {o.category}",
        f"Amount: ${o.amount:,.2f}",
        f"Purchased: {o.purchased}",
        f"Delivered: {o.delivered or 'n/a'}",
        f"Downloaded: {'yes' if o.downloaded else 'no'}",
        f"Reason given: {r.reason.replace('_', ' ')}",
        f"Refunds in the last 90 days: {c.refunds_last_90_days}",
    ])


def prompt_context(case: RefundCase) -> PromptContext:
    variables = {
        "policy": list(CLAUSES),
        "facts": fact_sheet(case),
        "message": case.request.message,
        "today": str(case.request.received),
        "schema": json.dumps(RefundDecision.model_json_schema(), separators=(",", ":")),
    }
    return PromptContext(variables=variables, history_turns_total=0, history_turns_included=0)


DOCS = {
    "policy": "The refund policy clauses, in order (each has `id`, `title`, `text`).",
    "facts": "The order's fact sheet, one `Label: value` line per fact.",
    "message": "The customer's message, verbatim (untrusted text).",
    "today": "The date the request arrived.",
    "schema": "The JSON the decision must follow, as text.",
}


def prompt_variables(case: RefundCase) -> list[PromptVariable]:
    return describe(prompt_context(case).variables, DOCS)


_LINE = re.compile(r"^(Today|Category|Amount|Purchased|Delivered|Downloaded|Reason given|"
                   r"Refunds in the last 90 days): *(.+?) *$", re.MULTILINE)


def read_facts(prompt_text: str) -> Facts | None:
    """The fact sheet back from a rendered prompt; None when a fact the decision needs is missing."""
    found = dict(_LINE.findall(prompt_text))
    try:
        today = date.fromisoformat(found["Today"])
        purchased = date.fromisoformat(found["Purchased"])
        delivered = None if found["Delivered"] == "n/a" else date.fromisoformat(found["Delivered"])
        category = found["Category"]
        return Facts(category=category, amount=Decimal(found["Amount"].lstrip("$").replace(",", "")),
                     days=days_since(today, purchased, delivered, category),
                     downloaded=found["Downloaded"] == "yes", reason=found["Reason given"].replace(" ", "_"),
                     refunds_90d=int(found["Refunds in the last 90 days"]))
    except (KeyError, ValueError, ArithmeticError):
        return None


def clauses_in(prompt_text: str) -> frozenset[str]:
    """Which rules the prompt states, recognised by what they say (not by their ids)."""
    text = " ".join(prompt_text.split()).lower()
    said = {
        "RF-2": "50%" in text and "60 days" in text,
        "RF-3": "downloaded" in text and "not refundable" in text,
        "RF-4": "duplicate charge" in text and "in full" in text,
        "RF-5": "or more refunds" in text and "fraud" in text,
        "RF-6": "need a manager" in text or "escalate to manager" in text,
    }
    return frozenset(k for k, v in said.items() if v) | {"RF-1"}
