"""Differences between two dataset versions, by case id and canonical case JSON."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from evalkit.dataset._store import load_dataset


@dataclass(frozen=True, kw_only=True)
class DatasetDiff:
    """``b`` relative to ``a``. Changed = same case id, different canonical JSON."""

    a: str
    b: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: int
    segment_counts_a: dict[str, int]
    segment_counts_b: dict[str, int]
    attachment_changes: dict[str, str] = field(default_factory=dict)
    """Files shipped with the versions (e.g. ``catalogue.yaml``) that differ: name -> ``added``, ``removed`` or
    ``changed``. The same case JSON under another catalogue is another case (other prices, plans, policy)."""

    @property
    def segment_delta(self) -> dict[str, int]:
        """Count in ``b`` minus count in ``a`` for every segment in either (zeros included)."""
        names = sorted(set(self.segment_counts_a) | set(self.segment_counts_b))
        return {s: self.segment_counts_b.get(s, 0) - self.segment_counts_a.get(s, 0) for s in names}

    @property
    def identical(self) -> bool:
        return not (self.added or self.removed or self.changed or self.attachment_changes)

    def attachment_lines(self) -> list[str]:
        """One line per shipped file that differs, e.g. ``catalogue.yaml: changed (sha256 1a2b3c… -> 4d5e6f…)``."""
        return [f"{name}: {change}" for name, change in self.attachment_changes.items()]


def _attachment_changes(a: dict[str, str], b: dict[str, str]) -> dict[str, str]:
    changes = {}
    for name in sorted(set(a) | set(b)):
        if name not in a:
            changes[name] = "added"
        elif name not in b:
            changes[name] = "removed"
        elif a[name] != b[name]:
            changes[name] = f"changed (sha256 {a[name][:12]}… -> {b[name][:12]}…)"
    return changes


def diff(ref_a: str | Path, ref_b: str | Path, *, store: Path | str | None = None) -> DatasetDiff:
    """Compare two versions (both hash-verified on load); ids keep each version's stored order."""
    a = load_dataset(ref_a, store=store)
    b = load_dataset(ref_b, store=store)
    json_a = dict(zip(a.arrow.column("case_id").to_pylist(), a.arrow.column("case_json").to_pylist()))
    json_b = dict(zip(b.arrow.column("case_id").to_pylist(), b.arrow.column("case_json").to_pylist()))
    added = tuple(cid for cid in json_b if cid not in json_a)
    removed = tuple(cid for cid in json_a if cid not in json_b)
    changed = tuple(cid for cid in json_b if cid in json_a and json_a[cid] != json_b[cid])
    common = sum(1 for cid in json_b if cid in json_a)
    return DatasetDiff(
        a=a.ref, b=b.ref, added=added, removed=removed, changed=changed, unchanged=common - len(changed),
        segment_counts_a=dict(sorted(Counter(a.arrow.column("segment").to_pylist()).items())),
        segment_counts_b=dict(sorted(Counter(b.arrow.column("segment").to_pylist()).items())),
        attachment_changes=_attachment_changes(a.manifest.attachments, b.manifest.attachments),
    )
