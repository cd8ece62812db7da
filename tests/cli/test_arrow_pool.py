"""evalkit's commands allocate arrow buffers with the C library's malloc unless the user chose a pool
(mimalloc, arrow's default, keeps freed buffers' pages: +25 MB at a 2,000-case run's peak)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = "import evalkit.cli, pyarrow as pa; print(pa.default_memory_pool().backend_name)"


@pytest.mark.parametrize(("chosen", "expected"), [(None, "system"), ("mimalloc", "mimalloc")])
def test_the_cli_uses_mallocs_pool_unless_the_user_chose_one(chosen, expected):
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if chosen is not None:
        env["ARROW_DEFAULT_MEMORY_POOL"] = chosen
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected
