"""Writes the made-up ticket export in this folder.

It stands for what a billing desk's helpdesk exports: its own column names, money as text
("$1,200.00"), dates in three formats, free-text queue labels, the customer record and the
thread as nested JSON columns, yes/no checkboxes. The rows are 200 cases of upgrades@v1,
re-spelled; importing them through mapping.yaml gives those cases back (a test checks it).

    .venv/bin/python examples/acme/make_export.py
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUEUES = {
    "routine": ["Upgrade - standard", "Standard upgrade", "upgrade"],
    "promotion": ["Promo", "Promotion / discount code"],
    "legacy_pricing": ["Legacy pricing", "legacy-pricing"],
    "custom_contract": ["Contract / Enterprise", "Custom contract"],
    "undocumented_exception": ["Exception (undocumented)", "Special case"],
    "operational_context": ["Ops - billing flags", "Billing hold"],
    "adversarial": ["Security / suspicious", "Suspicious request"],
    "long_context": ["Long thread", "Long-running thread"],
}
ACTIONS = {"approve": "Approved", "deny": "Denied", "escalate": "Escalated", "counter_offer": "Counter offer"}
TEAMS = {"billing": "Billing team", "account_manager": "Account manager", "sales": "Sales"}
DATE_FORMATS = ("%m/%d/%Y", "%Y-%m-%d", "%b %d, %Y")


def _money(value, i: int) -> str:
    if value is None:
        return ""
    return (f"${value:,.2f}", f"{value}", f"USD {value:,.2f}")[i % 3]


def _day(value, i: int) -> str:
    return "" if value is None else value.strftime(DATE_FORMATS[i % 3])


def _yes(flag: bool, i: int) -> str:
    return ("Yes", "Y", "yes")[i % 3] if flag else ("No", "", "no")[i % 3]


def ticket(case, i: int, rng: random.Random) -> dict[str, str]:
    a, r, d = case.account, case.request, case.reviewed
    customer = {"id": a.account_id, "name": a.company, "since": _day(a.customer_since, i + 1),
                "am": a.account_manager, "nonprofit": a.nonprofit_verified,
                "migrated_from": a.migrated_from, "migrated_on": _day(a.migration_date, i + 1)}
    promo = None if a.promotion is None else {
        "code": a.promotion.code, "pct": a.promotion.percent_off, "plans": a.promotion.eligible_plans,
        "from": a.promotion.starts.isoformat(), "to": a.promotion.ends.isoformat()}
    contract = None if a.contract is None else {
        "id": a.contract.contract_id, "plan": a.contract.plan, "seat_price": str(a.contract.negotiated_seat_price),
        "locked_until": a.contract.price_lock_until.isoformat() if a.contract.price_lock_until else None,
        "min_seats": a.contract.min_seats, "am_approval": a.contract.changes_need_am_approval}
    thread = [{"ts": t.at.strftime("%m/%d/%Y %H:%M"), "from": t.author.title(), "body": t.text}
              for t in case.history]
    return {
        "Ticket #": case.case_id, "Queue": rng.choice(QUEUES[case.segment]), "Tag": case.variant,
        "Customer": json.dumps(customer), "Current plan": a.plan.title(), "Seats": str(a.seats),
        "Billing": a.billing_cycle.title(), "Current price": _money(a.recurring_price, i),
        "Term start": _day(a.period_start, i), "Renews": _day(a.period_end, i + 2),
        "Pricing cohort": {"current": "Current", "legacy-2019": "Legacy 2019", "legacy-2021": "Legacy 2021"}[
            a.pricing_cohort],
        "Promo": json.dumps(promo) if promo else "", "Contract": json.dumps(contract) if contract else "",
        "Open dispute?": _yes(a.flags.open_billing_dispute, i), "Payment failed?": _yes(a.flags.failed_payment, i),
        "In renewal talks?": _yes(a.flags.renewal_negotiation, i),
        "Received": _day(r.received, i), "Wants plan": r.target_plan.title(), "Wants seats": str(r.target_seats),
        "Wants billing": r.target_cycle.title(), "Customer message": r.message, "Thread": json.dumps(thread),
        "Resolution": ACTIONS[d.action], "Resolved plan": (d.target_plan or "").title(),
        "Resolved seats": "" if d.seats is None else str(d.seats),
        "Resolved billing": (d.billing_cycle or "").title(), "New price": _money(d.new_recurring_price, i + 1),
        "Charged today": _money(d.prorated_charge_today, i + 2), "Effective": _day(d.effective_date, i + 1),
        "Escalated to": TEAMS.get(d.escalate_to or "", ""), "Agent reply": case.historical_reply or "",
        "QA good?": "" if case.human_good is None else ("Y" if case.human_good else "N"),
    }


def write(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    from evalkit.dataset import load_dataset

    cases = load_dataset("upgrades@v1", store=HERE.parents[1] / "datasets").cases
    rng = random.Random(2024)
    chosen = sorted(rng.sample(range(len(cases)), 200))
    rows = [ticket(cases[j], i, rng) for i, j in enumerate(chosen)]
    write(HERE / "ticket-export.csv", rows)
    print(f"wrote {len(rows)} tickets to {HERE / 'ticket-export.csv'}")


if __name__ == "__main__":
    main()
