"""PLACEHOLDER (to be replaced by the issue-3 executor): calls one by one, no cache, no retries."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from evalkit.pricing import ModelPrice, call_cost
from evalkit.run._records import CallRecord, ExecutionOptions, PlannedCall


async def execute(
    calls: Sequence[PlannedCall],
    *,
    providers: Mapping[str, Any],
    prices: Mapping[str, ModelPrice | None],
    options: ExecutionOptions,
    run_dir: Any = None,
    on_record: Callable[[CallRecord], None] | None = None,
) -> list[CallRecord]:
    records = []
    for call in calls:
        started = time.perf_counter()
        try:
            response = await providers[call.config].complete(call.request)
            rec = CallRecord(
                config=call.config, case_id=call.case_id, sample_index=call.sample_index,
                cache_key=call.request.cache_key(), status="ok", response=response, attempts=1,
                billed_usage=[response.usage] if response.usage else [],
                cost_usd=call_cost(response.usage, prices.get(call.config)),
                latency_s=time.perf_counter() - started,
            )
        except Exception as exc:  # noqa: BLE001 - one bad case never stops the run
            rec = CallRecord(
                config=call.config, case_id=call.case_id, sample_index=call.sample_index,
                cache_key=call.request.cache_key(), status="failed", error_class=type(exc).__name__,
                error_message=str(exc)[:500], attempts=1,
            )
        records.append(rec)
        if on_record:
            on_record(rec)
    return records
