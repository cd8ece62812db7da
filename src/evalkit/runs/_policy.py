"""The one rule for reading thresholds.json: which threshold applies to a config's segment.

Used by calibrate (console), project, gate and report so they never disagree:

* ``per_segment`` and ``all_segments`` modes: a segment with its own entry uses that entry's
  threshold (``null`` = the segment is escalated: it could not be certified); a segment without
  an entry falls back to the configuration's threshold. ``all_segments`` certifies one threshold
  for every segment at once but still escalates the segments too small to certify.
* ``global`` mode: the configuration's threshold for every segment.
* A document without a mode (older or hand-made files) is segmented when it has segment entries.

Thresholds are on the raw ``confidence`` column; the automation rule is ``evalkit.stats.automated``.

Two choices per configuration: the *certified* one above (the lowest threshold the risk target
certifies: the most automation the guarantee allows) and calibrate's *cost-optimal* one
(``cost_optimal_policy``: among the certified thresholds, the one with the lowest held-out cost per
case, or "escalate everything" when automating does not pay).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evalkit.runs._thresholds import ConfigThresholds, Thresholds


@dataclass(frozen=True, kw_only=True)
class ThresholdPolicy:
    config: str
    threshold: float | None
    """The configuration's threshold (None = no single threshold: see ``segments``, or escalate all)."""
    segments: dict[str, float | None] = field(default_factory=dict)
    """Per-segment thresholds that override ``threshold`` (None = that segment escalates)."""
    segmented: bool = False
    """True when thresholds are per segment and at least one segment is certified."""
    certified: bool = False

    def for_segment(self, segment: str | None) -> float | None:
        if segment is None:
            return self.threshold
        return self.segments.get(segment, self.threshold)


def _is_segmented(doc: Thresholds, entry: ConfigThresholds) -> bool:
    return doc.mode in ("per_segment", "all_segments") or (doc.mode is None and bool(entry.segments))


def policy_for(thresholds: Thresholds, config: str, segment: str | None = None) -> float | None:
    """The threshold ``config`` automates ``segment`` at (None = escalate); segment None = the config's own."""
    return threshold_policy(thresholds, config).for_segment(segment)


def threshold_policy(thresholds: Thresholds, config: str) -> ThresholdPolicy:
    """Every segment's threshold for ``config`` (KeyError when thresholds.json has no such config)."""
    entry = thresholds.configs[config]
    segs = {name: s.threshold for name, s in entry.segments.items()} if _is_segmented(thresholds, entry) else {}
    segmented = thresholds.mode == "per_segment" and any(bool(s.certified) for s in entry.segments.values())
    return ThresholdPolicy(config=config, threshold=entry.threshold, segments=segs, segmented=segmented,
                           certified=entry.certified or segmented)


def cost_optimal_policy(thresholds: Thresholds, config: str) -> ThresholdPolicy:
    """``config``'s cost-optimal thresholds (calibrate's ``cost_optimal`` block), segment by segment.

    A per-segment block gives each segment its own choice; a segment it does not list was never a
    candidate (not certified), so it escalates. A pooled block gives one threshold, and the segments
    the certified policy escalates (too small to certify) still escalate. KeyError when thresholds.json
    has no such config; ValueError when calibrate recorded no cost-optimal choice for it."""
    entry = thresholds.configs[config]
    block = entry.cost_optimal
    if not block:
        raise ValueError(f"thresholds.json has no cost-optimal choice for config {config!r}")
    if isinstance(block.get("segments"), dict):
        segs = {name: part.get("threshold") for name, part in block["segments"].items()}
        return ThresholdPolicy(config=config, threshold=None, segments=segs, segmented=True,
                               certified=any(t is not None for t in segs.values()))
    certified = threshold_policy(thresholds, config)
    escalated = {name: None for name, t in certified.segments.items() if t is None}
    threshold = block.get("threshold")
    return ThresholdPolicy(config=config, threshold=threshold, segments=escalated,
                           certified=certified.certified and threshold is not None)
