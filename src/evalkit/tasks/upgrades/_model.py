"""Pydantic schemas of the upgrades domain: the case (what the reviewer saw) and the
decision (what a model or reviewer decides). On-disk formats: ``extra="forbid"``.

Plan and pricing-cohort names are not a fixed list: a case's names must be in the
catalogue that applies, passed as validation context ``{"catalogue": Catalogue}`` (the
task's ``validation_context``); without one, the shipped catalogue's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from evalkit.tasks.upgrades._catalogue import Catalogue, shipped_catalogue


def _catalogue(info: ValidationInfo) -> Catalogue:
    found = info.context.get("catalogue") if isinstance(info.context, dict) else None
    return found if isinstance(found, Catalogue) else shipped_catalogue()


def _known_plan(value: str, info: ValidationInfo) -> str:
    cat = _catalogue(info)
    if value not in cat.plans:
        raise ValueError(f"plan {value!r} is not in the catalogue {cat.source} (its plans: {', '.join(cat.plans)})")
    return value


def _known_cohort(value: str, info: ValidationInfo) -> str:
    cat = _catalogue(info)
    if value not in cat.cohort_names:
        raise ValueError(f"pricing cohort {value!r} is not in the catalogue {cat.source} "
                         f"(its cohorts: {', '.join(cat.cohort_names)})")
    return value


Plan = Annotated[str, AfterValidator(_known_plan)]
"""A plan of the catalogue that applies."""
Cohort = Annotated[str, AfterValidator(_known_cohort)]
Cycle = Literal["monthly", "annual"]
Action = Literal["approve", "deny", "escalate", "counter_offer"]
EscalationTarget = Literal["billing", "account_manager", "sales"]
Segment = Literal[
    "routine", "promotion", "legacy_pricing", "custom_contract",
    "undocumented_exception", "operational_context", "adversarial", "long_context",
]
SEGMENTS: tuple[str, ...] = Segment.__args__  # type: ignore[attr-defined]


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("a price or amount must not be negative (an accounting-style '(12.00)' in an export "
                         "is a negative amount)")
    return value


def _not_yes_no(value: Any) -> Any:
    if isinstance(value, bool):  # pydantic's lax mode reads true as 1: a checkbox is not a count
        # ValueError, not TypeError: pydantic reports a ValueError as the field's problem (a TypeError escapes)
        raise ValueError("expected a whole number, not true/false")  # noqa: TRY004
    return value


Amount = Annotated[Decimal, Field(max_digits=12, decimal_places=2)]
"""A decision's amount of money (what a model answers; a negative one is scored wrong, not refused)."""
Money = Annotated[Amount, AfterValidator(_not_negative)]
"""A case's price or amount: never negative (the JSON Schema is Amount's)."""
Count = Annotated[int, BeforeValidator(_not_yes_no)]
"""A whole number in a case (seats, percentages, indexes): true/false is refused, not read as 1/0."""

MAX_SEATS = 1_000_000
"""The most seats (or turns) a case may name: a larger count is a typo or a unit mix-up, and would not fit
the run's 64-bit score columns either."""


def _realistic(value: int) -> int:
    if value > MAX_SEATS:
        raise ValueError(f"{value} is more than {MAX_SEATS:,} (not a realistic count: check the export's column)")
    return value


Seats = Annotated[Count, AfterValidator(_realistic)]
"""A seat count (or another count bounded the same way, a turn index): at most MAX_SEATS."""

_FORBID = ConfigDict(extra="forbid")


class Promotion(BaseModel):
    model_config = _FORBID
    code: str
    percent_off: Count = Field(ge=1, le=90)
    eligible_plans: list[Plan]
    starts: date
    ends: date


class Contract(BaseModel):
    model_config = _FORBID
    contract_id: str
    plan: Plan
    negotiated_seat_price: Money = Field(description="Per seat per month.")
    price_lock_until: date | None = None
    min_seats: Seats | None = Field(None, ge=1)
    changes_need_am_approval: bool = False


class AccountFlags(BaseModel):
    model_config = _FORBID
    open_billing_dispute: bool = False
    failed_payment: bool = False
    renewal_negotiation: bool = False


class Account(BaseModel):
    model_config = _FORBID
    account_id: str
    company: str
    plan: Plan
    seats: Seats = Field(ge=1)
    billing_cycle: Cycle
    recurring_price: Money = Field(description="What the account pays now, per billing cycle.")
    period_start: date
    period_end: date = Field(description="Next renewal date.")
    pricing_cohort: Cohort = "current"
    promotion: Promotion | None = None
    contract: Contract | None = None
    flags: AccountFlags = Field(default_factory=AccountFlags)
    account_manager: str | None = None
    customer_since: date
    migrated_from: str | None = None
    migration_date: date | None = None
    nonprofit_verified: bool = False

    @field_validator("period_end")
    @classmethod
    def _period_order(cls, v: date, info):  # type: ignore[no-untyped-def]
        start = info.data.get("period_start")
        if start is not None and v <= start:
            raise ValueError("period_end must be after period_start")
        return v


