"""SIGTERM (``kill``, a CI job's timeout, a container stop) ending a long operation the way Ctrl-C
does: through its clean-up, not by the default action, which kills the process where it stands.

Only where SIGTERM still has its default action and only in the main thread (the only one that may
set a handler); elsewhere the block runs unchanged.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process was when it arrived: every ``except KeyboardInterrupt`` and
    ``finally`` on the way unwinds it as it does Ctrl-C. ``exit_code``: 128 + the signal (143)."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"terminated by signal {signum}")
        self.signum = signum
        self.exit_code = 128 + signum


class SigtermState:
    """What ``sigterm_raises`` saw: ``signum`` once SIGTERM arrived (else None)."""

    signum: int | None = None

    @property
    def exit_code(self) -> int | None:
        return None if self.signum is None else 128 + self.signum


@contextlib.contextmanager
def sigterm_raises(make: Callable[[int], BaseException] = Terminated) -> Iterator[SigtermState]:
    """While the block runs, SIGTERM raises ``make(signum)`` in the main thread (``Terminated`` by
    default: unwinds as Ctrl-C does). It raises once: a second SIGTERM while the first unwinds is
    noted, not raised, so the clean-up it runs through is not cut short. The default action comes
    back when the block ends. A process forked inside the block (a worker, a sender) inherits the
    handler, but SIGTERM still ends it at once, as before: its parent does the unwinding."""
    state = SigtermState()
    owner = os.getpid()
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield state
        return

    def terminate(signum: int, _frame: Any) -> None:
        if os.getpid() != owner:  # a forked helper: the default action, as if no handler were set
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        if state.signum is not None:
            return  # already unwinding
        state.signum = signum
        raise make(signum)

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield state
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
