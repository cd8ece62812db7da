"""A team's plan catalogue and written policy as data: one YAML file (the file format's owner).

The file lists the plans (cheapest first: the order ranks them, so a move down the list
is a downgrade) with their seat prices per billing cycle, or ``sales_only`` for a plan
priced through sales; the pricing cohorts and their discounts; and the policy clauses
(id, title, text) that prompts render. The shipped file, ``catalogue.yaml`` beside this
module, is the demo company's: the generator's world, used unless a dataset or a suite names
another (see docs/catalogue.md for which one wins).

Plan and cohort names in cases are checked against the catalogue that applies (see
``_model.py``): a case naming a plan the catalogue lacks is a row error, not a crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator

from evalkit._yaml import node_lines
from evalkit.errors import ConfigError

SHIPPED_FILE = "catalogue.yaml"
NAME = r"^[a-z0-9][a-z0-9_-]*$"
CENT = Decimal("0.01")
_FORBID = ConfigDict(extra="forbid")
Kind = Literal["written", "practice", "guidance"]


class SeatPrice(BaseModel):
    """List price per seat, per billing cycle."""

    model_config = _FORBID
    monthly: Decimal = Field(gt=0, decimal_places=2, description="Per seat per month.")
    annual: Decimal = Field(gt=0, decimal_places=2, description="Per seat per year.")


class PlanSpec(BaseModel):
    model_config = _FORBID
    name: str = Field(pattern=NAME, description="The plan's name as cases and prompts spell it (lower case).")
    seat_price: SeatPrice | None = Field(None, description="List prices of a self-serve plan.")
    sales_only: bool = Field(False, description="Priced through sales: requests for it are escalated to sales.")

    @model_validator(mode="after")
    def _priced_or_sales(self) -> PlanSpec:
        if (self.seat_price is None) != self.sales_only:
            raise ValueError("give a plan either seat_price (self-serve) or sales_only: true, not both or neither")
        return self


class ClauseSpec(BaseModel):
    model_config = _FORBID
    id: str = Field(min_length=1, description="Stable id templates select clauses by, e.g. 'UPG-5'.")
    kind: Kind = Field("written", description="written policy, unwritten practice, or operational guidance.")
    title: str = Field(min_length=1)
    text: str = Field(min_length=1)
    segment: str | None = Field(None, description="The case segment that depends on this clause most (docs).")


class MigrationTerms(BaseModel):
    model_config = _FORBID
    source: str = Field(min_length=1, description="The product accounts migrated from, as cases name it.")
    percent_off: int = Field(gt=0, lt=100, description="Percent off list on every plan.")
    months: int = Field(ge=1, description="For this many months after the migration date.")


class NonprofitTerms(BaseModel):
    model_config = _FORBID
    percent_off: int = Field(gt=0, lt=100, description="Percent off list for verified nonprofits.")
    plans: list[str] = Field(min_length=1, description="The plans the discount applies to.")


class Terms(BaseModel):
    """The numbers inside the rules the engine implements; without one, its rule never applies."""

    model_config = _FORBID
    sales_seat_limit: int | None = Field(None, ge=1, description="UPG-8: requests for more seats go to sales.")
    migration: MigrationTerms | None = Field(None, description="PRX-1: migrated accounts keep a discount.")
    nonprofit: NonprofitTerms | None = Field(None, description="PRX-2: verified nonprofits' discount.")
    founder_before_year: int | None = Field(None, description="PRX-3: customers since before this year pay no "
                                                              "proration when they add seats.")


class CatalogueFile(BaseModel):
    """The catalogue YAML file (``docs/catalogue.schema.json``)."""

    model_config = _FORBID
    format_version: Literal[1] = Field(description="Catalogue file format version.")
    name: str = Field("", description="Whose catalogue this is (shown in errors and docs).")
    plans: list[PlanSpec] = Field(min_length=1, description="Cheapest first: the order ranks the plans.")
    cohorts: dict[str, int] = Field(default_factory=dict, description=(
        "Pricing cohort -> percent off list (e.g. legacy-2019: 20). Accounts in no cohort are 'current'."))
    clauses: list[ClauseSpec] = Field(min_length=1, description="The policy as numbered clauses.")
    terms: Terms = Field(default_factory=Terms, description="The numbers inside the engine's rules.")

    @model_validator(mode="after")
    def _cross_field(self, info: ValidationInfo) -> CatalogueFile:
        """Checks across entries. ``parse_catalogue`` collects them itself (context ``cross_field``: a list), to
        name each problem's entry and line; validated directly, they are one error listing each entry's path."""
        problems = cross_field_problems(self)
        collect = info.context.get("cross_field") if isinstance(info.context, dict) else None
        if isinstance(collect, list):
            collect.extend(problems)
        elif problems:
            raise ValueError("; ".join(f"{_path(loc)}: {msg}" for loc, msg in problems))
        return self


Loc = tuple[str | int, ...]


def cross_field_problems(spec: CatalogueFile) -> list[tuple[Loc, str]]:
    """(where in the file, what is wrong) for every rule that spans entries: plan names and clause ids are
    unique, cohort names and percentages are valid, the nonprofit terms name plans of the file."""
    out: list[tuple[Loc, str]] = []
    for what, section, key, names in (("plan", "plans", "name", [p.name for p in spec.plans]),
                                      ("clause id", "clauses", "id", [c.id for c in spec.clauses])):
        first: dict[str, int] = {}
        for index, name in enumerate(names):
            if name in first:
                why = f"{what} {name!r} is repeated (first at {section}.{first[name]}); each {what} may appear only once"
                out.append(((section, index, key), why))
            first.setdefault(name, index)
    for cohort, pct in spec.cohorts.items():
        if not re.match(NAME, cohort) or cohort == "current":
            why = f"{cohort!r} is not a cohort name (lower case letters, digits, '-' and '_'; not 'current')"
            out.append((("cohorts", cohort), why))
        if not 0 < pct < 100:
            out.append((("cohorts", cohort), f"percent off must be between 1 and 99 (got {pct})"))
    plans = [p.name for p in spec.plans]
    for index, plan in enumerate(spec.terms.nonprofit.plans if spec.terms.nonprofit else ()):
        if plan not in plans:
            out.append((("terms", "nonprofit", "plans", index), f"{plan!r} is not among the plans ({', '.join(plans)})"))
    return out


def _path(loc: Loc) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


@dataclass(frozen=True, kw_only=True)
class Clause:
    id: str
    kind: str  # written | practice | guidance
    title: str
    text: str
    segment: str | None = None

    def render(self) -> str:
        return f"[{self.id}] {self.title}: {self.text}"


@dataclass(frozen=True, kw_only=True, eq=False)
class Catalogue:
    """A validated catalogue in memory (compared and hashed by identity). ``source`` names the file in errors."""

    source: str
    plans: tuple[str, ...]
    """Every plan, cheapest first."""
    prices: dict[str, tuple[Decimal, Decimal]]
    """Self-serve plan -> (monthly, annual) list price per seat."""
    sales_plans: frozenset[str]
    cohorts: dict[str, int]
    clauses: tuple[Clause, ...]
    terms: Terms
    """The numbers inside the engine's rules (sales seat limit, migration, nonprofit, founders)."""
    plan_re: re.Pattern[str] = field(compare=False, repr=False)
    """Any plan name as a whole word (case-insensitive)."""

    @property
    def ranks(self) -> dict[str, int]:
        return {p: i + 1 for i, p in enumerate(self.plans)}

    @property
    def cohort_names(self) -> tuple[str, ...]:
        return ("current", *self.cohorts)

    def clause(self, clause_id: str) -> Clause:
        found = next((c for c in self.clauses if c.id == clause_id), None)
        if found is None:
            raise ConfigError(f"clause {clause_id!r} is not in the catalogue {self.source} "
                              f"(its clauses: {', '.join(c.id for c in self.clauses)})")
        return found

    def of_kind(self, kind: str) -> list[Clause]:
        return [c for c in self.clauses if c.kind == kind]

    def lines(self) -> list[str]:
        """The catalogue as a prompt shows it (one 'Plan <name>:' line per plan, cheapest first)."""
        out = []
        for plan in self.plans:
            if plan in self.prices:
                monthly, annual = self.prices[plan]
                out.append(f"Plan {plan}: ${monthly} per seat per month, ${annual} per seat per year")
            else:
                out.append(f"Plan {plan}: custom pricing through sales")
        return out


