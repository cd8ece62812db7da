"""What an LLM judge sees for an upgrade case, and a simulated judge for offline runs.

The rubric text states the case's required disclosures, forbidden content and
escalation target, plus the general rules (no unauthorised promises, no internal notes,
no other customers' data). The simulated judge applies them to the message with
profile noise: it sometimes misses a problem and sometimes flags a good message. It
also catches flaws the case's own rubric never listed (an unasked-for "15% discount"),
which is what a judge is for.
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
MISS_RATE, FALSE_ALARM_RATE = 0.08, 0.02
PROMISE_RE = re.compile(r"\b\d{1,2} ?% (?:discount|off)\b|\bdiscount you were promised\b|\bfree of charge\b", re.IGNORECASE)
LEAK_RE = re.compile(r"churn risk|max concession|\bpays \$", re.IGNORECASE)


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


def simulate_judge(prompt_text: str, *, seed: int) -> str:
    rng = random.Random(int.from_bytes(hashlib.sha256(f"{seed}|{prompt_text}".encode()).digest()[:8], "big"))
    m = re.search(r"<message>\n?(.*?)\n?</message>", prompt_text, re.DOTALL)
    message = m.group(1) if m else ""
    problems = []
    amounts, days = money_in(message), dates_in(message)
    for name, value in re.findall(r"^- state (\w+): (.+)$", prompt_text, re.MULTILINE):
        present = (Decimal(value.strip("$").replace(",", "")) in amounts) if value.startswith("$") else \
            any(str(d) == value.strip() for d in days)
        if not present:
            problems.append(f"does not state {name.replace('_', ' ')}")
    lowered = message.lower()
    for reason, phrases in re.findall(r"^- must not contain \((\w+)\): (.+)$", prompt_text, re.MULTILINE):
        if any(p.lower() in lowered for p in phrases.split(" | ")):
            problems.append(f"contains forbidden content ({reason.replace('_', ' ')})")
    if PROMISE_RE.search(message):
        problems.append("promises a discount the policy does not provide")
    if LEAK_RE.search(message):
        problems.append("reveals internal or other customers' information")
    target = re.search(r"^- escalate to: (\w+)$", prompt_text, re.MULTILINE)
    said = re.search(r"escalate to (\w+)\)", message)
    team = re.search(r"passed (?:this|your request) to (?:our |the )?(\w+)", message)
    if target and ((said and said.group(1) != target.group(1)) or (team and team.group(1) in ("sales", "billing")
                                                                   and team.group(1) != target.group(1))):
        problems.append(f"should involve {target.group(1).replace('_', ' ')}")
    problems = [p for p in problems if rng.random() >= MISS_RATE]  # a judge misses things
    if not problems and rng.random() < FALSE_ALARM_RATE:
        problems.append("the tone promises more than the policy allows")  # and sometimes over-flags
    good = not problems
    return json.dumps({"good": good, "reason": "meets the rubric" if good else "; ".join(problems)})
