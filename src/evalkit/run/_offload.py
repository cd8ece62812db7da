"""Offline providers whose answers are CPU work (the simulated model, the rules baseline) answer
in forked worker processes, so an offline run uses every core: the event loop keeps journaling,
caching and scheduling while the workers compute.

Such a provider offers ``answer(request)``, a pure function of the request (``complete`` awaits
the same). Answers are therefore identical inline or in a worker; a worker that fails in any way
hands the request back to the parent, which answers it inline (a real error is raised there,
with its own class, for the attempt loop to classify).
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Mapping
from typing import Any

MIN_CALLS = 200
"""Below this many calls, forking costs more than it saves."""

_WORKER_PROVIDERS: dict[str, Any] = {}
"""In a worker process only: the providers it answers for (inherited by fork, set once)."""


def _init_worker(providers: Mapping[str, Any], parent: int) -> None:
    from evalkit._forked import die_with

    _WORKER_PROVIDERS.update(providers)
    die_with(parent)


def _answer_in_worker(config: str, request: Any) -> Any:
    return _WORKER_PROVIDERS[config].answer(request)


class OffloadedAnswers:
    """A process pool for the configurations whose providers answer by computing."""

    def __init__(self, providers: Mapping[str, Any], workers: int) -> None:
        self._providers = dict(providers)
        self._workers = workers
        self._pool: Any = None
        self._broken = False

    @classmethod
    def for_providers(cls, providers: Mapping[str, Any], calls: int) -> OffloadedAnswers | None:
        """The pool for ``providers`` that compute their answers, or None when it would not pay
        (one core, no fork, few calls, no such provider)."""
        from evalkit._forked import can_fork

        computing = {name: p for name, p in providers.items()
                     if getattr(p, "offline", False) and callable(getattr(p, "answer", None))}
        if not computing or calls < MIN_CALLS or not can_fork():
            return None
        return cls(computing, workers=os.cpu_count() or 2)

    def handles(self, config: str) -> bool:
        return config in self._providers and not self._broken

    async def answer(self, config: str, request: Any) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor(), _answer_in_worker, config, request)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - answered again inline, where a real error keeps its class
            from concurrent.futures.process import BrokenProcessPool

            if isinstance(exc, BrokenProcessPool):
                self._broken = True  # a worker died (killed, out of memory): the rest is answered inline
            return self._providers[config].answer(request)

    def _executor(self) -> Any:
        if self._pool is None:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            # Without freezing, each child's garbage collector walks the inherited heap (the run's
            # planned prompts) and copy-on-write duplicates it.
            gc.freeze()
            self._pool = ProcessPoolExecutor(max_workers=self._workers, mp_context=mp.get_context("fork"),
                                             initializer=_init_worker, initargs=(self._providers, os.getpid()))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            gc.unfreeze()
