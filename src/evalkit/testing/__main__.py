"""Run the loopback server in its own process (benchmarks: the client gets a core to itself).

    python -m evalkit.testing [--latency S] [--tpm N] [--tpm-burst S] [--responder echo|sim] [--memo]

Prints ``PORT <n>`` once listening; serves until killed or stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from evalkit.testing._responders import default_responder, echo_responder, memoized
from evalkit.testing._server import LoopbackServer


async def _serve(args: argparse.Namespace) -> None:
    responder = echo_responder if args.responder == "echo" else default_responder()
    if args.memo:
        responder = memoized(responder)
    srv = LoopbackServer(responder=responder, latency_s=args.latency, tpm_limit=args.tpm,
                         tpm_burst_s=args.tpm_burst, port=args.port)
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
    asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