def plan_pattern(plans: tuple[str, ...]) -> re.Pattern[str]:
    longest_first = sorted(plans, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(p) for p in longest_first) + r")\b", re.IGNORECASE)


def from_file(spec: CatalogueFile, *, source: str) -> Catalogue:
    plans = tuple(p.name for p in spec.plans)
    prices = {p.name: (p.seat_price.monthly.quantize(CENT), p.seat_price.annual.quantize(CENT))
              for p in spec.plans if p.seat_price is not None}
    clauses = tuple(Clause(id=c.id, kind=c.kind, title=c.title, text=c.text, segment=c.segment)
                    for c in spec.clauses)
    return Catalogue(source=source, plans=plans, prices=prices,
                     sales_plans=frozenset(p.name for p in spec.plans if p.sales_only),
                     cohorts=dict(spec.cohorts), clauses=clauses, terms=spec.terms, plan_re=plan_pattern(plans))


def _problem(where: str, lines: dict[Loc, int], loc: Loc, msg: str) -> str:
    """``FILE:LINE: field PATH: what is wrong``, the line of the deepest part of ``loc`` the file has."""
    line = next((lines[loc[:end]] for end in range(len(loc), 0, -1) if loc[:end] in lines), None)
    return f"{where}{'' if line is None else f':{line}'}: field {_path(loc)}: {msg}"


