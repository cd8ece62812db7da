"""Which escalation threshold each configuration is projected at, and where it came from.

Precedence: an explicit threshold (``--threshold``) > a thresholds file given by the caller
(thresholds.json-shaped) > the run's ``thresholds.json`` > the spec's ``threshold_source``.
From a thresholds document, ``choice`` picks the certified thresholds (default) or calibrate's
cost-optimal ones (``evalkit.runs.cost_optimal_policy``); the risk-target thresholds shown beside
the projection are the certified ones either way.
``thresholds.json`` thresholds are on the raw ``confidence`` column; ``null`` escalates everything.
Per-segment thresholds (``configs.<c>.segments.<s>.threshold``) are used when ``mode`` is
``per_segment`` or ``all_segments``; a segment without its own entry falls back to the config's threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from evalkit.errors import ConfigError
from evalkit.runs import Thresholds, cost_optimal_policy, threshold_policy
from evalkit.suite import ProjectionSpec


@dataclass(frozen=True, kw_only=True)
class Policy:
    source: str
    """'--threshold', 'thresholds file', 'thresholds.json', 'spec', or 'value_optimal'; a cost-optimal
    choice adds ' (cost-optimal)' to the document's name."""
    threshold: float | None
    """Global threshold; None = escalate everything (or, for value_optimal, chosen later)."""
    segments: dict[str, float | None] = field(default_factory=dict)
    risk_target_threshold: float | None = None
    """The calibrated (risk-target) threshold from thresholds.json, when there is one."""
    risk_target_segments: dict[str, float | None] = field(default_factory=dict)
    """Its per-segment thresholds, when thresholds.json is per-segment."""
    calibrated: bool = False

    def per_segment(self, names: tuple[str, ...], fallback: float | None = None) -> np.ndarray:
        """Threshold per stratum (NaN = escalate the whole segment)."""
        base = fallback if self.source == "value_optimal" else self.threshold
        out = []
        for s in names:
            t = self.segments.get(s, base)
            out.append(np.nan if t is None else float(t))
        return np.array(out, dtype=float)


def _calibrated(doc: Thresholds, config: str, source: str) -> Policy:
    # The one per-segment rule (evalkit.runs.policy_for): all_segments certifies one threshold for
    # every segment at once but escalates the segments too small to certify (null threshold).
    rule = threshold_policy(doc, config)
    return Policy(source=source, threshold=rule.threshold, segments=dict(rule.segments),
                  risk_target_threshold=rule.threshold, risk_target_segments=dict(rule.segments), calibrated=True)


Choice = Literal["certified", "cost_optimal"]


def _cost_optimal(doc: Thresholds, config: str, source: str, risk: dict[str, Any]) -> Policy:
    try:
        rule = cost_optimal_policy(doc, config)
    except ValueError:
        raise ConfigError(f"{source} has no cost-optimal thresholds for config {config!r}: calibrate records "
                          "them from the suite's economics (run `evalkit calibrate` again)") from None
    return Policy(source=f"{source} (cost-optimal)", threshold=rule.threshold, segments=dict(rule.segments),
                  calibrated=True, **risk)


def resolve_policy(config: str, *, spec: ProjectionSpec, run_thresholds: Thresholds | None,
                   file_thresholds: Thresholds | None, explicit: float | None,
                   run_source: str = "thresholds.json", choice: Choice = "certified") -> Policy:
    """The policy for one configuration (see the module docstring for precedence). ``run_source``:
    the run's file ``run_thresholds`` was read from (another threshold set: ``thresholds/NAME.json``)."""
    doc, doc_source = (file_thresholds, "thresholds file") if file_thresholds else (run_thresholds, run_source)
    has_doc = doc is not None and config in doc.configs
    risk: dict[str, Any] = {}
    # The risk-target thresholds shown beside the projection are the run's certified ones: a hand-written
    # thresholds file's values are applied (source "thresholds file") but are not risk-target thresholds.
    if run_thresholds is not None and config in run_thresholds.configs:
        certified = _calibrated(run_thresholds, config, run_source)
        risk = {"risk_target_threshold": certified.threshold, "risk_target_segments": certified.segments}
    if choice == "cost_optimal":
        if explicit is not None:
            raise ConfigError("the cost-optimal thresholds and --threshold T exclude each other: give one")
        if not has_doc:
            raise ConfigError(f"no cost-optimal threshold for config {config!r}: {doc_source} has no "
                              f"`configs.{config}` (run `evalkit calibrate` first)")
        return _cost_optimal(doc, config, doc_source, risk)
    if explicit is not None:
        return Policy(source="--threshold", threshold=float(explicit), **risk)
    if spec.threshold_source == "fixed":
        return Policy(source="spec", threshold=spec.threshold, **risk)
    if spec.threshold_source == "calibrated" or (spec.threshold_source == "auto" and has_doc):
        if not has_doc:
            raise ConfigError(
                f"no calibrated threshold for config {config!r}: {doc_source} has no `configs.{config}` "
                "(run `evalkit calibrate` first, or pass --threshold T)"
            )
        applied = _calibrated(doc, config, doc_source)
        return Policy(source=applied.source, threshold=applied.threshold, segments=applied.segments,
                      calibrated=doc is run_thresholds, **risk)
    return Policy(source="value_optimal", threshold=None, **risk)


def outcome_of(spec: ProjectionSpec, *docs: Thresholds | None) -> str:
    """What counts as an automated error: the spec's choice, else the thresholds doc's, else good."""
    if spec.outcome:
        return spec.outcome
    for doc in docs:
        if doc is not None:
            return doc.outcome
    return "good"