class Turn(BaseModel):
    model_config = _FORBID
    at: datetime
    """UTC, without a zone: a time given with an offset is converted (a mapped import converts the same way)."""
    author: Literal["customer", "agent", "internal"]
    text: str

    @field_validator("at")
    @classmethod
    def _in_utc(cls, v: datetime) -> datetime:
        # One convention for every import path: zoned times compared or sorted with naive ones raise, and
        # '09:00+02:00' kept its zone natively while a mapped import stored it as 07:00 UTC.
        return v if v.tzinfo is None else v.astimezone(UTC).replace(tzinfo=None)


class UpgradeRequest(BaseModel):
    model_config = _FORBID
    received: date
    target_plan: Plan
    target_seats: Seats = Field(ge=1)
    target_cycle: Cycle
    message: str
    structured: bool = Field(True, description="False: the request was only in the customer's words (the desk "
                                               "tool recorded no structured change).")


class HistoryFacts(BaseModel):
    """Facts a reviewer found only in the conversation history (with where they were)."""

    model_config = _FORBID
    price_lock_price: Money | None = None
    price_lock_until: date | None = None
    dispute_mentioned: bool = False
    am_signoff_required: bool = False
    deciding_turn: Seats | None = Field(None, ge=0, description="0-based index of the turn holding the deciding fact.")


class ExpectedDecision(BaseModel):
    """The decision fields a reviewer checks (no message or confidence)."""

    model_config = _FORBID
    action: Action
    target_plan: Plan | None = None
    seats: Seats | None = Field(None, ge=1)
    billing_cycle: Cycle | None = None
    new_recurring_price: Money | None = None
    prorated_charge_today: Money | None = None
    effective_date: date | None = None
    escalate_to: EscalationTarget | None = None


class Disclosure(BaseModel):
    model_config = _FORBID
    name: str
    kind: Literal["money", "date"]
    value: str


class Rubric(BaseModel):
    """Deterministic checks of the handling, declared per case."""

    model_config = _FORBID
    required_disclosures: list[Disclosure] = Field(default_factory=list)
    forbidden_phrases: dict[str, list[str]] = Field(
        default_factory=dict, description="reason -> phrases that must not appear in the customer message")
    escalate_to: EscalationTarget | None = None
    acceptable_escalation: EscalationTarget | None = Field(
        None, description="The deciding fact is not knowable from what the case shows (an undocumented exception "
                          "only hinted at): escalating to this team is scored correct and good.")


class Case(BaseModel):
    """One historical upgrade case, with the reviewed decision."""

    model_config = _FORBID
    case_id: str
    segment: str = Field(min_length=1, description=(
        "A free label (an imported team's own queues or categories). The generator uses the eight families "
        "in SEGMENTS; nothing validates against that list."))
    variant: str
    tags: list[str] = Field(default_factory=list, description="family:*, distractor:*, hint:*, request:text_only, "
                                                               "rambling, typos")
    account: Account
    request: UpgradeRequest
    history: list[Turn] = Field(default_factory=list)
    history_facts: HistoryFacts = Field(default_factory=HistoryFacts)
    reviewed: ExpectedDecision
    alternatives: list[ExpectedDecision] = Field(default_factory=list)
    pitfalls: dict[str, ExpectedDecision] = Field(
        default_factory=dict, description="reason -> the decision a known mistake produces")
    rubric: Rubric = Field(default_factory=Rubric)
    historical_reply: str | None = Field(
        None, description="What the support agent actually replied at the time (for judge validation).")
    human_good: bool | None = Field(
        None, description="A senior reviewer's good/not-good label of historical_reply: the ground truth an "
                          "LLM judge is checked against.")


class Decision(BaseModel):
    """What a model must return."""

    model_config = _FORBID
    action: Action
    target_plan: str | None = None  # a plan of the catalogue (decision_schema lists them)
    seats: int | None = Field(None, ge=0)
    billing_cycle: Cycle | None = None
    new_recurring_price: Amount | None = None
    prorated_charge_today: Amount | None = None
    effective_date: date | None = None
    escalate_to: EscalationTarget | None = None
    message: str = Field(description="The message to the customer.")
    confidence: float = Field(ge=0.0, le=1.0, description="Probability that this decision is right.")

    @field_validator("seats")
    @classmethod
    def _realistic_seats(cls, value: int | None) -> int | None:
        """An answer naming more than MAX_SEATS seats is invalid, not a crash downstream (a validator,
        so the JSON Schema the prompts show is unchanged)."""
        return None if value is None else _realistic(value)


def decision_schema(plans: tuple[str, ...] | None = None) -> dict[str, Any]:
    """JSON Schema of ``Decision`` with ``target_plan`` limited to ``plans`` (the catalogue's)."""
    schema = Decision.model_json_schema()
    prop = schema["properties"]["target_plan"]
    prop.pop("description", None)
    prop["anyOf"][0] = {"enum": list(plans or shipped_catalogue().plans), "type": "string"}
    return schema
