"""The batch ledger (``batches.jsonl``) and the whole run's batch report rebuilt from it.

One JSON line per event, appended, flushed and fsynced: ``submitting`` (chunk id, configuration,
the calls' custom ids), ``submitted`` (the provider's batch id), ``submit_failed`` (the chunk's
calls went directly), ``resumed`` (a later session polled the batch), ``collected`` (the batch
ended: answers, failed and expired lines, calls left for the direct path), ``abandoned`` (polls
kept failing: its calls went directly) and ``cancelled`` / ``cancel_failed``.

The manifest's ``execution`` block is rebuilt from the ledger and the run's final records at the
end of every session, so a resumed run reports what the whole run did, not its last session.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit._secrets import redact_text
from evalkit.run._records import CallRecord

LEDGER_NAME = "batches.jsonl"


def custom_id_of(config: str, case_id: str, sample_index: int) -> str:
    """Stable, provider-safe id of a call inside a batch; ``-s<N>`` carries the sample index."""
    digest = hashlib.sha256(f"{config}\x00{case_id}\x00{sample_index}".encode()).hexdigest()[:40]
    return f"{digest}-s{sample_index}"


class Ledger:
    """The batch ledger: one JSON line per event, flushed and fsynced at once."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a torn last line from kill -9
            if isinstance(event, dict):
                out.append(event)
        return out

    def append(self, event: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        needs_newline = False
        if self.path.exists() and self.path.stat().st_size > 0:
            with open(self.path, "rb") as tail:
                tail.seek(-1, os.SEEK_END)
                needs_newline = tail.read(1) != b"\n"  # a torn line from kill -9 stays isolated
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(("\n" if needs_newline else "") + redact_text(json.dumps(event, sort_keys=True)) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


@dataclass(kw_only=True)
class BatchReport:
    """What batch mode did over the whole run (every session), for the manifest."""

    batches_created: int = 0
    batches_resumed: int = 0
    """Batches a later session polled after the one that created them was stopped."""
    batch_answers: int = 0
    """Calls answered through a batch, at the batch price."""
    failed_lines: int = 0
    expired_lines: int = 0
    fallback_calls: int = 0
    """Calls meant for a batch that were sent directly at the standard price instead: failed, expired or
    missing lines, batches that could not be created (``submit_failed_calls``) or were abandoned."""
    direct_calls: int = 0
    """Calls never meant for a batch (provider without a batch API, cached answers, --replay)."""
    submit_failed_calls: int = 0
    """Calls whose batch could not be created (after retries): sent directly instead."""
    abandoned_batches: int = 0
    """Batches whose polls kept failing (``max_poll_errors`` in a row): cancelled, their calls sent directly."""
    abandoned_calls: int = 0
    cancelled_batches: int = 0
    batch_ids: list[str] = field(default_factory=list)

    @property
    def standard_price_calls(self) -> int:
        """Calls billed at the standard price: never batched, or fell back."""
        return self.direct_calls + self.fallback_calls

    def to_json(self) -> dict[str, Any]:
        return {"mode": "batch", "batches_created": self.batches_created, "batches_resumed": self.batches_resumed,
                "batch_answers": self.batch_answers, "failed_lines": self.failed_lines,
                "expired_lines": self.expired_lines, "fallback_calls": self.fallback_calls,
                "direct_calls": self.direct_calls, "submit_failed_calls": self.submit_failed_calls,
                "abandoned_batches": self.abandoned_batches, "abandoned_calls": self.abandoned_calls,
                "cancelled_batches": self.cancelled_batches, "standard_price_calls": self.standard_price_calls,
                "fallback_note": self.fallback_summary(), "batch_ids": self.batch_ids}

    def fallback_summary(self) -> str | None:
        """One sentence on the calls that fell back to the standard price, or None when none did."""
        if not self.fallback_calls:
            return None
        why = [f"{n} {what}" for n, what in ((self.failed_lines, "failed lines"),
                                             (self.expired_lines, "expired lines"),
                                             (self.submit_failed_calls, "in batches that could not be created"),
                                             (self.abandoned_calls, "in abandoned batches")) if n]
        return (f"{self.fallback_calls} of {self.batch_answers + self.fallback_calls} batched calls fell back to direct "
                f"calls at the standard price (about twice the batch price){': ' + ', '.join(why) if why else ''}")


def report_from_ledger(events: Iterable[dict[str, Any]], records: Iterable[CallRecord]) -> BatchReport:
    """The whole run's batch report: what every session recorded in the ledger, and how each of the run's
    calls ended (``records``: one per planned call)."""
    report = BatchReport()
    intents: dict[str, list[str]] = {}
    submitted: set[str] = set()
    seen_ids: set[str] = set()
    resumed: set[str] = set()
    failed_chunks: set[str] = set()
    for e in events:
        kind = e.get("event")
        if kind == "submitting":
            intents[str(e.get("chunk"))] = [str(i) for i in e.get("ids") or []]
        elif kind == "submitted":
            submitted.add(str(e.get("chunk")))
            batch_id = str(e.get("batch_id"))
            if batch_id not in seen_ids:
                seen_ids.add(batch_id)
                report.batch_ids.append(batch_id)
        elif kind == "submit_failed":
            failed_chunks.add(str(e.get("chunk")))
        elif kind == "resumed":
            resumed.add(str(e.get("batch_id")))
        elif kind == "collected":
            report.failed_lines += int(e.get("failed_lines") or 0)
            report.expired_lines += int(e.get("expired_lines") or 0)
        elif kind == "abandoned":
            report.abandoned_batches += 1
            report.abandoned_calls += int(e.get("calls") or 0)
        elif kind == "cancelled":
            report.cancelled_batches += 1
    report.batches_created = len(report.batch_ids)
    report.batches_resumed = len(resumed)
    not_created = {i for c in failed_chunks - submitted for i in intents.get(c, [])}
    meant = {i for ids in intents.values() for i in ids}
    for rec in records:
        cid = custom_id_of(rec.config, rec.case_id, rec.sample_index)
        if rec.execution == "batch":
            report.batch_answers += 1
        elif cid in meant:
            report.fallback_calls += 1
            report.submit_failed_calls += cid in not_created
        else:
            report.direct_calls += 1
    return report


def pending_batches(run_dir: Path) -> int | None:
    """Batches the run created (or may have created) at the provider whose answers it has not collected: the
    provider runs them and bills them even though the run stopped. None when the ledger cannot be read."""
    path = Path(run_dir) / LEDGER_NAME
    if not path.is_file():
        return 0
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    events = []
    for number, line in enumerate(lines, start=1):
        try:
            event = json.loads(line)
        except ValueError:
            if number == len(lines):
                continue  # a torn last line: the write a kill cut short
            return None
        if isinstance(event, dict):
            events.append(event)
    ended = {e.get("batch_id") for e in events if e.get("event") in ("collected", "abandoned", "cancelled")}
    failed = {e.get("chunk") for e in events if e.get("event") == "submit_failed"}
    created = {e.get("chunk"): e.get("batch_id") for e in events if e.get("event") == "submitted"}
    intents = {e.get("chunk") for e in events if e.get("event") == "submitting"} | set(created)
    return sum(1 for chunk in intents
               if chunk not in failed and (created.get(chunk) is None or created[chunk] not in ended))
