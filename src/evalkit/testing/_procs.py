"""Processes a test or a benchmark watches, read from /proc (Linux): a run's children (its sender,
worker and chart processes) and the memory of a whole process tree."""

from __future__ import annotations

import os


def child_pids(parent: int) -> list[int]:
    """Pids whose parent is ``parent`` (every thread's children, from each process's stat line)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == parent:
                        out.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return out


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants."""
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += child_pids(pid)
    return out


def pss_kb(pid: int) -> int:
    """Proportional set size: pages shared copy-on-write with other processes count once in total.
    Reading it walks the process's page tables: sample it, never in a timed run."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            return sum(int(line.split()[1]) for line in fh if line.startswith("Pss:"))
    except (OSError, ValueError):
        return 0


def tree_pss_kb(root: int) -> int:
    return sum(pss_kb(pid) for pid in process_tree(root))
