"""Run the loopback server in its own process (benchmarks: the client gets a core to itself).

    python -m evalkit.testing [--latency S] [--tpm N] [--tpm-burst S] [--responder echo|sim] [--memo]
                              [--faults KIND[,KIND...] [--fault-rate R] [--fault-seed N]]
                              [--batch-delay S] [--batch-fail-rate R] [--batch-expire N[,N...]]
                              [--batch-refuse N] [--batch-poll-errors N] [--batch-seed N]

Serves the chat endpoints and both batch APIs (OpenAI Batch, Anthropic Message Batches; see
docs/batch.md), so batch mode can be tried offline; ``GET /_batches`` returns the batches
created, refused and cancelled. Prints ``PORT <n>`` once listening; serves until killed or
stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from evalkit.testing._batch import BatchAPIs
from evalkit.testing._faults import FAULT_KINDS, FaultPlan
from evalkit.testing._responders import default_responder, echo_responder, memoized
from evalkit.testing._server import LoopbackServer


async def _serve(args: argparse.Namespace) -> None:
    responder = echo_responder if args.responder == "echo" else default_responder()
    if args.memo:
        responder = memoized(responder)
    faults = FaultPlan(kinds=args.faults, rate=args.fault_rate, seed=args.fault_seed) if args.faults else None
    batches = BatchAPIs(delay_s=args.batch_delay, fail_rate=args.batch_fail_rate, expire=args.batch_expire,
                        seed=args.batch_seed, refuse_creates=args.batch_refuse, poll_errors=args.batch_poll_errors)
    srv = LoopbackServer(responder=responder, latency_s=args.latency, tpm_limit=args.tpm,
                         tpm_burst_s=args.tpm_burst, port=args.port, faults=faults, extensions=[batches.install])
    async with srv:
        print(f"PORT {srv.port}", flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)  # returns when the parent closes our stdin


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m evalkit.testing",
        description="An OpenAI/Anthropic-compatible loopback server with the chat endpoints and both batch APIs, "
                    "for trying evalkit (and batch mode) offline. Prints 'PORT <n>' once listening.",
        epilog="Batch mode offline: python -m evalkit.testing --port 8123 --batch-delay 5 --batch-fail-rate 0.05 "
               "--batch-expire 1, then point a suite's base_url at http://127.0.0.1:8123/v1 (openai) or "
               "http://127.0.0.1:8123 (anthropic) and run it with --batch. GET /_batches returns the counts.")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--tpm", type=float, default=None)
    parser.add_argument("--tpm-burst", type=float, default=2.0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--responder", choices=("echo", "sim"), default="echo")
    parser.add_argument("--memo", action="store_true",
                        help="answer each distinct request once, then from memory (benchmarks: after a warm-up "
                             "pass the server's brain is not what is measured)")
    parser.add_argument("--faults", type=_kinds, default=(), metavar="KIND[,KIND...]",
                        help=f"inject these faults (one drawn per faulted attempt): {', '.join(FAULT_KINDS)}")
    parser.add_argument("--fault-rate", type=float, default=1.0,
                        help="share of attempts that get a fault, by seeded hash of request and attempt (default 1)")
    parser.add_argument("--fault-seed", type=int, default=0)
    batch = parser.add_argument_group("batch APIs (OpenAI Batch, Anthropic Message Batches)")
    batch.add_argument("--batch-delay", type=_non_negative, default=0.05, metavar="S",
                       help="seconds a batch stays in progress before it ends (default 0.05)")
    batch.add_argument("--batch-fail-rate", type=_share, default=0.0, metavar="R",
                       help="share of batch lines that fail with a server error, by seeded hash (default 0)")
    batch.add_argument("--batch-expire", type=_ordinals, default=(), metavar="N[,N...]",
                       help="these batches (0-based creation order, per API) expire half-done")
    batch.add_argument("--batch-refuse", type=_count, default=0, metavar="N",
                       help="answer the first N batch creations (per API) with a 500")
    batch.add_argument("--batch-poll-errors", type=_count, default=0, metavar="N",
                       help="answer the first N status polls of each batch with a 500 (with enough of them in a row "
                            "evalkit abandons and cancels the batch)")
    batch.add_argument("--batch-seed", type=int, default=0, help="seed of which lines fail (default 0)")
    asyncio.run(_serve(parser.parse_args()))


def _non_negative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds (got {text})")
    return value


def _share(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a share from 0 to 1 (got {text})")
    return value


def _number(text: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number (got {text})")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {text})")
    return value


def _ordinals(text: str) -> tuple[int, ...]:
    return tuple(_count(x.strip()) for x in text.split(",") if x.strip())


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in FAULT_KINDS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown fault kind(s) {', '.join(unknown)}; known: {', '.join(FAULT_KINDS)}")
    return kinds


if __name__ == "__main__":
    main()
