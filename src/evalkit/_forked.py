"""CPU work split across forked worker processes that inherit the parent's state.

Planning (rendering every prompt) and scoring (the rubric's text checks) are pure Python: one
process uses one core. Forked workers inherit the task, the cases and the loaded tokenizer, so
only each chunk's result crosses the process boundary, and the results are the same as in one
process, in the same order. The parent works on chunks too while the workers run.
"""

from __future__ import annotations

import gc
import itertools
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_STATE: dict[str, Any] = {}
"""In a worker process only: the state its parent handed over (inherited by fork, set once)."""


def die_with(parent: int) -> None:
    """End this worker when its parent ends, even by kill -9 (Linux: PR_SET_PDEATHSIG); otherwise
    it would wait forever for work from a parent that is gone."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the call above took effect
        os._exit(0)


def become_helper(parent: int) -> None:
    """In a forked helper process (worker, sender, chart process): Ctrl-C is the parent's to handle
    (no helper prints a traceback), and the helper ends with its parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with(parent)


def can_fork() -> bool:
    import multiprocessing as mp

    return (os.cpu_count() or 1) >= 2 and "fork" in mp.get_all_start_methods()


def _init(state: Any, parent: int) -> None:
    _STATE["state"] = state
    become_helper(parent)


def _call(fn: Callable[[Any, Any], Any], chunk: Any) -> Any:
    return fn(_STATE["state"], chunk)


_PENDING = object()
"""A chunk whose result is still to come from its worker."""


def forked_map(fn: Callable[[Any, T], R], chunks: Sequence[T], *, state: Any, workers: int | None = None) -> list[R]:
    """``[fn(state, chunk) for chunk in chunks]``, shared between this process and forked workers.

    This process takes the first chunk, then any chunk no worker has started (from the last), so
    no core idles while another has a queue. ``fn`` must be a module-level function (it is named,
    not pickled, across the fork) with picklable results. Chunks are pickled to the workers: make
    them small (indexes into ``state``, which is inherited, not sent). A failed chunk (a worker killed, a
    result that cannot be pickled, an error) is redone here, where a real error is raised with
    its own class and message."""
    if not chunks:
        return []
    workers = max(1, min(workers if workers is not None else (os.cpu_count() or 1) - 1, len(chunks) - 1))
    if len(chunks) == 1 or not can_fork():
        return [fn(state, c) for c in chunks]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # Without freezing, each child's garbage collector walks the whole inherited heap and
    # copy-on-write duplicates it: the workers would spend their time copying.
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork"),
                                 initializer=_init, initargs=(state, os.getpid())) as pool:
            futures = [pool.submit(_call, fn, c) for c in chunks[1:]]
            out: list[Any] = [fn(state, chunks[0]), *([_PENDING] * len(futures))]
            for i in range(len(futures), 0, -1):
                if futures[i - 1].cancel():
                    out[i] = fn(state, chunks[i])
            for i, future in enumerate(futures, 1):
                if out[i] is _PENDING:
                    try:
                        out[i] = future.result()
                    except Exception:  # noqa: BLE001 - redone here: a real error surfaces with its own class
                        out[i] = fn(state, chunks[i])
    finally:
        gc.unfreeze()
    return out


def forked_imap(fn: Callable[[Any, T], R], chunks: Sequence[T], *, state: Any, workers: int | None = None,
                ahead: int | None = None) -> Iterator[R]:
    """``fn(state, chunk)`` for each chunk, in order, computed by forked workers while the caller
    consumes the results: a stream, with at most ``ahead`` chunks computed or waiting at a time, so
    memory stays bounded however many chunks there are. Same rules as ``forked_map`` (a module-level
    ``fn``, small chunks, ``state`` inherited); a failed chunk is redone here."""
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    if len(chunks) <= 1 or not can_fork():
        for chunk in chunks:
            yield fn(state, chunk)
        return
    import multiprocessing as mp
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    ahead = max(1, ahead if ahead is not None else 2 * workers)
    todo = iter(chunks)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork"), initializer=_init,
                               initargs=(state, os.getpid()))

    def submit(chunk: T) -> Any:
        try:
            return pool.submit(_call, fn, chunk)
        except Exception:  # noqa: BLE001 - a broken pool (a worker died): the chunk is computed here
            return None

    try:
        gc.freeze()  # the workers fork on the first submit (see forked_map)
        try:
            queue = deque((c, submit(c)) for c in itertools.islice(todo, ahead))
        finally:
            gc.unfreeze()
        while queue:
            chunk, future = queue.popleft()
            try:
                result = future.result() if future is not None else fn(state, chunk)
            except Exception:  # noqa: BLE001 - redone here: a real error surfaces with its own class
                result = fn(state, chunk)
            following = next(todo, _PENDING)
            if following is not _PENDING:
                queue.append((following, submit(following)))  # type: ignore[arg-type]
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # a consumer that stops early waits for no more chunks


class ForkedCall:
    """``fn(arg)`` computing in a forked child that inherits this process's state, from now until
    ``result()``: whatever ``fn`` loads (a tokenizer, a dataset) stays out of this process, and this
    process goes on meanwhile. Only the result crosses back (pickled); any failure in the child
    (killed, an error, a result that cannot be pickled) is redone here by ``result()``, where a real
    error is raised with its own class. ``fn`` must be a module-level function."""

    def __init__(self, fn: Callable[[T], R], arg: T) -> None:
        self._fn, self._arg = fn, arg
        self._pool: Any = None
        self._future: Any = None
        if not can_fork():
            return
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        gc.freeze()  # the child forks on submit (see forked_map)
        try:
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("fork"), initializer=_init,
                                             initargs=(None, os.getpid()))
            self._future = self._pool.submit(fn, arg)
        finally:
            gc.unfreeze()

    def result(self) -> Any:
        if self._future is None:
            return self._fn(self._arg)
        try:
            return self._future.result()
        except Exception:  # noqa: BLE001 - redone here: a real error surfaces with its own class
            return self._fn(self._arg)
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._future = None


def forked_call(fn: Callable[[T], R], arg: T) -> R:
    """``fn(arg)`` computed in a forked child (``ForkedCall``), waiting for it."""
    return ForkedCall(fn, arg).result()  # type: ignore[no-any-return]


def split(items: Sequence[T], parts: int) -> list[Sequence[T]]:
    """``items`` in at most ``parts`` contiguous, near-equal chunks (none empty, so none for no items)."""
    if not items:
        return []
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for k in range(parts):
        end = start + size + (1 if k < extra else 0)
        out.append(items[start:end])
        start = end
    return out
