"""A rich progress line (calls done, rate, errors, spend so far) that stays silent
when stdout is not a terminal (CI logs) or the caller turned it off."""

from __future__ import annotations

import sys
from typing import Any


class Progress:
    def __init__(self, *, total: int, enabled: bool, already_done: int = 0, simulated: bool = False) -> None:
        self.total = total
        self.done = already_done
        self.errors = 0
        self.cache_hits = 0
        self.spent = 0.0
        self._bar: Any = None
        self._task: Any = None
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
                TextColumn("cache {task.fields[hits]}"), TextColumn("spent ${task.fields[spent]}" + (" (simulated)" if simulated else "")),
                TimeElapsedColumn(), TimeRemainingColumn(), transient=False,
            )
            self._task = self._bar.add_task("run", total=total, completed=already_done,
                                            rate="0.0", errors=0, hits=0, spent="0.0000")
            self._bar.start()

    def update(self, *, failed: bool, cache_hit: bool, cost: float | None, rate: float) -> None:
        self.done += 1
        self.errors += int(failed)
        self.cache_hits += int(cache_hit)
        self.spent += cost or 0.0
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, rate=f"{rate:.1f}", errors=self.errors,
                             hits=self.cache_hits, spent=f"{self.spent:.4f}")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
