"""The generator's draft of one case: the facts a variant and its modifiers set before the
case dict is built (_history.py) and its reviewed decision computed (_reference.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass
class Draft:
    rng: random.Random
    today: date
    plan: str = "team"
    cycle: str = "monthly"
    seats: int = 10
    cohort: str = "current"
    promo: dict | None = None
    contract: dict | None = None
    flags: dict = field(default_factory=dict)
    customer_since: date = date(2020, 1, 1)
    migrated_from: str | None = None
    migration_date: date | None = None
    nonprofit: bool = False
    am: str | None = None
    target_plan: str = "team"
    target_seats: int = 10
    target_cycle: str = "monthly"
    ask: str = ""
    attack: str = ""
    history_len: int = 3
    early_turns: list[tuple[str, str]] = field(default_factory=list)
    """(author, text) placed at the start of the history: the deciding facts."""
    history_facts: dict = field(default_factory=dict)
    forbidden: dict[str, list[str]] = field(default_factory=dict)
    current_seat_price: Decimal | None = None
    families: list[str] = field(default_factory=list)
    """Edge-case families this case combines (a second one is added to some cases)."""
    distractor: str | None = None
    """A fact stated in the history and revoked later (dispute_resolved, lock_ended, signoff_lifted)."""
    distractor_turns: list[tuple[str, str]] = field(default_factory=list)
    hint: str | None = None
    text_only: bool = False
