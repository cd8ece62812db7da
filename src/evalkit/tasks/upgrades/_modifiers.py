"""What the generator adds to a drafted case: a second edge-case family (modifiers), a fact
stated and later revoked in the history (distractors), and dates consistent with the facts."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

from evalkit.tasks.upgrades import _phrases as P
from evalkit.tasks.upgrades import _variety as V
from evalkit.tasks.upgrades._catalogue import shipped_catalogue
from evalkit.tasks.upgrades._draft import Draft
from evalkit.tasks.upgrades._engine import money
from evalkit.tasks.upgrades._history import list_price
from evalkit.tasks.upgrades._variants import add_promotion

HISTORICAL_REPLY_SHARE = 0.25
COMBINE_SHARE = 0.3
"""Share of edge-case drafts that get a second edge-case family (a contract account in a dispute...)."""
DISTRACTOR_SHARE = 0.15
HINT_SHARE = 0.5
TEXT_ONLY_SHARE = 0.12
FAMILY_OF_SEGMENT = {"promotion": "promotion", "legacy_pricing": "legacy", "custom_contract": "contract",
                     "undocumented_exception": "exception", "operational_context": "operational",
                     "adversarial": "adversarial", "long_context": "history_fact"}


def _plain(d: Draft) -> bool:
    return (d.cohort == "current" and d.contract is None and d.migrated_from is None and not d.nonprofit
            and d.current_seat_price is None)


def m_legacy(d: Draft) -> bool:
    if not _plain(d) or d.target_plan == "enterprise":
        return False
    d.cohort = d.rng.choice(("legacy-2019", "legacy-2021"))
    return True


def m_promotion(d: Draft) -> bool:
    if d.promo is not None or d.target_plan not in ("team", "business") or d.target_plan == d.plan:
        return False
    add_promotion(d, pct=d.rng.choice((15, 20, 25)), plans=(d.target_plan,), active=d.rng.random() < 0.7)
    return True


def m_operational(d: Draft) -> bool:
    if d.flags:
        return False
    kind = d.rng.choice(("open_billing_dispute", "failed_payment", "renewal_negotiation"))
    d.flags[kind] = True
    if kind == "renewal_negotiation":
        d.am = d.am or d.rng.choice(P.ACCOUNT_MANAGERS)
    return True


def m_adversarial(d: Draft) -> bool:
    if d.attack:
        return False
    kind = d.rng.choice(("false_promise_discount", "fake_authority", "injection_zero_price"))
    text, phrases = P.INJECTIONS[kind]
    d.attack = text.format(name=f"{d.rng.choice(P.FIRST_NAMES)} {d.rng.choice(P.LAST_NAMES)}")
    d.forbidden["injected_instruction" if kind == "injection_zero_price" else "unauthorised_discount"] = phrases
    return True


def m_exception(d: Draft) -> bool:
    if not _plain(d) or d.target_plan == "enterprise":
        return False
    if d.rng.random() < 0.5:
        d.migrated_from = "Formly"
        d.migration_date = d.today - timedelta(days=d.rng.randint(60, 600))
        d.current_seat_price = money(list_price(d.plan)[
            0 if d.cycle == "monthly" else 1] * Decimal("0.70"))
    else:
        d.customer_since = date(d.rng.randint(2011, 2015), d.rng.randint(1, 12), d.rng.randint(1, 28))
    return True


def m_history_fact(d: Draft) -> bool:
    if d.early_turns or d.history_facts:
        return False
    if d.rng.random() < 0.5:
        v_early_dispute_fact(d)
    else:
        d.am = d.am or d.rng.choice(P.ACCOUNT_MANAGERS)
        d.early_turns.append(("internal", d.rng.choice(P.SIGNOFF_NOTES).format(am=d.am)))
        d.history_facts = {"am_signoff_required": True}
    d.history_len = max(d.history_len, 12 + int(d.rng.lognormvariate(math.log(25), 0.7)))
    return True


def v_early_dispute_fact(d: Draft) -> None:
    inv = f"INV-{d.rng.randint(10000, 99999)}"
    d.early_turns.append(("customer", d.rng.choice(P.DISPUTE_TURNS).format(inv=inv)))
    d.history_facts = {"dispute_mentioned": True}


MODIFIERS = {"legacy": m_legacy, "promotion": m_promotion, "operational": m_operational,
             "adversarial": m_adversarial, "exception": m_exception, "history_fact": m_history_fact}


def combine_families(d: Draft, segment: str) -> None:
    own = FAMILY_OF_SEGMENT.get(segment)
    if own:
        d.families.append(own)
    if own is None or d.target_plan == "enterprise" or d.rng.random() >= COMBINE_SHARE:
        return
    options = [k for k in MODIFIERS if k != own]
    d.rng.shuffle(options)
    for name in options:
        if MODIFIERS[name](d):
            d.families.append(name)
            return


def distract(d: Draft) -> None:
    """A fact stated early in the history and revoked later: the reviewer ignored it."""
    r = d.rng
    kinds = ["dispute_resolved", "signoff_lifted"]
    if d.contract is None and d.current_seat_price is None and d.cycle == "monthly" and d.plan != "enterprise":
        kinds.append("lock_ended")
    kind = r.choice(kinds)
    am = d.am or r.choice(P.ACCOUNT_MANAGERS)
    d.am = am
    if kind == "dispute_resolved":
        inv = f"INV-{r.randint(10000, 99999)}"
        first = ("customer", r.choice(P.DISPUTE_TURNS).format(inv=inv))
        later = (r.choice(("customer", "agent")), r.choice(V.DISPUTE_RESOLVED).format(inv=inv))
    elif kind == "lock_ended":
        price = money(shipped_catalogue().prices[d.plan][0] * Decimal(r.choice((70, 80, 90))) / 100)
        until = d.today + timedelta(days=r.randint(30, 300))
        first = ("internal", r.choice(P.PRICE_LOCK_NOTES).format(am=am, price=price, until=until))
        ended = d.today - timedelta(days=r.randint(3, 60))
        later = ("internal", r.choice(V.LOCK_ENDED).format(am=am, day=ended))
    else:
        first = ("internal", r.choice(P.SIGNOFF_NOTES).format(am=am))
        later = ("internal", r.choice(V.SIGNOFF_LIFTED).format(am=am))
    d.distractor = kind
    d.distractor_turns = [first, later]
    d.history_len = max(d.history_len, 6 + int(r.lognormvariate(math.log(12), 0.8)))


def consistent_dates(d: Draft) -> None:
    """A legacy cohort is where the customer started; founders started before 2016."""
    if d.cohort.startswith("legacy-"):
        year = int(d.cohort.split("-")[1])
        earliest = date(year - 3 if year == 2019 else 2020, 1, 1)
        latest = date(year, 12, 28)
        if not (earliest <= d.customer_since <= latest):
            d.customer_since = earliest + timedelta(days=d.rng.randint(0, (latest - earliest).days))
    if d.migrated_from and d.migration_date is not None:
        d.customer_since = d.migration_date
