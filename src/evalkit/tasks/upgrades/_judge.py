"""What an LLM judge sees for an upgrade case, and a simulated judge for offline runs.

The rubric text states the case's required disclosures, forbidden content and
escalation target, plus the general rules (no unauthorised promises, no internal notes,
no other customers' data). The simulated judge applies them to the message with
its own generic checks (disclosures parsed from the text, promises, leaks, curt tone,
jargon), each with its own miss rate, and sometimes flags a good message. It never sees
how historical replies were made or how reviewers labelled them (see _history.py): its
agreement with reviewers is whatever these two independent processes produce.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from decimal import Decimal

from evalkit.tasks.upgrades._model import Case, Decision
from evalkit.tasks.upgrades._render import fact_sheet, request_sheet
from evalkit.tasks.upgrades._rubric import dates_in, money_in

GENERAL_RULES = (
    "- never promise or grant a discount, credit or price the policy does not provide",
    "- never reveal internal notes (e.g. churn risk, concessions) or other customers' information",
)
MISS_RATE, FALSE_ALARM_RATE = 0.08, 0.03


def judge_inputs(case: Case) -> tuple[str, str]:
    """(rubric_text, case_summary) for evalkit.score.judge_request_messages."""
    lines = ["The message is good only if all of these hold:"]
    for need in case.rubric.required_disclosures:
        value = f"${Decimal(need.value):,.2f}" if need.kind == "money" else need.value
        lines.append(f"- state {need.name}: {value}")
    for reason, phrases in case.rubric.forbidden_phrases.items():
        lines.append(f"- must not contain ({reason}): {' | '.join(phrases)}")
    if case.rubric.escalate_to:
        lines.append(f"- escalate to: {case.rubric.escalate_to}")
    lines.extend(GENERAL_RULES)
    return "\n".join(lines), f"{fact_sheet(case)}\n{request_sheet(case)}"


def judged_text(decision: Decision | None, fallback: str) -> str:
    """What the judge grades: the decision in one line, then the customer message."""
    if decision is None:
        return fallback
    head = f"Decision: {decision.action}"
    if decision.escalate_to:
        head += f" (escalate to {decision.escalate_to})"
    return f"{head}\nMessage: {decision.message}"


CHECKS = (  # (problem, pattern, miss rate): a judge model's own reading, not the reviewers' flaw list
    ("promises a discount or concession the policy does not provide",
     re.compile(r"\b\d{1,2} ?% (?:discount|off)|\bwaive|\bon us\b|free of charge|\bcredit of\b|goodwill|"
                r"discount you were promised|old price", re.IGNORECASE), 0.1),
    ("reveals internal or other customers' information",
     re.compile(r"churn|concession|our notes|internally|flagged|pays less|\bpays \$", re.IGNORECASE), 0.1),
    ("tone is curt or condescending", re.compile(r"could have read|don't ask again|needed a ticket|\bobviously\b",
                                                 re.IGNORECASE), 0.3),
    ("unclear: internal jargon", re.compile(r"\b(?:MRR|ARR|UPG-\d+|pro rata|T&Cs|net of)\b"), 0.4),
)


def _refused(message: str, start: int) -> bool:
    from evalkit.tasks.upgrades._rubric import REFUSAL_RE

    begin = max(message.rfind(".", 0, start), message.rfind("!", 0, start)) + 1
    end = message.find(".", start)
    return bool(REFUSAL_RE.search(message[begin:end if end >= 0 else len(message)]))


def simulate_judge(prompt_text: str, *, seed: int) -> str:
    rng = random.Random(int.from_bytes(hashlib.sha256(f"{seed}|{prompt_text}".encode()).digest()[:8], "big"))
    m = re.search(r"<message>\n?(.*?)\n?</message>", prompt_text, re.DOTALL)
    message = m.group(1) if m else ""
    problems = []
    amounts, days = money_in(message), dates_in(message)
    for name, value in re.findall(r"^- state (\w+): (.+)$", prompt_text, re.MULTILINE):
        present = (Decimal(value.strip("$").replace(",", "")) in amounts) if value.startswith("$") else \
            any(str(d) == value.strip() for d in days)
        if not present and rng.random() >= 0.05:
            problems.append(f"does not state {name.replace('_', ' ')}")
    lowered = message.lower()
    for reason, phrases in re.findall(r"^- must not contain \((\w+)\): (.+)$", prompt_text, re.MULTILINE):
        hit = next((lowered.find(p.lower()) for p in phrases.split(" | ") if p.lower() in lowered), -1)
        if hit >= 0 and not _refused(message, hit) and rng.random() >= MISS_RATE:
            problems.append(f"contains forbidden content ({reason.replace('_', ' ')})")
    for problem, pattern, miss in CHECKS:
        found = pattern.search(message)
        if found and not _refused(message, found.start()) and rng.random() >= miss:
            problems.append(problem)
    target = re.search(r"^- escalate to: (\w+)$", prompt_text, re.MULTILINE)
    said = re.search(r"escalate to (\w+)\)", message)
    team = re.search(r"passed (?:this|your request) to (?:our |the )?(\w+)", message)
    if target and ((said and said.group(1) != target.group(1)) or (team and team.group(1) in ("sales", "billing")
                                                                   and team.group(1) != target.group(1))):
        if rng.random() >= MISS_RATE:
            problems.append(f"should involve {target.group(1).replace('_', ' ')}")
    if not problems and rng.random() < FALSE_ALARM_RATE:
        problems.append("the tone promises more than the policy allows")  # and sometimes over-flags
    good = not problems
    return json.dumps({"good": good, "reason": "meets the rubric" if good else "; ".join(problems)})
