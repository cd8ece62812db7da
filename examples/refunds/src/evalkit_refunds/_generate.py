"""Deterministic synthetic refund cases, one stream per case so cases never shift."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from evalkit_refunds._model import SEGMENTS, Customer, Order, Outcome, RefundCase, Request
from evalkit_refunds._policy import Facts, days_since, decide

PRODUCTS = {"physical": ["Desk lamp", "Running shoes", "Coffee grinder", "Headphones", "Backpack", "Monitor arm"],
            "digital": ["Photo editor licence", "Language course", "E-book bundle", "Game pass", "Font family"]}
NAMES = ["Ana Silva", "Ben Okafor", "Chen Wei", "Dana Levi", "Emil Novak", "Farah Haddad", "Gus Moreau"]
ASKS = {
    "damaged": ["The {p} arrived broken. I'd like my money back.", "My {p} came cracked — please refund it."],
    "not_as_described": ["The {p} is nothing like the listing. Refund please.",
                         "This {p} isn't what was described; I want a refund."],
    "changed_mind": ["I changed my mind about the {p}. Can I return it?", "Don't need the {p} after all, refund?"],
    "late_delivery": ["The {p} came so late it was useless. Please refund.", "Delivery of my {p} was weeks late."],
    "duplicate_charge": ["I was charged twice for the {p}!", "There are two charges for one {p} on my card."],
}


def _rng(seed: int, i: int) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(f"refunds|{seed}|{i}".encode()).digest()[:8], "big"))


def _case(i: int, seed: int) -> RefundCase:
    rng = _rng(seed, i)
    segment = SEGMENTS[i % len(SEGMENTS)]
    category = "digital" if segment == "digital" or (segment in ("duplicate", "in_window") and rng.random() < 0.3) \
        else "physical"
    amount = Decimal(rng.randint(900, 45000)) / 100
    if segment == "high_value":
        amount = Decimal(rng.randint(50100, 200000)) / 100
    days = {"late": rng.randint(31, 80), "duplicate": rng.randint(0, 120)}.get(segment, rng.randint(0, 30))
    received = date(2025, 1, 1) + timedelta(days=rng.randint(0, 300))
    delivered = None if category == "digital" else received - timedelta(days=days)
    purchased = received - timedelta(days=days + (0 if category == "digital" else rng.randint(2, 9)))
    reason = "duplicate_charge" if segment == "duplicate" else rng.choice(
        ["damaged", "not_as_described", "changed_mind", "late_delivery"])
    refunds = rng.randint(3, 6) if segment == "repeat_refunder" else rng.choice([0, 0, 0, 1, 2])
    downloaded = category == "digital" and (segment == "digital" and rng.random() < 0.6)
    product = rng.choice(PRODUCTS[category])
    facts = Facts(category=category, amount=amount, days=days_since(received, purchased, delivered, category),
                  downloaded=downloaded, reason=reason, refunds_90d=refunds)
    action, refund, team = decide(facts)
    return RefundCase(
        case_id=f"ref-{seed}-{i:05d}", segment=segment, variant=f"{category}-{reason}",
        order=Order(order_id=f"ORD-{rng.randint(10000, 99999)}", product=product, category=category, amount=amount,
                    purchased=purchased, delivered=delivered, downloaded=downloaded),
        customer=Customer(customer_id=f"C-{rng.randint(1000, 9999)}", name=rng.choice(NAMES),
                          refunds_last_90_days=refunds),
        request=Request(received=received, reason=reason, message=rng.choice(ASKS[reason]).format(p=product.lower())),
        reviewed=Outcome(action=action, refund_amount=refund, escalate_to=team),
    )


def generate_cases(n: int, seed: int) -> Iterator[RefundCase]:
    return (_case(i, seed) for i in range(n))
