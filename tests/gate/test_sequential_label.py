"""A sequential run's dollars saved are a simulated provider's when its configurations are simulated:
the sentence CI logs, summary.md and the report print says so."""

from __future__ import annotations

from evalkit.gate._outputs import sequential_line

SEQ = {"looks": 2, "cases_done": 300, "cases_total": 3000, "stop_reason": "a gate failed", "calls_made": 300,
       "calls_full": 3000, "calls_saved": 2700, "share_of_full": 0.1, "saved_usd": 5.9073}


def test_dollars_saved_carry_the_simulated_label_only_when_simulated():
    assert "$5.9073 (estimated, simulated)" in sequential_line(SEQ, simulated=True)
    assert "$5.9073 (estimated)." in sequential_line(SEQ, simulated=False)
    assert "dollars saved: unknown" in sequential_line({**SEQ, "saved_usd": None}, simulated=True)