def _problems(exc: ValidationError, where: str, lines: dict[Loc, int]) -> list[str]:
    return [_problem(where, lines, tuple(err["loc"]), err["msg"]) for err in exc.errors(include_url=False)]


def parse_catalogue(data: bytes | str, *, where: str) -> Catalogue:
    """A catalogue from YAML text; ConfigError naming ``where`` and every bad field (with its line)."""
    import yaml

    from evalkit import _yaml

    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        raw = _yaml.load(text, source=where)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: not UTF-8 text (byte {exc.start}); save the catalogue as UTF-8") from None
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml.describe(exc, where)) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: a catalogue is a YAML mapping (format_version, plans, cohorts, clauses)")
    cross: list[tuple[Loc, str]] = []
    try:
        spec = CatalogueFile.model_validate(raw, context={"cross_field": cross})
    except ValidationError as exc:
        problems = _problems(exc, where, node_lines(text))
        raise ConfigError(f"{where}: invalid catalogue:\n  " + "\n  ".join(problems)) from None
    if cross:
        lines = node_lines(text)
        problems = [_problem(where, lines, loc, msg) for loc, msg in cross]
        raise ConfigError(f"{where}: invalid catalogue:\n  " + "\n  ".join(problems))
    return from_file(spec, source=where)


@lru_cache(maxsize=1)  # the shipped file never changes while a process runs
def shipped_catalogue() -> Catalogue:
    """The shipped catalogue and policy (``catalogue.yaml`` in this package)."""
    data = resources.files("evalkit.tasks.upgrades").joinpath(SHIPPED_FILE).read_bytes()
    return parse_catalogue(data, where=f"evalkit/tasks/upgrades/{SHIPPED_FILE}")


def catalogue_json_schema() -> dict[str, Any]:
    """JSON Schema of the catalogue file (docs/catalogue.schema.json, for editors)."""
    schema = CatalogueFile.model_json_schema()
    schema["$id"] = "evalkit/catalogue.schema.json"
    return schema
