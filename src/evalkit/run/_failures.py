"""Failed calls as first-class results: the error-share stop rule and the digest of
failures (counts by error class x configuration, first messages) that the console,
``summary.json``, the manifest and the report show."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from evalkit.run._records import CallRecord

FIRST_K = 5
"""Stop when each of the first FIRST_K finished calls failed (a broken key or model name
should not be paid for, or waited on, across a whole run)."""
MIN_CALLS = 20
"""The plain share rule (failed / finished > limit) applies from this many finished calls."""


def should_stop(*, failed: int, finished: int, planned: int, max_share: float, min_calls: int = MIN_CALLS) -> bool:
    """The error-share rule, for runs of any size: stop when

    - the failed share over *all planned* calls can no longer end at or below the limit;
    - every one of the first ``FIRST_K`` (or all, if fewer are planned) calls failed;
    - at least ``min_calls`` calls finished and more than ``max_share`` of them failed.
    """
    if failed == 0 or max_share >= 1.0:
        return False
    if failed > max_share * planned:
        return True
    if failed == finished and finished >= min(FIRST_K, planned):
        return True
    return finished >= min_calls and failed / finished > max_share


def scrub(text: str) -> str:
    """Key-shaped strings and configured key values out of a provider's message."""
    from evalkit._secrets import redact_text

    return redact_text(text)


@dataclass(frozen=True, kw_only=True)
class FailureGroup:
    error_class: str
    config: str
    count: int
    first_message: str
    first_case: str

    def as_json(self) -> dict[str, object]:
        return {"error_class": self.error_class, "config": self.config, "count": self.count,
                "first_message": self.first_message, "first_case": self.first_case}


def failure_groups(records: Iterable[CallRecord]) -> list[FailureGroup]:
    """Failed calls grouped by (error class, configuration), largest group first."""
    groups: dict[tuple[str, str], list[CallRecord]] = {}
    for rec in records:
        if rec.status == "failed":
            groups.setdefault((rec.error_class or "unknown", rec.config), []).append(rec)
    out = [FailureGroup(error_class=cls, config=cfg, count=len(recs), first_message=scrub(recs[0].error_message or ""),
                        first_case=recs[0].case_id) for (cls, cfg), recs in groups.items()]
    return sorted(out, key=lambda g: (-g.count, g.error_class, g.config))


def describe(groups: list[FailureGroup], *, limit: int = 3) -> str:
    """One line naming the error classes: 'auth_error x10 in cfg (first: ...)'."""
    parts = [f"{g.error_class} x{g.count} in {g.config} (first: {g.first_message[:160]})" for g in groups[:limit]]
    if len(groups) > limit:
        parts.append(f"and {len(groups) - limit} more group(s)")
    return "; ".join(parts)
