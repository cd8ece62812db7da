"""Child process for the SIGKILL resume test: runs ``execute`` against a loopback
server with a journal. Usage: python resume_child.py PORT RUN_DIR"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from runhelpers import make_calls, opts

from evalkit.pricing import lookup_price
from evalkit.providers._openai import OpenAIProvider
from evalkit.run._executor import execute

N_CALLS = 40


def planned():
    return make_calls(N_CALLS, tag="resume-")


async def main(port: int, run_dir: Path) -> None:
    prov = OpenAIProvider(base_url=f"http://127.0.0.1:{port}/v1")
    await execute(planned(), providers={"cfg": prov}, prices={"cfg": lookup_price("gpt-4o-mini")},
                  options=opts(concurrency=4, cache_mode="off"), run_dir=run_dir)
    await prov.aclose()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), Path(sys.argv[2])))
