"""Run progress (calls done, rate, errors, spend so far): a live rich bar on a terminal; in a
piped or CI log, a plain line on stderr at every tenth of the calls, so a long run is never
silent. Nothing when the caller turned progress off (``--quiet``)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

_PLAIN_EVERY_S = 3.0  # a piped log gets a line per tenth of the calls, at most one per 3 s


class Progress:
    def __init__(self, *, total: int, enabled: bool, already_done: int = 0, simulated: bool = False,
                 spend: Callable[[], str] = lambda: "$0.0000") -> None:
        """``spend``: the run's spend so far as text (``SpendLedger.describe``: known, possibly billed
        and unknown amounts, earlier invocations of a resumed run included)."""
        self.total = total
        self.done = already_done
        self.errors = 0
        self.cache_hits = 0
        self._spend = spend
        self._bar: Any = None
        self._task: Any = None
        self._simulated = simulated
        self._plain = enabled and not sys.stdout.isatty() and total > already_done
        self._next_line = already_done + max(1, (total - already_done) // 10)
        self._last_line = time.monotonic()
        if enabled and sys.stdout.isatty():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("[bold]calls"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}/s"), TextColumn("errors {task.fields[errors]}"),
                TextColumn("cache {task.fields[hits]}"),
                TextColumn("spent {task.fields[spent]}" + (" (simulated)" if simulated else "")),
                TimeElapsedColumn(), TimeRemainingColumn(), transient=False,
            )
            self._task = self._bar.add_task("run", total=total, completed=already_done,
                                            rate="0.0", errors=0, hits=0, spent=spend())
            self._bar.start()

    def update(self, *, failed: bool, cache_hit: bool, rate: float) -> None:
        self.done += 1
        self.errors += int(failed)
        self.cache_hits += int(cache_hit)
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, rate=f"{rate:.1f}", errors=self.errors,
                             hits=self.cache_hits, spent=self._spend())
        elif self._plain and (self.done == self.total or (
                self.done >= self._next_line and time.monotonic() - self._last_line >= _PLAIN_EVERY_S)):
            self._next_line = self.done + max(1, self.total // 10)
            self._last_line = time.monotonic()
            print(self.line(rate), file=sys.stderr, flush=True)

    def line(self, rate: float) -> str:
        """The plain progress line of a piped log."""
        share = self.done / self.total if self.total else 1.0
        label = " (simulated)" if self._simulated else ""
        return (f"calls {self.done:,}/{self.total:,} ({share:.0%}), {rate:.1f}/s, errors {self.errors}, "
                f"cache {self.cache_hits}, spent {self._spend()}{label}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
