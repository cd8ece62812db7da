"""A small toy Task so the dataset store is tested without the upgrades domain.

The case model has a nested model, a Decimal and a date, so canonical-JSON
round-trips are exercised; ``get_task('toy')`` is substituted for the tests.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from pydantic import BaseModel, ConfigDict, Field

SEGMENTS = ("routine", "promotion", "adversarial")


class Account(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: str
    seats: int = Field(ge=1)
    price: Decimal
    renews_on: date


class ToyCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: str
    segment: str
    variant: str
    account: Account
    history: list[str] = []
    tags: dict[str, str] = {}
    note: str | None = None


class ToyDecision(BaseModel):
    action: str


class ToyTask:
    name = "toy"
    case_model = ToyCase
    decision_model = ToyDecision
    segments = SEGMENTS

    def generate(self, n: int, seed: int) -> Iterator[ToyCase]:
        rng = random.Random(seed)
        for i in range(n):
            segment = SEGMENTS[i % len(SEGMENTS)]
            yield ToyCase(
                case_id=f"c{i:05d}", segment=segment, variant=f"{segment}-{rng.randint(1, 2)}",
                account=Account(plan=rng.choice(["team", "business"]), seats=rng.randint(1, 50),
                                price=Decimal(rng.randint(100, 99999)) / 100,
                                renews_on=date(2025, 1, 1) + timedelta(days=rng.randint(0, 365))),
                history=[f"turn {t}" for t in range(rng.randint(0, 3))],
                tags={"source": "toy"} if rng.random() < 0.5 else {},
                note=None if i % 4 else "[1, 2] looks like JSON but is a note",
            )


@pytest.fixture
def toy() -> ToyTask:
    return ToyTask()


@pytest.fixture(autouse=True)
def toy_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``get_task('toy')`` (the lookup the library and CLI use) return the toy task."""
    import evalkit.tasks

    real = evalkit.tasks.get_task

    def get_task(name: str):
        return ToyTask() if name == "toy" else real(name)

    monkeypatch.setattr(evalkit.tasks, "get_task", get_task)


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A hermetic store; EVALKIT_DATASETS points at it too, so defaults never touch ./datasets."""
    root = tmp_path / "store"
    monkeypatch.setenv("EVALKIT_DATASETS", str(root))
    return root
