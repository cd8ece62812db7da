"""Schemas of the refunds domain: the case a reviewer saw and the decision a model returns."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Action = Literal["refund_full", "refund_partial", "deny", "escalate"]
Team = Literal["fraud", "manager"]
Reason = Literal["damaged", "not_as_described", "changed_mind", "late_delivery", "duplicate_charge"]
Money = Annotated[Decimal, Field(max_digits=10, decimal_places=2)]
SEGMENTS = ("in_window", "late", "digital", "duplicate", "high_value", "repeat_refunder")
_FORBID = ConfigDict(extra="forbid")


class Order(BaseModel):
    model_config = _FORBID
    order_id: str
    product: str
    category: Literal["physical", "digital"]
    amount: Money
    purchased: date
    delivered: date | None = None
    downloaded: bool = False


class Customer(BaseModel):
    model_config = _FORBID
    customer_id: str
    name: str
    refunds_last_90_days: int = Field(ge=0)


class Request(BaseModel):
    model_config = _FORBID
    received: date
    reason: Reason
    message: str


class Outcome(BaseModel):
    """The fields a reviewer checks."""

    model_config = _FORBID
    action: Action
    refund_amount: Money | None = None
    escalate_to: Team | None = None


class RefundCase(BaseModel):
    model_config = _FORBID
    case_id: str
    segment: str
    variant: str
    order: Order
    customer: Customer
    request: Request
    reviewed: Outcome


class RefundDecision(BaseModel):
    """What a model must return."""

    model_config = _FORBID
    action: Action
    refund_amount: Money | None = None
    escalate_to: Team | None = None
    message: str = Field(description="The reply to the customer.")
    confidence: float = Field(ge=0.0, le=1.0, description="Probability that this decision is right.")
