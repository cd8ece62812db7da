"""Model calls sent from forked sender processes, so a run's HTTP work uses every core.

An SDK spends milliseconds of CPU per request (building it, httpx, parsing the answer into its
models): one process tops out at a few hundred requests a second whatever the concurrency. The
run's process keeps everything that decides and records (the attempt loop, retries, rate limits,
the spend ledger, the cache and the journal) and hands only ``provider.complete(request)`` to its
senders, one per core. Each sender runs its own event loop and its own client for the same
provider object (pickled once), and answers with the same ``ModelResponse`` or ``ProviderError``
the provider would give in process, so results, retries and spend are unchanged.

The senders start before planning and import the SDKs while the run loads its cases: a small
run no longer waits for ``import openai``. They end with the run (a ``stop`` message, EOF, or
PR_SET_PDEATHSIG when the run is killed). A sender that dies fails only its calls in flight (as
connection errors, possibly billed, retried like any other); the rest go to the senders left, or
are sent in process when none is.

The first sender imports the SDKs and then forks the others, which inherit the imports.
Only providers that declare ``worker_safe = True`` are sent this way (the built-in OpenAI and
Anthropic providers); offline providers compute their answers in ``_offload``'s workers.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pickle
import socket
import struct
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

_HEADER = struct.Struct("!I")


def _frame(message: Any) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


async def _read(reader: asyncio.StreamReader) -> Any:
    """The next message, or None at EOF."""
    try:
        (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
        return pickle.loads(await reader.readexactly(size))
    except (asyncio.IncompleteReadError, ConnectionError):
        return None


def _error_message(exc: BaseException) -> tuple[str, Any]:
    """An exception as a message the parent turns back into the same exception."""
    from evalkit.providers import ProviderError

    if isinstance(exc, ProviderError):
        fields = {k: getattr(exc, k) for k in ("kind", "status", "retry_after_s", "usage", "provider", "sent",
                                                "rate_limits")}
        return "provider_error", (str(exc), fields)
    try:
        pickle.loads(pickle.dumps(exc))
        return "exception", exc
    except Exception:  # noqa: BLE001 - an exception that cannot cross: its class name and text do
        return "unpicklable", f"{type(exc).__name__}: {exc}"


class SenderError(Exception):
    """A provider raised an exception that could not be passed back from the sender as itself."""


def _as_exception(kind: str, payload: Any) -> BaseException:
    from evalkit.providers import ProviderError

    if kind == "provider_error":
        message, fields = payload
        return ProviderError(message, **fields)
    if kind == "exception":
        return payload
    return SenderError(payload)


# ---- the sender process -------------------------------------------------------------------------

def _serve(socks: list[socket.socket], runs_ends: list[socket.socket], parent: int,
           preload: list[tuple[str, dict[str, Any]]]) -> None:
    """The first sender: import the SDKs, fork the other senders (they inherit the imports, so each
    core's sender costs a fork, not another import), then serve ``socks[0]``."""
    import logging

    from evalkit._forked import become_helper, die_with

    become_helper(parent)
    # A sender shares the run's terminal: asyncio's notes about a peer that hung up are not for users.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    for end in runs_ends:  # only the run may hold its ends: EOF then means the run is gone
        end.close()
    for name, options in preload:  # the SDK imports, while the run loads and plans
        try:
            from evalkit.providers import create_provider

            prepare = getattr(create_provider(name, **options), "prepare", None)
            if prepare is not None:
                prepare()
        except Exception:  # noqa: BLE001, S110 - only a head start: the real provider comes with the calls
            pass
    me = os.getpid()
    children = []
    for k, sock in enumerate(socks[1:], 1):
        pid = os.fork()
        if pid == 0:  # another sender, for this socket only
            die_with(me)
            for other in socks[:k] + socks[k + 1:]:
                other.close()
            _serve_one(sock)
        children.append(pid)
    for sock in socks[1:]:
        sock.close()
    _serve_one(socks[0], children)


def _serve_one(sock: socket.socket, children: list[int] = ()) -> None:  # type: ignore[assignment]
    asyncio.run(_serve_loop(sock))
    for pid in children:  # the other senders end on the run's stop too
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    os._exit(0)  # nothing of the parent's (atexit handlers, buffers) runs in a sender


async def _serve_loop(sock: socket.socket) -> None:
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(_frame((-1, "ready", None)))  # the SDKs are imported: calls may come here now
    providers: dict[str, Any] = {}
    tasks: dict[int, asyncio.Task[None]] = {}

    async def answer(call_id: int, config: str, request: Any) -> None:
        try:
            response = await providers[config].complete(request)
            message: tuple[Any, ...] = (call_id, "ok", response)
        except asyncio.CancelledError:
            return
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the run's attempt loop
            message = (call_id, *_error_message(exc))
        finally:
            tasks.pop(call_id, None)
        if writer.is_closing():
            return
        try:
            writer.write(_frame(message))
        except Exception:  # noqa: BLE001 - an answer that cannot be pickled is an error in its own right
            writer.write(_frame((call_id, *_error_message(SenderError("the provider's answer could not be "
                                                                      "passed back from the sender")))))

    while True:
        message = await _read(reader)
        if message is None or message[0] == "stop":
            break
        if message[0] == "providers":
            providers.update(message[1])
            for provider in message[1].values():
                prepare = getattr(provider, "prepare", None)
                if prepare is not None:
                    prepare()
        elif message[0] == "call":
            _, call_id, config, request = message
            tasks[call_id] = asyncio.create_task(answer(call_id, config, request))
        elif message[0] == "cancel":
            task = tasks.pop(message[1], None)
            if task is not None:
                task.cancel()
    for task in list(tasks.values()):
        task.cancel()
    await asyncio.gather(*tasks.values(), return_exceptions=True)
    for provider in providers.values():
        try:
            await provider.aclose()
        except Exception:  # noqa: BLE001, S110 - closing a client at exit
            pass
    writer.close()


# ---- the run's side -----------------------------------------------------------------------------

class _Sender:
    """One sender, seen from the run: its socket, its calls in flight."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pending: dict[int, asyncio.Future[tuple[str, Any]]] = {}
        self.writer: asyncio.StreamWriter | None = None
        self.reading: asyncio.Task[None] | None = None
        self.alive = True
        self.ready = False
        """It has imported its SDKs (until then calls go to a ready sender, if there is one)."""

    async def connect(self) -> None:
        reader, self.writer = await asyncio.open_connection(sock=self.sock)
        self.reading = asyncio.create_task(self._receive(reader))

    async def _receive(self, reader: asyncio.StreamReader) -> None:
        while True:
            message = await _read(reader)
            if message is None:
                break
            call_id, kind, payload = message
            if kind == "ready":
                self.ready = True
                continue
            future = self.pending.pop(call_id, None)
            if future is not None and not future.done():
                future.set_result((kind, payload))
        self.alive = False  # the sender ended: its calls in flight fail (retried as connection errors)
        for future in self.pending.values():
            if not future.done():
                future.set_result(("lost", None))
        self.pending.clear()


class Senders:
    """The run's sender processes: ``answer`` sends one call through the least busy of them."""

    def __init__(self, preload: list[tuple[str, dict[str, Any]]], workers: int) -> None:
        import multiprocessing as mp

        self._providers: dict[str, Any] = {}
        self._ids = itertools.count()
        self._connected = False
        self.attempts = 0
        """Attempts sent through the senders (the rest of the run's were sent in process)."""
        pairs = [socket.socketpair() for _ in range(workers)]
        process = mp.get_context("fork").Process(target=_serve, daemon=True, args=(
            [theirs for _, theirs in pairs], [ours for ours, _ in pairs], os.getpid(), preload))
        process.start()
        self._process = process
        """The first sender (the others are its children, and end with it)."""
        self._senders = [_Sender(ours) for ours, _ in pairs]
        for _, theirs in pairs:
            theirs.close()

    @staticmethod
    def worker_safe(provider_name: str) -> bool:
        from evalkit.providers import provider_class

        try:
            cls = provider_class(provider_name)
        except Exception:  # noqa: BLE001 - an unknown provider is planning's error to report
            return False
        return bool(getattr(cls, "worker_safe", False)) and not getattr(cls, "offline", False)

    def attach(self, providers: Mapping[str, Any]) -> None:
        """The run's providers that its senders will serve (those that can be pickled)."""
        for name, provider in providers.items():
            if getattr(provider, "worker_safe", False) and not getattr(provider, "offline", False):
                try:
                    pickle.dumps(provider)
                except Exception:  # noqa: BLE001, S112 - a provider that cannot cross is served in process
                    continue
                self._providers[name] = provider

    async def connect(self) -> None:
        """Inside the run's event loop, before its first call: hand the senders their providers."""
        if self._connected or not self._providers:
            return
        for sender in self._senders:
            await sender.connect()
            sender.writer.write(_frame(("providers", self._providers)))  # type: ignore[union-attr]
        self._connected = True

    def handles(self, config: str) -> bool:
        return self._connected and config in self._providers and any(s.alive for s in self._senders)

    async def answer(self, config: str, request: Any) -> Any:
        alive = [s for s in self._senders if s.alive]
        sender = min((s for s in alive if s.ready), key=lambda s: len(s.pending), default=None) or \
            min(alive, key=lambda s: len(s.pending), default=None)
        if sender is None:
            return await self._providers[config].complete(request)  # every sender is gone: in process
        call_id = next(self._ids)
        self.attempts += 1
        future: asyncio.Future[tuple[str, Any]] = asyncio.get_running_loop().create_future()
        sender.pending[call_id] = future
        sender.writer.write(_frame(("call", call_id, config, request)))  # type: ignore[union-attr]
        try:
            kind, payload = await future
        except asyncio.CancelledError:  # the attempt's timeout, a stop, Ctrl-C: the sender stops it too
            sender.pending.pop(call_id, None)
            if sender.alive and sender.writer is not None and not sender.writer.is_closing():
                sender.writer.write(_frame(("cancel", call_id)))
            raise
        if kind == "ok":
            return payload
        if kind == "lost":
            from evalkit.providers import ProviderError

            raise ProviderError("the sender process ended during the call", kind="connection",
                                provider=getattr(self._providers[config], "name", ""), sent=True)
        raise _as_exception(kind, payload)

    def providers_served(self) -> set[str]:
        return set(self._providers)

    async def aclose(self) -> None:
        """Stop the senders (they serve one event loop: later calls, such as the judge's, run in process)."""
        self._providers.clear()
        for sender in self._senders:
            if sender.writer is not None and sender.alive:
                sender.writer.write(_frame(("stop",)))
                try:
                    await sender.writer.drain()
                except ConnectionError:
                    pass
            if sender.reading is not None:
                sender.reading.cancel()
            if sender.writer is not None:
                sender.writer.close()
            sender.alive = False
        self._connected = False

    def close(self) -> None:
        """End the sender processes (after ``aclose`` inside the event loop, or on their own: EOF)."""
        for sender in self._senders:
            try:
                sender.sock.close()
            except OSError:
                pass
        self._process.join(timeout=2)  # the first sender, once the others have ended
        if self._process.is_alive():
            self._process.kill()  # the others follow it (PR_SET_PDEATHSIG)
            self._process.join(timeout=2)


@contextmanager
def sender_processes(configs: Iterable[Any], *, enabled: bool = True) -> Iterator[Senders | None]:
    """Sender processes for the configurations whose providers can send from one (None when none
    can, or with one core, or without fork); they start now and import their SDKs."""
    from evalkit._forked import can_fork

    preload = [(c.provider, dict(c.options)) for c in configs if Senders.worker_safe(c.provider)]
    if not enabled or not preload or not can_fork():
        yield None
        return
    senders = Senders(preload, workers=os.cpu_count() or 2)
    try:
        yield senders
    finally:
        senders.close()
