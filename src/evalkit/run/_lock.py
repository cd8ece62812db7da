"""One process per run: ``<run>/run.lock`` holds the owner's pid, its start time and the
host, and an exclusive ``flock`` for as long as the owner lives.

A second ``evalkit run``/``--resume`` of the same run refuses with a message naming the
owner. A lock left by a killed process does not block: the kernel drops its flock when
the process dies, and a lock file whose pid is gone (or now belongs to a process started
at another time: pid reuse) is stale and taken over.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from evalkit._io import process_exists
from evalkit.errors import RunFailed

LOCK_NAME = "run.lock"


def process_start(pid: int) -> str | None:
    """The process's start time (clock ticks since boot, /proc) or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None if not process_exists(pid) else "?"
    return stat.rsplit(")", 1)[1].split()[19]  # field 22: starttime


def holder_alive(info: dict[str, object]) -> bool:
    """Does the process recorded in a lock file still run (same pid, same start time)?"""
    if info.get("host") not in (None, socket.gethostname()):
        return True  # another machine's process: cannot check, assume it runs
    try:
        pid = int(info["pid"])  # type: ignore[call-overload]
    except (KeyError, TypeError, ValueError):
        return False
    start = process_start(pid)
    return start is not None and (start == "?" or info.get("start") in (None, start))


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold the run's lock for the ``with`` block; RunFailed (exit 3) if another live
    process holds it."""
    path = Path(run_dir) / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunFailed(_busy(path, _read(fd))) from None
        info = _read(fd)
        if info and info.get("pid") != os.getpid() and holder_alive(info):
            # flock is advisory and may be absent (some network file systems): the pid check stands
            raise RunFailed(_busy(path, info))
        me = {"pid": os.getpid(), "start": process_start(os.getpid()), "host": socket.gethostname()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # kept (empty = free): unlinking would let two later runs lock different files
    finally:
        os.close(fd)


def _read(fd: int) -> dict[str, object]:
    try:
        data = os.pread(fd, 4096, 0)
        out = json.loads(data) if data.strip() else {}
        return out if isinstance(out, dict) else {}
    except (OSError, ValueError):
        return {}


def _busy(path: Path, info: dict[str, object]) -> str:
    who = f"process {info.get('pid', '?')} on {info.get('host', '?')}" if info else "another process"
    return (f"{path.parent}: this run is already being executed by {who} (lock {path}). Wait for it to finish, "
            "or stop it; a killed process's lock is released automatically.")
