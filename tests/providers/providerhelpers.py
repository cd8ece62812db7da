"""Helpers of the provider tests: one call sent through the run's executor until it fails for good."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evalkit.errors import RunFailed
from evalkit.pricing import lookup_price
from evalkit.run import ExecutionOptions, PlannedCall, execute


async def records_of_a_failing_call(provider: Any, request: Any, run_dir: Path, *, max_attempts: int) -> list[Any]:
    """Send ``request`` as a run's only call, which fails: the run stops (RunFailed), keeping its records;
    the provider is closed. Priced at the request model's bundled price."""
    call = PlannedCall(config="cfg", case_id="c1", segment="s", sample_index=0, request=request,
                       est_input_tokens=20, max_output_tokens=50)
    try:
        with pytest.raises(RunFailed) as stopped:
            await execute([call], providers={"cfg": provider},
                          prices={"cfg": lookup_price(request.model.split("/")[-1])}, run_dir=run_dir,
                          options=ExecutionOptions(max_attempts=max_attempts, progress=False, cache_mode="off",
                                                   timeout_s=10))
    finally:
        await provider.aclose()
    return list(stopped.value.records)
