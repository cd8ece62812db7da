"""Run the loopback server in its own process (benchmarks: the client gets a core to itself).

    python -m evalkit.testing [--latency S] [--tpm N] [--tpm-burst S] [--responder echo|sim] [--memo]
                              [--faults KIND[,KIND...] [--fault-rate R] [--fault-seed N]]

Prints ``PORT <n>`` once listening; serves until killed or stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from evalkit.testing._faults import FAULT_KINDS, FaultPlan
from evalkit.testing._responders import default_responder, echo_responder, memoized
from evalkit.testing._server import LoopbackServer


async def _serve(args: argparse.Namespace) -> None:
    responder = echo_responder if args.responder == "echo" else default_responder()
    if args.memo:
        responder = memoized(responder)
    faults = FaultPlan(kinds=args.faults, rate=args.fault_rate, seed=args.fault_seed) if args.faults else None
    srv = LoopbackServer(responder=responder, latency_s=args.latency, tpm_limit=args.tpm,
                         tpm_burst_s=args.tpm_burst, port=args.port, faults=faults)
    async with srv:
        print(f"PORT {srv.port}", flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)  # returns when the parent closes our stdin


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m evalkit.testing")
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
    asyncio.run(_serve(parser.parse_args()))


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in FAULT_KINDS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown fault kind(s) {', '.join(unknown)}; known: {', '.join(FAULT_KINDS)}")
    return kinds


if __name__ == "__main__":
    main()
